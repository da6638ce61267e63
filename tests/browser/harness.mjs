// Helpers of the browser tests: a copy of the sample course, the real
// `markbook serve` on a free loopback port, students made with `markbook user
// add`, and Debian's chromium driven by playwright-core.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CORPUS = path.join(ROOT, "tests", "corpus", "cp1-functions");
export const SHOTS = path.join(ROOT, "build", "screenshots");
export const PASSWORD = "a student password";
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

export function markbook() {
  return process.env.MARKBOOK || path.join(ROOT, "markbook");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// exercises/<slug> and hidden/<slug> of the sample course, as `slug`, with
// `extra` merged into exercise.json. Returns the course folder.
export function addExercise(course, slug, extra = {}, from = "cp1-functions") {
  const ex = path.join(course, "exercises", slug);
  fs.cpSync(path.join(ROOT, "exercises", from), ex, { recursive: true });
  fs.cpSync(path.join(ROOT, "hidden", from), path.join(course, "hidden", slug), { recursive: true });
  if (slug !== from) fs.renameSync(path.join(ex, `${from}.py`), path.join(ex, `${slug}.py`));
  const spec = JSON.parse(fs.readFileSync(path.join(ex, "exercise.json"), "utf8"));
  Object.assign(spec, { timeout_s: 10, test_timeout_s: 5 }, extra);
  fs.writeFileSync(path.join(ex, "exercise.json"), JSON.stringify(spec));
  return ex;
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `markbook-${prefix}-`));
}

export class Server {
  constructor(course, db, workers = 2) {
    this.course = course;
    this.db = db;
    this.workers = workers;
    this.output = "";
  }

  async start() {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(markbook(), ["serve", "--course", this.course, "--db", this.db,
      "--listen", `127.0.0.1:${this.port}`, "--workers", String(this.workers),
      // Fewer than the 384 a class gets: a browser holds at most a few connections, and
      // every thread makes each start and stop slower under the sanitizers.
      "--connections", "64"],
    { stdio: ["ignore", "pipe", "pipe"] });
    const collect = (d) => { this.output += d.toString(); };
    this.proc.stdout.on("data", collect);
    this.proc.stderr.on("data", collect);
    const end = Date.now() + 90000;
    while (!this.output.includes("Students open")) {
      if (this.proc.exitCode !== null) throw new Error(`markbook serve exited:\n${this.output}`);
      if (Date.now() > end) throw new Error(`markbook serve did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const m = this.output.match(/New teacher "teacher": password (\S+)/);
    this.teacherPassword = m ? m[1] : null;
    return this;
  }

  addUser(username, { role = "student", name, password = PASSWORD } = {}) {
    const args = ["user", "add", "--db", this.db, "--role", role];
    if (name) args.push("--name", name);
    const r = spawnSync(markbook(), [...args, username], { input: `${password}\n`, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`user add ${username}: ${r.stderr}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 30000);
    await done;
    clearTimeout(t);
  }
}

// A fresh course with cp1-functions (feedback at once) and a server on it.
export async function startServer(setup) {
  const dir = tempDir("browser");
  const course = path.join(dir, "course");
  addExercise(course, "cp1-functions", { feedback: "always" });
  if (setup) setup(course);
  const srv = await new Server(course, path.join(dir, "markbook.db")).start();
  srv.dir = dir;
  return srv;
}

// A logged-in API client, to set a test up without clicking: what the
// browser's fetch() would send, with the session cookie and CSRF token.
// Methods throw on an HTTP error, with the server's sentence.
export async function apiClient(srv, username, password = PASSWORD) {
  const res = await fetch(`${srv.url}/api/login`, { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password }) });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie").split(";")[0];
  const csrf = (await res.json()).csrf_token;
  const call = async (method, path, json) => {
    const headers = { Cookie: cookie, "X-CSRF-Token": csrf };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(srv.url + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    const body = await r.json();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${body.error}`);
    return body;
  };
  const wait = async (path, done, what) => {
    for (const end = Date.now() + 90000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      const x = await call("GET", path);
      if (done(x)) return x;
    }
    throw new Error(`${what} did not end in 90 s`);
  };
  return {
    get: (path) => call("GET", path),
    post: (path, json = {}) => call("POST", path, json),
    // Hand in `source` for exercise `slug` and wait until it is graded.
    async graded(slug, source) {
      const { id } = await call("POST", "/api/submissions", { exercise: slug, source });
      return wait(`/api/submissions/${id}`, (s) => s.status === "done" || s.status === "error", `grading #${id}`);
    },
    // Read the course folder again (the teacher) and wait until it is read.
    async reload() {
      const before = (await call("GET", "/api/course/reload")).reloads;
      await call("POST", "/api/course/reload", {});
      return wait("/api/course/reload", (st) => !st.reloading && st.reloads > before, "the reload");
    },
  };
}

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (run tools/install-deps.sh)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// A new browser context (its own cookies) and page, recording every dialog
// (an alert() is how an injected script would show itself), console error and
// failed request.
export async function newPage(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.dialogs = [];
  page.errors = [];
  page.on("dialog", (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/api/me")) page.errors.push(`${r.status()} ${r.url()}`);
  });
  // The start page asks for /api/me to learn whether a session exists: its
  // 401 before logging in is expected.
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 401/.test(m.text())) page.errors.push(m.text());
  });
  return page;
}

export async function login(page, srv, username, password = PASSWORD) {
  await page.goto(srv.url + "/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("#who-name").waitFor();
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
