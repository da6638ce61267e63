// Choosing a password: at first login (after the one-time password of a
// login slip) and whenever a user wants a new one.
"use strict";

const $ = (sel) => document.querySelector(sel);
let csrf = "";
let firstLogin = false;

async function main() {
  const res = await fetch("/api/me", { credentials: "same-origin" });
  if (!res.ok) {
    $("#notice").textContent = "Log in first, on the main page.";
    return;
  }
  const me = await res.json();
  csrf = me.csrf_token;
  firstLogin = me.user.must_change_password;
  $("#current-label").hidden = firstLogin;
  $("#why").hidden = !firstLogin;
  $("#choose").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    if (f.password.value !== f.again.value) {
      $("#notice").textContent = "The two passwords differ. Type them again.";
      return;
    }
    const body = { password: f.password.value };
    if (!firstLogin) body.current = f.current.value;
    const r = await fetch("/api/password", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    if (r.ok) {
      location.href = "/";
      return;
    }
    const err = await r.json().catch(() => null);
    $("#notice").textContent = (err && err.error) || `The server answered ${r.status}.`;
  });
}

main();
