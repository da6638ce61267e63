// Student pages: the list of exercises, one exercise (downloads, hand-in, live
// status, history), one submission's feedback, and the password page (which
// the teacher uses too).
"use strict";

const UPLOAD_MAX = 1024 * 1024;	// GRADER_SUBMISSION_MAX in the server
const COUNTDOWN_MS = 48 * 3600 * 1000;	// show a countdown this close to the due date

// "due in 3 h 12 min" close to the due date, the date otherwise.
function dueNode(due) {
  if (!due) return h("span", { class: "muted" }, "no due date");
  const span = h("span", { class: "due" });
  const update = () => {
    const left = new Date(due) - Date.now();
    span.textContent = "";
    span.className = "due";
    if (left < 0) {
      span.append(fmtTime(due), h("span", { class: "badge closed" }, "past due"));
    } else if (left < COUNTDOWN_MS) {
      span.classList.add("soon");
      span.append(fmtTime(due), " ", h("strong", { class: "countdown" }, fmtDelta(left)));
    } else {
      span.append(fmtTime(due));
    }
  };
  update();
  if (new Date(due) - Date.now() < COUNTDOWN_MS) every(1000, update);
  return span;
}

// Newest submission and best graded one per exercise, from a list newest first.
function summarise(subs) {
  const by = {};
  for (const s of subs) {
    const e = (by[s.exercise] = by[s.exercise] || { latest: s, best: null, count: 0 });
    e.count++;
    if (s.status === "done" && s.score !== null && (!e.best || s.score >= e.best.score)) e.best = s;
  }
  return by;
}

function exerciseStatus(ex, sum) {
  if (!sum) return h("span", { class: "muted" }, "not handed in");
  const l = sum.latest;
  if (l.status === "queued" || l.status === "grading") return h("span", { class: "badge busy" }, statusText(l));
  if (sum.best && sum.best.score >= ex.max_points) return h("span", { class: "badge full" }, "full marks");
  if (l.status === "error") return h("span", { class: "badge fail" }, "could not be graded");
  return h("span", {}, `${sum.count} handed in`);
}

MB.page("exercises", { role: "student", nav: "Exercises", order: 10 }, async (view, _arg, _q, gen) => {
  const [list, subs] = await Promise.all([api("/api/exercises"), api("/api/submissions")]);
  if (!current(gen)) return;
  const sums = summarise(subs);
  view.append(h("h1", {}, "Exercises"));
  if (!list.length) {
    view.append(h("p", {}, "Your teacher has not published any exercise yet."));
    return;
  }
  const rows = list.map((ex) => h("tr", {},
    h("td", {}, h("a", { href: `#/exercise/${encodeURIComponent(ex.slug)}` }, ex.title || ex.slug)),
    h("td", { "data-label": "Phase" }, ex.phase === 1 ? "1 · in class" : "2 · at home"),
    h("td", { "data-label": "Due" }, dueNode(ex.due_at)),
    h("td", { "data-label": "Best", class: `score ${fractionClass(ex.best_score, ex.max_points)}` },
      fmtScore(ex.best_score, ex.max_points)),
    h("td", { "data-label": "Status" }, exerciseStatus(ex, sums[ex.slug]))));
  view.append(h("div", { class: "scroll" }, h("table", { class: "cards", id: "exercise-list" },
    h("thead", {}, h("tr", {}, ["Exercise", "Phase", "Due", "Best", "Status"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows))));
});

// Why a file cannot be handed in, or "" when the browser sees nothing wrong.
async function refusal(file) {
  if (!/\.py$/i.test(file.name)) {
    return `"${file.name}" is not a .py file. In marimo, save the notebook and upload the .py file it writes.`;
  }
  if (file.size > UPLOAD_MAX) {
    return `"${file.name}" is ${fmtBytes(file.size)}; the limit is 1 MiB. Clear the notebook's outputs or remove large data from it, then upload again.`;
  }
  if (file.size === 0) return `"${file.name}" is empty. Save the notebook in marimo, then upload it.`;
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    return `"${file.name}" is not UTF-8 text. Save it from marimo as a .py file and upload that.`;
  }
  if (bytes.includes(0)) return `"${file.name}" contains a NUL byte, so it is not a notebook. Save it from marimo as a .py file.`;
  return "";
}

// The per-test table of a graded submission. The teacher also sees outcome and traceback.
function testsTable(s) {
  const teacher = MB.me.role === "teacher";
  const rows = s.tests.map((t) => h("tr", { class: t.passed ? "passed" : "failed" },
    h("td", { "data-label": "Test" }, h("code", {}, t.name)),
    h("td", { "data-label": "What it checks" }, t.description || h("span", { class: "muted" }, "(no description)")),
    h("td", { "data-label": "Result" }, h("span", { class: t.passed ? "badge pass" : "badge fail" },
      t.passed ? "pass" : teacher && t.outcome && t.outcome !== "failed" ? t.outcome : "fail")),
    h("td", { "data-label": "Points", class: "num" }, fmtScore(t.points, t.max_points)),
    h("td", { "data-label": "Why" },
      t.message ? h("pre", { class: "message" }, t.message) : null,
      teacher && t.detail ? h("details", {}, h("summary", {}, "Traceback"), h("pre", {}, t.detail)) : null)));
  return h("div", { class: "scroll" }, h("table", { class: "tests cards" },
    h("thead", {}, h("tr", {}, ["Test", "What it checks", "Result", "Points", "Why"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 3 }, "Total"),
      h("td", { class: "num total" }, fmtScore(s.score, s.max_points)), h("td", {})))));
}

