// markbook's web UI, shared part: the DOM helper, API calls, the router, the
// session. student.js and teacher.js add pages with MB.page(). No framework, no
// inline script, no innerHTML: every text from a user or a submission goes in
// as a text node.
"use strict";

const MB = {
  me: null,
  csrf: "",
  pages: {},
  nav: { student: [], teacher: [] },
  timers: [],
  generation: 0,
};

const $ = (sel, root = document) => root.querySelector(sel);

// h("a", {href: "#/", class: "x", onclick: fn}, "text", child, [more]) makes an
// element. Strings become text nodes; null, undefined and false are skipped.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function notice(text, kind) {
  const n = $("#notice");
  n.textContent = text || "";
  n.className = kind || "";
}

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// Call the API; JSON in and out. Throws ApiError with the server's sentence.
async function api(path, options = {}) {
  const opts = { credentials: "same-origin", ...options };
  opts.headers = { ...(options.headers || {}) };
  if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = MB.csrf;
  if (opts.json !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError("The server cannot be reached. Check the network and try again.", 0);
  }
  const type = res.headers.get("Content-Type") || "";
  const body = type.startsWith("application/json") ? await res.json()
    : type.startsWith("text/") ? await res.text() : null;
  if (!res.ok) {
    if (res.status === 401 && path !== "/api/login") loggedOut();
    throw new ApiError((body && body.error) || `The server answered ${res.status}.`, res.status);
  }
  return body;
}

// Points as markbook keeps them, in hundredths: at most two decimals, no
// trailing zeros ("7.5", "10", "3.33"), also for sums made here.
function fmtPoints(n) {
  return n === null || n === undefined ? "–" : String(Math.round(n * 100) / 100);
}

function fmtScore(score, max) {
  return score === null || score === undefined ? "–" : `${fmtPoints(score)}/${fmtPoints(max)}`;
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit" });
}

// "in 3 h 12 min", "in 45 s", "2 days ago"
function fmtDelta(ms) {
  const past = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  let text;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min ${s % 60} s`;
  else if (s < 48 * 3600) text = `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  else text = `${Math.floor(s / 86400)} days`;
  return past ? `${text} ago` : `in ${text}`;
}

function fmtBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

// A class for a fraction of the maximum: the colour scale of the gradebook
// and the heatmap (style.css, .f0 ... .f4; .fnone when nothing is known).
function fractionClass(score, max) {
  if (score === null || score === undefined || !max) return "fnone";
  const f = score / max;
  if (f >= 1) return "f4";
  if (f >= 0.75) return "f3";
  if (f >= 0.5) return "f2";
  if (f >= 0.25) return "f1";
  return "f0";
}

function statusText(s) {
  if (s.status === "queued") return s.position ? `queued, number ${s.position} in line` : "queued";
  if (s.status === "grading") return "grading…";
  if (s.status === "done") return "graded";
  if (s.status === "error") return "could not be graded";
  return s.status;
}

// A timer that stops when the page changes.
function every(ms, fn) {
  const gen = MB.generation;
  const id = setInterval(() => {
    if (gen !== MB.generation) clearInterval(id);
    else fn();
  }, ms);
  MB.timers.push(id);
  return id;
}

function later(ms, fn) {
  const gen = MB.generation;
  const id = setTimeout(() => { if (gen === MB.generation) fn(); }, ms);
  MB.timers.push(id);
  return id;
}

// Whether the page that started an async load is still the one shown.
function current(gen) {
  return gen === MB.generation;
}

// Register a page: MB.page("gradebook", {role: "teacher", nav: "Gradebook"}, render).
// render(view, arg, query) fills `view`; it may be async.
MB.page = function (name, opts, render) {
  (MB.pages[name] = MB.pages[name] || []).push({ ...opts, render });
  if (opts.nav) {
    for (const role of opts.role ? [opts.role] : ["student", "teacher"]) {
      MB.nav[role].push({ name, label: opts.nav, order: opts.order || 50 });
    }
  }
};

// A page of its own outside the app (roster.html, slips.html), in the menu.
MB.link = function (href, opts) {
  for (const role of opts.role ? [opts.role] : ["student", "teacher"]) {
    MB.nav[role].push({ href, label: opts.nav, order: opts.order || 50 });
  }
};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const parts = path.split("/").map((p) => decodeURIComponent(p));
  return { name: parts[0] || "", arg: parts.slice(1).join("/"), query: new URLSearchParams(qs || "") };
}

async function route() {
  if (!MB.me) return;
  for (const id of MB.timers) { clearInterval(id); clearTimeout(id); }
  MB.timers = [];
  const gen = ++MB.generation;
  let { name, arg, query } = parseHash();
  if (!name) name = MB.me.role === "teacher" ? "gradebook" : "exercises";
  if (MB.me.must_change_password) name = "password";
  const page = (MB.pages[name] || []).find((p) => !p.role || p.role === MB.me.role);
  const view = $("#view");
  view.replaceChildren();
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!page) {
    view.append(h("h1", {}, "Not found"), h("p", {}, "There is no such page. ",
      h("a", { href: "#/" }, "Go to the start page.")));
    return;
  }
  notice("");
  try {
    await page.render(view, arg, query, gen);
  } catch (e) {
    if (current(gen)) notice(e.message, "error");
  }
}

function buildNav() {
  const nav = $("#nav");
  nav.replaceChildren();
  const items = [...MB.nav[MB.me.role]].sort((a, b) => a.order - b.order)
    .filter((it) => !MB.me.must_change_password || it.name === "password");
  for (const it of items) nav.append(h("a", { href: it.href || `#/${it.name}`, "data-page": it.name }, it.label));
  nav.hidden = false;
}

function start(user, token) {
  MB.me = user;
  MB.csrf = token;
  $("#who-name").textContent = user.name && user.name !== user.username
    ? `${user.name} (${user.username})` : user.username;
  $("#who").hidden = false;
  $("#login").hidden = true;
  document.body.dataset.role = user.role;
  buildNav();
  route();
}

function loggedOut() {
  MB.me = null;
  MB.generation++;
  $("#view").replaceChildren();
  $("#nav").hidden = true;
  $("#who").hidden = true;
  $("#login").hidden = false;
  notice("Your session has ended. Log in again.", "error");
  $("#login-username").focus();
}

// A table from column headings and rows of cells (strings or nodes).
function table(headings, rows, attrs) {
  return h("div", { class: "scroll" }, h("table", attrs || {},
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => r instanceof Node ? r : h("tr", {}, r.map((c) => h("td", {}, c)))))));
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    try {
      const r = await api("/api/login", { method: "POST",
        json: { username: form.get("username"), password: form.get("password") } });
      ev.target.reset();
      notice("");
      start(r.user, r.csrf_token);
    } catch (e) {
      notice(e.message, "error");
    }
  });
  $("#logout").addEventListener("click", async () => {
    try {
      await api("/api/logout", { method: "POST" });
    } finally {
      location.hash = "";
      location.reload();
    }
  });
  window.addEventListener("hashchange", route);
  api("/api/me")
    .then((r) => start(r.user, r.csrf_token))
    .catch(() => {
      notice("");
      $("#login").hidden = false;
      $("#login-username").focus();
    });
});
