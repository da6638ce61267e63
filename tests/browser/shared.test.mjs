// The teacher sees which exercises run in `shared` isolation, where a
// student can fake their results: a mark and the server's sentence on the
// exercise list and on the health page, and nothing on the others.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { addExercise, launch, login, newPage, shot, startServer } from "./harness.mjs";

const RISK = /students can fake their results in this exercise/;

let srv, browser;

before(async () => {
  srv = await startServer((course) => addExercise(course, "cp1-shared", { isolation: "shared" }));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test("the exercise list and the health page mark the shared exercise, and only it", async () => {
  const page = await newPage(browser);
  await login(page, srv, "teacher", srv.teacherPassword);
  await page.locator("#nav").getByRole("link", { name: "Exercises" }).click();
  const shared = page.locator("#exercise-table tbody tr", { hasText: "cp1-shared" });
  const other = page.locator("#exercise-table tbody tr", { hasText: "cp1-functions" });
  await shared.waitFor();
  const mark = shared.locator("p.shared");
  assert.equal(await mark.locator(".badge").textContent(), "shared");
  assert.match(await mark.textContent(), RISK);
  assert.equal(await other.locator("p.shared").count(), 0);
  await shot(page, "exercises-shared");

  await page.locator("#nav").getByRole("link", { name: "Health" }).click();
  const dd = page.locator("#health-shared");
  await dd.waitFor();
  assert.equal(await dd.locator("code").allTextContents().then((t) => t.join(",")), "cp1-shared");
  assert.match(await dd.textContent(), RISK);
  await shot(page, "health-shared");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.dialogs, []);
});