// What a student sees of one submission: status, score, message, tests.
function resultNode(s) {
  const box = h("div", { class: "result", "data-status": s.status });
  const head = h("p", { class: "result-head" },
    h("span", { class: `badge ${s.status === "done" ? "done" : s.status === "error" ? "fail" : "busy"}` }, statusText(s)));
  if (s.status === "done") {
    head.append(" ", h("strong", { class: `score big ${fractionClass(s.score, s.max_points)}` },
      `Score: ${fmtScore(s.score, s.max_points)}`));
  }
  if (s.late) head.append(" ", h("span", { class: "badge late" }, s.days_late ? `late, ${s.days_late} day${s.days_late === 1 ? "" : "s"}` : "late"));
  if (s.status === "done" && s.final_score !== undefined && s.final_score !== null && s.final_score !== s.score) {
    head.append(" ", h("span", { class: "counts" }, `counts as ${fmtScore(s.final_score, s.max_points)}`,
      s.override ? " (set by your teacher)" : " (after the late penalty)"));
  }
  box.append(head);
  if (s.override && s.override.comment) {
    box.append(h("p", { class: "override" }, "Your teacher set this score by hand: ", s.override.comment));
  }
  if (s.message) box.append(h("pre", { class: "message" }, s.message));
  if (s.tests && s.tests.length) box.append(testsTable(s));
  return box;
}

