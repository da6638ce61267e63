// Login slips: every student with a one-time password, and the address to open.
"use strict";

const $ = (sel) => document.querySelector(sel);

function slip(student, url) {
  const div = document.createElement("div");
  div.className = "slip";
  const h = document.createElement("h2");
  h.textContent = student.name || student.username;
  div.appendChild(h);
  const dl = document.createElement("dl");
  for (const [term, value] of [["Open", url], ["Username", student.username],
    ["Password", student.one_time_password]]) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.field = term.toLowerCase();
    dl.append(dt, dd);
  }
  div.appendChild(dl);
  const p = document.createElement("p");
  p.textContent = "Log in, then choose your own password. This one works only once.";
  div.appendChild(p);
  return div;
}

function render(students) {
  const url = $("#url").value;
  const box = $("#slips");
  box.replaceChildren();
  for (const s of students) box.appendChild(slip(s, url));
}

async function main() {
  const res = await fetch("/api/roster", { credentials: "same-origin" });
  if (res.status === 401 || res.status === 403) {
    $("#notice").textContent = "Log in as the teacher first, on the main page.";
    return;
  }
  if (!res.ok) {
    $("#notice").textContent = `The server answered ${res.status}. Reload the page.`;
    return;
  }
  const data = await res.json();
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
  $("#url").value = !loopback || data.urls.length === 0 ? `${location.origin}/` : data.urls[0];
  const waiting = data.students.filter((s) => s.one_time_password);
  $("#notice").textContent = waiting.length
    ? `${waiting.length} slip${waiting.length === 1 ? "" : "s"}.`
    : "Every student has chosen a password: there is no slip to print.";
  render(waiting);
  $("#url").addEventListener("input", () => render(waiting));
  $("#print").addEventListener("click", () => window.print());
}

main();
