// The class list: import a roster, reset a student's password, and links to
// the login slips, the exports and the backup.
"use strict";

const $ = (sel) => document.querySelector(sel);
let csrf = "";

function notice(text) {
  $("#notice").textContent = text || "";
}

async function call(path, options = {}) {
  const opts = { credentials: "same-origin", ...options };
  opts.headers = { ...(options.headers || {}) };
  if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
  const res = await fetch(path, opts);
  const body = (res.headers.get("Content-Type") || "").startsWith("application/json")
    ? await res.json() : null;
  return { ok: res.ok, status: res.status, body };
}

async function reset(username) {
  if (!window.confirm(`Give ${username} a new one-time password? Their own password stops working.`)) return;
  const r = await call("/api/roster/reset", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username }),
  });
  notice(r.ok ? `${username} has a new one-time password; print their slip.`
    : (r.body && r.body.error) || `The server answered ${r.status}.`);
  await load();
}

async function load() {
  const r = await call("/api/roster");
  if (!r.ok) {
    notice(r.status === 401 || r.status === 403
      ? "Log in as the teacher first, on the main page." : `The server answered ${r.status}.`);
    return;
  }
  const body = $("#students tbody");
  body.replaceChildren();
  for (const s of r.body.students) {
    const tr = document.createElement("tr");
    for (const text of [s.username, s.name, s.email,
      s.password_set ? "chosen" : `one-time: ${s.one_time_password || ""}`]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    const td = document.createElement("td");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "New password";
    b.addEventListener("click", () => reset(s.username));
    td.appendChild(b);
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

async function upload(ev) {
  ev.preventDefault();
  const file = ev.target.roster.files[0];
  const list = $("#errors");
  list.replaceChildren();
  if (!file) return;
  const r = await call("/api/roster", {
    method: "POST", headers: { "Content-Type": "text/csv" }, body: await file.text(),
  });
  if (r.ok) {
    notice(`${r.body.added} added, ${r.body.updated} updated, ${r.body.unchanged} unchanged.`);
    ev.target.reset();
  } else {
    notice((r.body && r.body.error) || `The server answered ${r.status}.`);
    for (const e of (r.body && r.body.errors) || []) {
      const li = document.createElement("li");
      li.textContent = e;
      list.appendChild(li);
    }
  }
  await load();
}

async function main() {
  const me = await call("/api/me");
  if (me.ok) csrf = me.body.csrf_token;
  $("#import").addEventListener("submit", upload);
  await load();
}

main();