function historyTable(subs) {
  const sums = summarise(subs);
  const best = Object.values(sums).map((x) => x.best && x.best.id);
  const teacher = MB.me.role === "teacher";
  const rows = subs.map((s) => h("tr", { class: best.includes(s.id) ? "best" : null },
    h("td", { "data-label": "#" }, h("a", { href: `#/submission/${s.id}` }, `#${s.id}`)),
    teacher ? h("td", { "data-label": "Student" }, s.student) : null,
    teacher ? h("td", { "data-label": "Exercise" }, s.exercise) : null,
    h("td", { "data-label": "Handed in" }, fmtTime(s.created_at)),
    h("td", { "data-label": "Status" }, statusText(s), s.late ? h("span", { class: "badge late" }, "late") : null),
    h("td", { "data-label": "Score", class: `score ${s.status === "done" ? fractionClass(s.score, s.max_points) : ""}` },
      fmtScore(s.score, s.max_points),
      best.includes(s.id) ? h("span", { class: "badge best", title: "This one counts" }, "★ best") : null)));
  return h("div", { class: "scroll" }, h("table", { class: "history cards" },
    h("thead", {}, h("tr", {}, ["#", teacher ? "Student" : null, teacher ? "Exercise" : null, "Handed in", "Status", "Score"]
      .filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

MB.historyTable = historyTable;
MB.resultNode = resultNode;

MB.page("exercise", { role: "student" }, async (view, slug, _q, gen) => {
  const list = await api("/api/exercises");
  if (!current(gen)) return;
  const ex = list.find((e) => e.slug === slug);
  if (!ex) {
    view.append(h("h1", {}, "No such exercise"), h("p", {}, h("a", { href: "#/" }, "Back to the exercises")));
    return;
  }
  view.append(h("p", { class: "crumbs" }, h("a", { href: "#/exercises" }, "Exercises"), " › ", ex.slug));
  view.append(h("h1", {}, ex.title || ex.slug));
  const feedback = ex.feedback === "always" ? "You see why a test failed at once."
    : ex.feedback === "never" ? "You see which tests passed, not why they failed."
      : "You see why a test failed once the due date has passed.";
  view.append(h("dl", { class: "facts" },
    h("dt", {}, "Phase"), h("dd", {}, ex.phase === 1 ? "1, in class" : "2, at home"),
    h("dt", {}, "Due"), h("dd", {}, dueNode(ex.due_at)),
    h("dt", {}, "Points"), h("dd", {}, fmtPoints(ex.max_points)),
    h("dt", {}, "Best so far"), h("dd", { id: "best" }, fmtScore(ex.best_score, ex.max_points)),
    h("dt", {}, "Feedback"), h("dd", {}, feedback)));

  const dl = h("section", { class: "card", "aria-labelledby": "dl-h" }, h("h2", { id: "dl-h" }, "1. Download"),
    h("p", {}, "Open the notebook in marimo (", h("code", {}, `marimo edit ${ex.slug}.py`), "), keep its data files beside it (in the folders their names show)."),
    h("ul", { class: "downloads" },
      h("li", {}, h("a", { class: "button", href: ex.scaffold, download: `${ex.slug}.py` }, `${ex.slug}.py`), " the notebook"),
      (ex.data_files || []).map((f) => {
        // The path beside the notebook: data/canucks.csv goes in a folder data/.
        const rel = decodeURIComponent(f.slice(`/exercises/${ex.slug}/`.length));
        return h("li", {}, h("a", { class: "button secondary", href: f, download: rel.split("/").pop() }, rel), " data");
      })));
  if (ex.practice) {
    dl.append(h("p", {}, h("a", { class: "button secondary", href: ex.practice, target: "_blank", rel: "noopener" },
      "Practice in the browser"), " runs the notebook in your browser; nothing there is handed in."));
  }
  view.append(dl);

  const picked = { file: null };
  const status = h("p", { id: "pick-status", class: "pick-status", "aria-live": "polite" }, "No file chosen yet.");
  const input = h("input", { id: "notebook-file", type: "file", accept: ".py,text/x-python", class: "file" });
  const send = h("button", { type: "submit", class: "primary", disabled: true }, "Hand in");
  const live = h("div", { id: "live", "aria-live": "polite" });
  const drop = h("div", { class: "drop", id: "drop" },
    h("label", { for: "notebook-file" }, "Choose your notebook (.py, at most 1 MiB)"), input,
    h("p", { class: "muted" }, "or drag the file and drop it here."), status);

  async function choose(file) {
    picked.file = null;
    send.disabled = true;
    drop.classList.remove("bad", "good");
    const why = await refusal(file);
    if (why) {
      status.textContent = why;
      drop.classList.add("bad");
      return;
    }
    picked.file = file;
    status.textContent = `Ready to hand in: ${file.name} (${fmtBytes(file.size)}).`;
    drop.classList.add("good");
    send.disabled = false;
  }
  input.addEventListener("change", () => { if (input.files[0]) choose(input.files[0]); });
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) choose(f).then(() => { if (!send.disabled) send.focus(); });
  });

  const history = h("div", { id: "history" });
  async function loadHistory() {
    const subs = await api(`/api/submissions?exercise=${encodeURIComponent(ex.slug)}`);
    if (!current(gen)) return subs;
    history.replaceChildren(subs.length ? historyTable(subs) : h("p", { class: "muted" }, "Nothing handed in yet."));
    const best = Object.values(summarise(subs))[0];
    $("#best").textContent = fmtScore(best && best.best ? best.best.score : null, ex.max_points);
    return subs;
  }

  // Follow one submission until it is graded, without reloading the page.
  async function follow(id) {
    let s;
    try {
      s = await api(`/api/submissions/${id}`);
    } catch (e) {
      if (current(gen)) live.replaceChildren(h("p", { class: "error" }, e.message));
      return;
    }
    if (!current(gen)) return;
    live.replaceChildren(h("h3", {}, `Submission #${s.id}`), resultNode(s));
    if (s.status === "queued" || s.status === "grading") later(1000, () => follow(id));
    else loadHistory();
  }

  const form = h("form", { class: "card", id: "upload", "aria-labelledby": "up-h" },
    h("h2", { id: "up-h" }, "2. Hand in"), drop, send, live);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!picked.file) return;
    const fd = new FormData();
    fd.append("exercise", ex.slug);
    fd.append("notebook", picked.file, picked.file.name);
    send.disabled = true;
    status.textContent = `Sending ${picked.file.name}…`;
    try {
      const r = await api("/api/submissions", { method: "POST", body: fd });
      status.textContent = `${picked.file.name} was handed in as #${r.id}.`;
      input.value = "";
      picked.file = null;
      drop.classList.remove("good");
      loadHistory();
      follow(r.id);
    } catch (err) {
      status.textContent = err.message;
      drop.classList.add("bad");
      send.disabled = false;
    }
  });
  view.append(form, h("section", { class: "card", "aria-labelledby": "hist-h" },
    h("h2", { id: "hist-h" }, "Your submissions"), history));
  const subs = await loadHistory();
  const waiting = subs.find((s) => s.status === "queued" || s.status === "grading");
  if (waiting) follow(waiting.id);
});

