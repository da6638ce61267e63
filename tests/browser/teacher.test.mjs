// The teacher's pages that change grades: regrading an exercise after its
// hidden tests changed (reload the course folder, open the regrade, watch it,
// apply), grading one submission again, and the late mark in the gradebook.
// Students' notebooks are handed in over HTTP; the teacher clicks.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { CORPUS, addExercise, apiClient, launch, login, newPage, shot, startServer } from "./harness.mjs";

// is_prime right for 2 and 3 only: 5/10 with the sample tests, 3.34/10 once
// test_eleven is added.
const TWO_THREE = `import marimo

app = marimo.App()


@app.function
def is_prime(n):
    return n in (2, 3)
`;
const CORRECT = fs.readFileSync(path.join(CORPUS, "correct.py"), "utf8");
const ELEVEN = `

def test_eleven():
    """11 is prime."""
    assert is_prime(11)
`;

let srv, browser, teacher, ada, bob;

before(async () => {
  srv = await startServer((course) => {
    addExercise(course, "cp1-again", { feedback: "always" });
    addExercise(course, "cp1-past", { due_at: "2020-01-01T00:00:00Z" });
  });
  srv.addUser("ada", { name: "Ada Lovelace" });
  srv.addUser("bob", { name: "Bob" });
  teacher = await apiClient(srv, "teacher", srv.teacherPassword);
  ada = await apiClient(srv, "ada");
  bob = await apiClient(srv, "bob");
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

// Change the hidden tests of `slug` in the course folder: add test_eleven.
function addEleven(slug) {
  fs.appendFileSync(path.join(srv.course, "hidden", slug, "test_cp1_functions.py"), ELEVEN);
}

// The gradebook cell of `student` for `slug`.
function cell(page, student, slug) {
  return page.locator(`#gradebook-table td:has(a[href="#/submissions?student=${student}&exercise=${slug}"])`);
}

// What newPage() recorded, less the regrade page's answer that there is no
// regrade yet (a 404 it shows as "No regrade yet.", and its console line).
function unexpected(page) {
  const expected = page.errors.some((e) => /^404 .*\/api\/exercises\/[^/]+\/regrade$/.test(e));
  return page.errors.filter((e) => !/^404 .*\/regrade$/.test(e) &&
    !(expected && /status of 404/.test(e)));
}

test("the teacher reloads changed tests, regrades the exercise, watches it and applies", async () => {
  assert.equal((await ada.graded("cp1-functions", TWO_THREE)).score, 5);
  assert.equal((await bob.graded("cp1-functions", CORRECT)).score, 10);
  addEleven("cp1-functions");

  const page = await newPage(browser);
  await login(page, srv, "teacher", srv.teacherPassword);
  await page.locator("#gradebook-table").waitFor();
  assert.equal(await cell(page, "ada", "cp1-functions").textContent(), "5");
  await page.locator("#nav").getByRole("link", { name: "Exercises" }).click();
  const row = page.locator("#exercise-table tbody tr", { hasText: "cp1-functions" });
  await row.waitFor();
  assert.equal(await row.getByRole("link", { name: "regrade", exact: true }).count(), 1);
  await page.locator("#reload").click();
  await page.locator("#reload-status", { hasText: "Reloaded" }).waitFor({ timeout: 90000 });
  assert.match(await page.locator("#reload-status").textContent(), /Hidden tests changed: cp1-functions/);
  const stale = row.getByRole("link", { name: "2 graded with old tests: regrade" });
  await stale.waitFor();
  await shot(page, "teacher-exercises-stale");
  await stale.click();

  await page.getByRole("heading", { name: "Regrade cp1-functions" }).waitFor();
  await page.locator("#regrade", { hasText: "No regrade yet." }).waitFor();
  await page.getByRole("button", { name: "Regrade what was graded with old tests" }).click();
  const bar = page.getByRole("progressbar", { name: "regrade progress" });
  await bar.waitFor();
  assert.equal(await bar.getAttribute("max"), "2");
  await page.waitForFunction(() => {
    const p = document.querySelector("#regrade progress");
    return p && p.value === p.max;
  }, null, { timeout: 90000 });
  const apply = page.getByRole("button", { name: "Apply the new scores" });
  await apply.waitFor();
  assert.match(await page.locator("#regrade").textContent(), /Status: running; 2 of 2 graded\./);
  const preview = await page.locator("#regrade tbody tr").allTextContents();
  assert.deepEqual(preview, ["adaAda Lovelace53.34", "bobBob1010"]);
  assert.equal(await page.locator("#regrade tbody tr", { hasText: "ada" }).locator("strong.error").textContent(), "3.34");
  assert.doesNotMatch(await page.locator("#regrade").textContent(), /null|undefined/);
  await shot(page, "teacher-regrade");
  await apply.click();
  await page.locator("#regrade", { hasText: "Status: applied" }).waitFor();
  assert.equal(await apply.count(), 0);

  await page.locator("#nav").getByRole("link", { name: "Gradebook" }).click();
  await page.locator("#gradebook-table").waitFor();
  assert.equal(await cell(page, "ada", "cp1-functions").textContent(), "3.34");
  assert.equal(await cell(page, "bob", "cp1-functions").textContent(), "10");
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("the teacher grades one submission again and the page follows it to the new result", async () => {
  const first = await ada.graded("cp1-again", TWO_THREE);
  assert.equal(first.score, 5);
  await teacher.post(`/api/submissions/${first.id}/override`, { score: 6, comment: "Partial credit." });
  addEleven("cp1-again");
  assert.match((await teacher.reload()).message, /Hidden tests changed: cp1-again/);

  const page = await newPage(browser);
  const seen = [];
  page.on("response", async (r) => {
    if (r.url().endsWith(`/api/submissions/${first.id}`) || r.url().endsWith(`/api/submissions/${first.id}/regrade`)) {
      seen.push((await r.json()).status);
    }
  });
  await login(page, srv, "teacher", srv.teacherPassword);
  await page.goto(`${srv.url}/#/submission/${first.id}`);
  const result = page.locator("#result .result");
  await result.waitFor();
  assert.match(await result.textContent(), /Score: 5\/10/);
  assert.equal(await page.locator("#result table.tests tbody tr").count(), 2);
  assert.match(await page.locator("#again").textContent(), /score set by hand \(6\/10\) stays in force/);
  const button = page.getByRole("button", { name: "Grade again" });
  seen.length = 0;
  await button.click();
  await page.locator("#notice.ok", { hasText: "queued to be graded again" }).waitFor();
  await page.locator("#result .result[data-status=queued], #result .result[data-status=grading]").waitFor();
  assert.equal(await button.isDisabled(), true);
  assert.equal(await page.locator("#result table.tests").count(), 0, "no old tests under the new status");
  await shot(page, "teacher-grade-again-waiting");
  const done = page.locator("#result .result[data-status=done]", { hasText: "Score: 3.34/10" });
  await done.waitFor({ timeout: 90000 });
  // The grader may claim it before the first answer is read, so "grading" is as good a
  // first word as "queued"; what matters is that the old "done" is not what came first.
  assert.ok(["queued", "grading"].includes(seen[0]), `first status seen: ${seen[0]}`);
  assert.equal(seen.at(-1), "done");
  assert.match(await page.locator("#notice.ok").textContent(), /is graded: 3.34\/10/);
  const tests = page.locator("#result table.tests tbody tr");
  assert.deepEqual(await tests.locator("code").allTextContents(), ["test_small", "test_edge", "test_eleven"]);
  assert.match(await tests.filter({ hasText: "test_eleven" }).textContent(), /fail.*0\/\d/);
  assert.match(await done.textContent(), /counts as 6\/10 \(set by your teacher\)/);
  assert.equal(await page.locator("#result > *").count(), 1, "the result and nothing else");
  assert.doesNotMatch(await page.locator("#result").textContent(), /null|undefined/);
  assert.equal(await page.getByRole("button", { name: "Grade again" }).isDisabled(), false);
  await shot(page, "teacher-grade-again");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the gradebook marks a best score handed in after the due date as late", async () => {
  const late = await ada.graded("cp1-past", CORRECT);
  assert.equal(late.late, true);
  assert.equal((await ada.graded("cp1-functions", CORRECT)).late, false);

  const page = await newPage(browser);
  await login(page, srv, "teacher", srv.teacherPassword);
  await page.locator("#gradebook-table").waitFor();
  const past = cell(page, "ada", "cp1-past");
  assert.equal(await past.textContent(), "10 late");
  assert.match(await past.getAttribute("class"), /\blate\b/);
  assert.equal(await past.locator("span.late-mark").textContent(), " late");
  assert.match(await past.locator("a").getAttribute("title"), /handed in late/);
  const onTime = cell(page, "ada", "cp1-functions");
  assert.equal(await onTime.textContent(), "10");
  assert.doesNotMatch(await onTime.getAttribute("class"), /\blate\b/);
  assert.equal(await onTime.locator("span.late-mark").count(), 0);
  assert.equal(await cell(page, "bob", "cp1-past").textContent(), "–");
  await shot(page, "teacher-gradebook-late");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
