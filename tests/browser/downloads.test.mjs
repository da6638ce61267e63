// A student downloads an exercise's data files, those in subfolders named by
// the path the notebook reads them from (data/canucks.csv), and sees the
// loader's advice beside the score of a notebook whose function sits in a cell.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { ROOT, apiClient, launch, login, newPage, shot, startServer } from "./harness.mjs";

const HOCKEY = path.join(ROOT, "tests", "corpus", "staging-course");
let srv, browser;

before(async () => {
  srv = await startServer((course) => {
    for (const part of ["exercises", "hidden"]) {
      fs.cpSync(path.join(HOCKEY, part, "hockey"), path.join(course, part, "hockey"), { recursive: true });
    }
  });
  srv.addUser("ada");
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test("data files in a subfolder are listed by their path and download by their name", async () => {
  const page = await newPage(browser);
  await login(page, srv, "ada");
  await page.goto(`${srv.url}/#/exercise/hockey`);
  await page.getByRole("heading", { name: /The hockey roster/ }).waitFor();
  const link = page.getByRole("link", { name: "data/canucks.csv" });
  assert.equal(await link.getAttribute("href"), "/exercises/hockey/data/canucks.csv");
  // The html-wasm export and the teacher's dot file are not data.
  assert.equal(await page.locator(".downloads li").count(), 2);
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  assert.equal(download.suggestedFilename(), "canucks.csv");
  assert.equal(fs.readFileSync(await download.path(), "utf8"),
    fs.readFileSync(path.join(HOCKEY, "exercises", "hockey", "data", "canucks.csv"), "utf8"));
  await shot(page, "student-exercise-data-folder");
  assert.deepEqual([page.dialogs, page.errors], [[], []]);
});

test("the advice on a function found in a cell is shown beside a full score", async () => {
  const ada = await apiClient(srv, "ada");
  const inCell = fs.readFileSync(path.join(ROOT, "tests", "corpus", "cp1-functions", "function_in_cell.py"), "utf8");
  const s = await ada.graded("cp1-functions", inCell);
  assert.equal(s.score, 10);
  const page = await newPage(browser);
  await login(page, srv, "ada");
  await page.goto(`${srv.url}/#/submission/${s.id}`);
  const message = page.locator("pre.message", { hasText: "is_prime ran inside a cell" });
  await message.waitFor();
  assert.match(await message.textContent(), /Make is_prime a top-level function \(marimo: @app\.function\)/);
  await shot(page, "student-submission-advice");
  assert.deepEqual([page.dialogs, page.errors], [[], []]);
});