MB.page("submission", {}, async (view, id, _q, gen) => {
  const s = await api(`/api/submissions/${encodeURIComponent(id)}`);
  if (!current(gen)) return;
  if (MB.me.role === "teacher" && MB.teacherSubmission) {
    await MB.teacherSubmission(view, s, gen);
    return;
  }
  view.append(h("p", { class: "crumbs" }, h("a", { href: "#/exercises" }, "Exercises"), " › ",
    h("a", { href: `#/exercise/${encodeURIComponent(s.exercise)}` }, s.exercise), " › ", `#${s.id}`));
  view.append(h("h1", {}, `Submission #${s.id}`),
    h("p", { class: "muted" }, `${s.exercise}, handed in ${fmtTime(s.created_at)}`));
  const box = h("div", { id: "live", "aria-live": "polite" }, resultNode(s));
  view.append(box);
  if (s.status === "queued" || s.status === "grading") {
    const poll = async () => {
      const t = await api(`/api/submissions/${s.id}`);
      if (!current(gen)) return;
      box.replaceChildren(resultNode(t));
      if (t.status === "queued" || t.status === "grading") later(1000, poll);
    };
    later(1000, poll);
  }
});

MB.page("password", { nav: "Password", order: 90 }, (view) => {
  // A student from a roster import logs in with the one-time password of the
  // login slip and must choose one before anything else.
  const first = MB.me.must_change_password;
  const field = (id, label, auto) => [h("label", { for: id }, label),
    h("input", { id, name: id, type: "password", autocomplete: auto, required: true })];
  const form = h("form", { class: "card narrow", id: "password-form" },
    h("h1", {}, first ? "Choose your password" : "Change your password"),
    first ? h("p", {}, "You logged in with the one-time password of your login slip. Choose your own now; the slip stops working.") : null,
    first ? null : field("current", "Current password", "current-password"),
    field("new", "New password (at least 8 characters)", "new-password"),
    field("again", "New password again", "new-password"),
    h("button", { type: "submit", class: "primary" }, first ? "Save my password" : "Change password"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    if (f.get("new") !== f.get("again")) {
      notice("The two new passwords differ. Type the same one twice.", "error");
      return;
    }
    if (String(f.get("new")).length < 8) {
      notice("The new password is shorter than 8 characters. Choose a longer one.", "error");
      return;
    }
    const body = { password: f.get("new") };
    if (!first) body.current = f.get("current");
    try {
      await api("/api/password", { method: "POST", json: body });
      form.reset();
      notice("Your password is changed. Use the new one next time you log in.", "ok");
      if (first) {
        MB.me.must_change_password = false;
        buildNav();
        location.hash = "#/";
      }
    } catch (err) {
      notice(err.message, "error");
    }
  });
  view.append(form);
});
