// A student logs in, downloads the scaffold, is refused wrong files before
// anything is sent, hands in notebooks by file picker and by drag-and-drop,
// watches them being graded and reads the feedback; then the teacher sees the
// score in the gradebook, downloads the CSV, and a hostile name stays text.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { CORPUS, ROOT, launch, login, newPage, shot, startServer } from "./harness.mjs";

const XSS = "<img src=x onerror=alert(1)>";
let srv, browser;

before(async () => {
  srv = await startServer();
  srv.addUser("ada", { name: "Ada Lovelace" });
  srv.addUser("mallory", { name: XSS });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

// POSTs to /api/submissions the page sent.
function countUploads(page) {
  const sent = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/api/submissions")) sent.push(r);
  });
  return sent;
}

test("a student hands in a notebook and reads the per-test feedback", async () => {
  const page = await newPage(browser);
  const uploads = countUploads(page);
  await login(page, srv, "ada");
  const row = page.locator("#exercise-list tbody tr", { hasText: "Checkpoint 1" });
  await row.waitFor();
  assert.match(await row.textContent(), /not handed in/);
  await shot(page, "student-exercises");

  await row.getByRole("link").click();
  await page.getByRole("heading", { name: "Checkpoint 1: functions (is_prime)" }).waitFor();

  const [download] = await Promise.all([page.waitForEvent("download"),
    page.getByRole("link", { name: "cp1-functions.py" }).click()]);
  assert.equal(download.suggestedFilename(), "cp1-functions.py");
  assert.equal(fs.readFileSync(await download.path(), "utf8"),
    fs.readFileSync(path.join(ROOT, "exercises", "cp1-functions", "cp1-functions.py"), "utf8"));

  const picker = page.getByLabel(/Choose your notebook/);
  const status = page.locator("#pick-status");
  const send = page.getByRole("button", { name: "Hand in" });
  await picker.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("x = 1\n") });
  await assert.doesNotReject(status.filter({ hasText: "is not a .py file" }).waitFor());
  assert.equal(await send.isDisabled(), true);
  await picker.setInputFiles({ name: "latin1.py", mimeType: "text/x-python",
    buffer: fs.readFileSync(path.join(CORPUS, "not_utf8.py")) });
  await status.filter({ hasText: "is not UTF-8" }).waitFor();
  assert.equal(await send.isDisabled(), true);
  await picker.setInputFiles({ name: "huge.py", mimeType: "text/x-python",
    buffer: Buffer.alloc(1024 * 1024 + 1, "#") });
  await status.filter({ hasText: "the limit is 1 MiB" }).waitFor();
  assert.equal(await send.isDisabled(), true);
  await shot(page, "student-refusal");
  assert.equal(uploads.length, 0, "a refused file must not be sent");

  // By file picker: half right. Live status until graded, then the tests.
  const seen = [];
  page.on("response", async (r) => {
    if (/\/api\/submissions\/\d+$/.test(r.url())) seen.push((await r.json()).status);
  });
  await picker.setInputFiles(path.join(CORPUS, "partly_right.py"));
  await status.filter({ hasText: "Ready to hand in: partly_right.py" }).waitFor();
  await send.click();
  const live = page.locator("#live .result[data-status=done]");
  await live.waitFor({ timeout: 60000 });
  assert.equal(uploads.length, 1);
  assert.ok(seen.length >= 1 && seen.at(-1) === "done", `statuses seen: ${seen}`);
  assert.match(await page.locator("#live").textContent(), /Score: 5\/10/);
  const tests = page.locator("#live table.tests tbody tr");
  assert.equal(await tests.count(), 2);
  const small = tests.filter({ hasText: "test_small" });
  const edge = tests.filter({ hasText: "test_edge" });
  assert.match(await small.textContent(), /Small numbers: 2 and 3 are prime.*pass.*5\/5/);
  assert.match(await edge.textContent(), /Edge cases.*fail.*0\/5/);
  assert.match(await edge.locator("pre.message").textContent(), /assert/);
  assert.match(await page.locator("#live tfoot").textContent(), /Total\s*5\/10/);
  await shot(page, "student-feedback");

  // By drag-and-drop: all right. It becomes the best one in the history.
  const source = fs.readFileSync(path.join(CORPUS, "correct.py"), "utf8");
  const dt = await page.evaluateHandle((text) => {
    const t = new DataTransfer();
    t.items.add(new File([text], "correct.py", { type: "text/x-python" }));
    return t;
  }, source);
  await page.dispatchEvent("#drop", "dragenter", { dataTransfer: dt });
  await page.dispatchEvent("#drop", "drop", { dataTransfer: dt });
  await status.filter({ hasText: "Ready to hand in: correct.py" }).waitFor();
  await send.click();
  await page.locator("#live .result[data-status=done]", { hasText: "Score: 10/10" }).waitFor({ timeout: 60000 });
  const best = page.locator("#history tr.best");
  await best.filter({ hasText: "10/10" }).waitFor();
  assert.equal(await best.count(), 1);
  assert.match(await best.textContent(), /best/);
  assert.equal(await page.locator("#history tbody tr").count(), 2);
  assert.equal(await page.locator("#best").textContent(), "10/10");
  await shot(page, "student-exercise");

  await page.locator("#nav").getByRole("link", { name: "Exercises" }).click();
  await page.locator("#exercise-list tbody tr", { hasText: "full marks" }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the teacher sees the score, downloads the CSV, and a hostile name stays text", async () => {
  const page = await newPage(browser);
  await login(page, srv, "teacher", srv.teacherPassword);
  const table = page.locator("#gradebook-table");
  await table.waitFor();
  const ada = table.locator("tbody tr", { hasText: "Ada Lovelace" });
  assert.equal(await ada.locator("td.cell").first().textContent(), "10");
  const mallory = table.locator("tbody tr", { hasText: XSS });
  assert.equal(await mallory.count(), 1, "the name shows as text");
  assert.equal(await page.locator("#view img").count(), 0, "no element made from the name");
  await shot(page, "teacher-gradebook");

  const [download] = await Promise.all([page.waitForEvent("download"),
    page.getByRole("link", { name: /Download grades\.csv/ }).click()]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  assert.match(csv, /^.*cp1-functions/m);
  assert.match(csv, /ada,Ada Lovelace,.*10/);

  await ada.locator("td.cell a").first().click();
  await page.locator("table.history tbody tr").first().waitFor();
  assert.equal(await page.locator("table.history tbody tr").count(), 2);
  await page.locator("table.history tbody tr.best a").click();
  await page.getByRole("heading", { name: /Submission #\d+/ }).waitFor();
  await page.locator("ol.source li").first().waitFor();
  assert.match(await page.locator("ol.source").textContent(), /def is_prime/);
  await shot(page, "teacher-submission");
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the student pages fit a 360 px wide phone", async () => {
  const page = await newPage(browser, { width: 360, height: 740 });
  await login(page, srv, "ada");
  await page.locator("#exercise-list tbody tr").first().waitFor();
  await page.locator("#exercise-list a").first().click();
  await page.locator("#history table").waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width} px wide`);
  await shot(page, "student-exercise-360px");
  await page.context().close();
});

test("the teacher's dashboard, exercises and health pages, and the gradebook by keyboard", async () => {
  const page = await newPage(browser, { width: 1920, height: 1080 });
  await login(page, srv, "teacher", srv.teacherPassword);
  await page.locator("#gradebook-table").waitFor();
  // Sort by total with the keyboard: focus the heading's button, press Enter.
  await page.locator("#gradebook-table button.sort[data-key=total]").focus();
  await page.keyboard.press("Enter");
  assert.equal(await page.locator("#gradebook-table th[aria-sort]").getAttribute("aria-sort"), "descending");
  assert.match(await page.locator("#gradebook-table tbody tr").first().textContent(), /ada/);
  await page.getByLabel("Filter").fill("mall");
  assert.equal(await page.locator("#gradebook-table tbody tr").count(), 1);
  await shot(page, "teacher-gradebook-projector");

  await page.locator("#nav").getByRole("link", { name: "Dashboard" }).click();
  const small = page.locator("#heatmap .heatcell", { hasText: "test_small" });
  await small.waitFor();
  assert.match(await small.textContent(), /100%\s*1\/1/);
  assert.equal(await page.locator("#tile-queue .big").textContent(), "0");
  assert.match(await page.locator("#tile-uploads").textContent(), /^2\s*uploads in the last 10 minutes/);
  await shot(page, "teacher-dashboard");

  await page.locator("#nav").getByRole("link", { name: "Exercises" }).click();
  const ex = page.locator("#exercise-table tbody tr", { hasText: "cp1-functions" });
  await ex.waitFor();
  assert.match(await ex.textContent(), /published/);
  await shot(page, "teacher-exercises");

  await page.locator("#nav").getByRole("link", { name: "Health" }).click();
  await page.locator("#health").waitFor();
  const health = await page.locator("#health").textContent();
  assert.match(health, /Sandbox self-test\s*ok/);
  assert.match(health, /Disk space left\s*[\d.]+ (GiB|MiB|TiB)/);
  assert.match(health, /Database\s*ok [\d.]+ (KiB|MiB)/);
  assert.match(health, /Limits per submission\s*(cgroup v[12], (tmpfs|measured)|total not bounded)/);
  assert.match(health, /Memory and processes: /);
  await shot(page, "teacher-health");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the teacher sets a score by hand and the student reads the comment", async () => {
  const page = await newPage(browser);
  await login(page, srv, "teacher", srv.teacherPassword);
  await page.locator("#gradebook-table").waitFor();
  await page.locator("#nav").getByRole("link", { name: "Submissions" }).click();
  const first = page.locator("table.history tbody tr", { hasText: "5/10" });
  await first.getByRole("link").click();
  await page.getByLabel(/^Score/).fill("7.5");
  await page.getByLabel("Comment for the student").fill("Good idea for negatives <b>see me</b>");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#notice.ok").waitFor();
  await page.locator("#override", { hasText: "Set to 7.5/10" }).waitFor();
  await page.context().close();

  const st = await newPage(browser);
  await login(st, srv, "ada");
  await st.locator("#exercise-list a").first().click();
  await st.locator("#history table").waitFor();
  await st.locator("#history tbody tr", { hasText: "5/10" }).getByRole("link").click();
  const result = st.locator(".result");
  await result.waitFor();
  assert.match(await result.textContent(), /counts as 7.5\/10 \(set by your teacher\)/);
  assert.match(await st.locator(".override").textContent(), /Good idea for negatives <b>see me<\/b>/);
  assert.equal(await st.locator(".override b").count(), 0);
  await shot(st, "student-override");
  assert.deepEqual(st.errors, []);
  await st.context().close();
});
