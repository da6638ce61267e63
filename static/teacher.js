// Teacher pages: gradebook, submissions and one submission in full, the class
// dashboard, exercises, health.
"use strict";

// ---- Gradebook --------------------------------------------------------------

// Render the gradebook `gb` (GET /api/gradebook) into `host`, sorted by
// `sort` = {key: "username" | "total" | slug, dir: 1 | -1}, keeping rows whose
// username or name contains `filter`. Returns the table.
function renderGradebook(host, gb, sort, filter) {
  performance.mark("gradebook-render-start");
  const exs = gb.exercises;
  const f = filter.trim().toLowerCase();
  let students = f ? gb.students.filter((s) => s.username.toLowerCase().includes(f) ||
    (s.name || "").toLowerCase().includes(f)) : gb.students.slice();
  const val = (s) => sort.key === "username" ? s.username.toLowerCase()
    : sort.key === "name" ? (s.name || "").toLowerCase()
      : sort.key === "total" ? s.total : (s.scores[sort.key] ?? -1);
  students.sort((a, b) => {
    const x = val(a), y = val(b);
    return (x < y ? -1 : x > y ? 1 : a.username < b.username ? -1 : 1) * sort.dir;
  });
  const maxTotal = exs.reduce((n, e) => n + Math.round(e.max_points * 100), 0) / 100;
  const th = (key, label, title) => h("th", { scope: "col", title,
    "aria-sort": sort.key === key ? (sort.dir > 0 ? "ascending" : "descending") : null },
  h("button", { type: "button", class: "sort", "data-key": key }, label,
    sort.key === key ? (sort.dir > 0 ? " ▲" : " ▼") : ""));
  const head = h("tr", {}, th("username", "Student"), th("name", "Name"),
    exs.map((e) => th(e.slug, e.slug, `${e.title || e.slug}, ${fmtPoints(e.max_points)} points`)),
    th("total", "Total", `of ${fmtPoints(maxTotal)}`));
  const body = document.createDocumentFragment();
  for (const s of students) {
    const tr = document.createElement("tr");
    const u = document.createElement("th");
    u.scope = "row";
    u.textContent = s.username;
    tr.appendChild(u);
    const n = document.createElement("td");
    n.className = "name";
    n.textContent = s.name;
    tr.appendChild(n);
    const who = encodeURIComponent(s.username);
    for (const e of exs) {
      const v = s.scores[e.slug];
      const td = document.createElement("td");
      td.className = `cell ${fractionClass(v, e.max_points)}`;
      const a = document.createElement("a");
      a.href = `#/submissions?student=${who}&exercise=${encodeURIComponent(e.slug)}`;
      a.textContent = fmtPoints(v);
      a.title = `${s.username}, ${e.slug}: ${fmtScore(v, e.max_points)}`;
      td.appendChild(a);
      if (s.late && s.late.includes(e.slug)) {
        td.classList.add("late");
        a.title += ", handed in late";
        const mark = document.createElement("span");
        mark.className = "late-mark";
        mark.textContent = " late";
        a.appendChild(mark);
      }
      tr.appendChild(td);
    }
    const t = document.createElement("td");
    t.className = `num total ${fractionClass(s.total, maxTotal)}`;
    t.textContent = fmtPoints(s.total);
    tr.appendChild(t);
    body.appendChild(tr);
  }
  // Fixed column widths: the browser lays the table out from its first row
  // instead of measuring all 1800 cells of a big class.
  const cols = h("colgroup", {}, h("col", { class: "c-user" }), h("col", { class: "c-name" }),
    exs.map(() => h("col", { class: "c-ex" })), h("col", { class: "c-total" }));
  const tbl = h("table", { id: "gradebook-table", class: "grid" }, cols, h("thead", {}, head), h("tbody", {}, body));
  tbl.style.width = `${9 + 12 + 6 * exs.length + 5}rem`;
  host.replaceChildren(tbl);
  void tbl.offsetHeight;	// lay it out, so the measure includes layout
  performance.mark("gradebook-render-end");
  performance.measure("gradebook-render", "gradebook-render-start", "gradebook-render-end");
  return tbl;
}

MB.page("gradebook", { role: "teacher", nav: "Gradebook", order: 10 }, async (view, _a, query, gen) => {
  const gb = await api("/api/gradebook");
  if (!current(gen)) return;
  const sort = { key: query.get("sort") || "username", dir: query.get("dir") === "desc" ? -1 : 1 };
  const filter = h("input", { id: "gb-filter", type: "search", placeholder: "name or username", autocomplete: "off" });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const host = h("div", { class: "scroll grid-host" });
  const draw = () => {
    const t = renderGradebook(host, gb, sort, filter.value);
    count.textContent = `${t.tBodies[0].rows.length} of ${gb.students.length} students`;
  };
  host.addEventListener("click", (e) => {
    const b = e.target.closest("button.sort");
    if (!b) return;
    const key = b.dataset.key;
    sort.dir = sort.key === key ? -sort.dir : key === "username" || key === "name" ? 1 : -1;
    sort.key = key;
    draw();
    const again = host.querySelector(`button.sort[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  });
  filter.addEventListener("input", draw);
  view.append(h("div", { class: "titlebar" }, h("h1", {}, "Gradebook"),
    h("a", { class: "button secondary", href: "/api/gradebook.csv", download: "grades.csv" }, "Download grades.csv")),
  h("div", { class: "toolbar" }, h("label", { for: "gb-filter" }, "Filter"), filter, count,
    h("span", { class: "legend", "aria-hidden": "true" },
      h("span", { class: "f0" }, "<25%"), h("span", { class: "f1" }, "25%"), h("span", { class: "f2" }, "50%"),
      h("span", { class: "f3" }, "75%"), h("span", { class: "f4" }, "100%"), h("span", { class: "fnone" }, "none"))),
  host);
  if (!gb.students.length) {
    view.append(h("p", {}, "No students yet. Add them with ", h("code", {}, "markbook user add"), "."));
  }
  draw();
});

MB.renderGradebook = renderGradebook;

// ---- Submissions ------------------------------------------------------------

MB.page("submissions", { role: "teacher", nav: "Submissions", order: 20 }, async (view, _a, query, gen) => {
  const student = query.get("student") || "", exercise = query.get("exercise") || "";
  const qs = new URLSearchParams();
  if (student) qs.set("student", student);
  if (exercise) qs.set("exercise", exercise);
  const subs = await api(`/api/submissions?${qs}`);
  if (!current(gen)) return;
  view.append(h("h1", {}, "Submissions", student ? ` of ${student}` : "", exercise ? ` for ${exercise}` : ""));
  const form = h("form", { class: "toolbar" },
    h("label", { for: "f-student" }, "Student"), h("input", { id: "f-student", name: "student", value: student }),
    h("label", { for: "f-exercise" }, "Exercise"), h("input", { id: "f-exercise", name: "exercise", value: exercise }),
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new URLSearchParams(new FormData(form));
    for (const [k, v] of [...f]) if (!v) f.delete(k);
    location.hash = `#/submissions?${f}`;
  });
  view.append(form);
  view.append(subs.length ? MB.historyTable(subs) : h("p", {}, "No submissions."));
  if (subs.some((s) => s.status === "queued" || s.status === "grading")) later(3000, route);
});

// The source with line numbers, one list item per line.
function sourceNode(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  return h("ol", { class: "source" }, lines.map((l) => h("li", {}, h("code", {}, l || " "))));
}

MB.teacherSubmission = async (view, s, gen) => {
  view.append(h("p", { class: "crumbs" }, h("a", { href: "#/gradebook" }, "Gradebook"), " › ",
    h("a", { href: `#/submissions?student=${encodeURIComponent(s.student)}` }, s.student), " › ",
    h("a", { href: `#/submissions?student=${encodeURIComponent(s.student)}&exercise=${encodeURIComponent(s.exercise)}` }, s.exercise),
    " › ", `#${s.id}`));
  view.append(h("h1", {}, `Submission #${s.id}`));
  const flags = s.flags || [];
  view.append(h("dl", { class: "facts" },
    h("dt", {}, "Student"), h("dd", {}, s.student),
    h("dt", {}, "Exercise"), h("dd", {}, s.exercise),
    h("dt", {}, "Handed in"), h("dd", {}, fmtTime(s.created_at), s.late ? h("span", { class: "badge late" },
      s.days_late ? `late, ${s.days_late} day${s.days_late === 1 ? "" : "s"}` : "late") : null),
    h("dt", {}, "Graded"), h("dd", {}, s.graded_at ? fmtTime(s.graded_at) : "not yet",
      s.attempts > 1 ? ` (${s.attempts} attempts)` : ""),
    h("dt", {}, "Flags"), h("dd", { id: "flags" }, flags.length
      ? flags.map((f) => h("span", { class: "badge flag" }, f)) : h("span", { class: "muted" }, "none"))));
  const box = h("div", { id: "result", "aria-live": "polite" });
  view.append(box, gradeAgainNode(s, box, gen));
  if ("override" in s || "override_score" in s) view.append(overrideForm(s));
  view.append(h("section", { class: "card" }, h("h2", {}, "What the run printed"),
    s.output ? h("pre", { id: "output" }, s.output) : h("p", { class: "muted" }, "Nothing.")));
  const src = h("section", { class: "card" }, h("h2", {}, "Source"));
  view.append(src);
  try {
    const text = await api(`/api/submissions/${s.id}/source`);
    if (!current(gen)) return;
    src.append(h("p", {}, h("a", { href: `/api/submissions/${s.id}/source`, download: `${s.student}-${s.exercise}-${s.id}.py` }, "Download"),
      ` ${text.replace(/\n$/, "").split("\n").length} lines`), sourceNode(text));
  } catch (e) {
    src.append(h("p", { class: "error" }, e.message));
  }
};

// "Grade again": the submission is graded again with the exercise's current
// hidden tests. While it waits and grades, `box` follows it as the student's
// page does; once graded, the page is drawn again with the new result.
function gradeAgainNode(s, box, gen) {
  const busy = (t) => t.status === "queued" || t.status === "grading";
  const button = h("button", { type: "button", id: "grade-again" }, "Grade again");
  const show = (t) => {
    button.disabled = busy(t);
    if (!busy(t)) box.replaceChildren(MB.resultNode(t));
    else box.replaceChildren(MB.resultNode({ ...t, tests: [], message: "" }),
      h("p", { class: "muted" }, "The new result shows here when it is graded."));
  };
  async function follow() {
    let t;
    try {
      t = await api(`/api/submissions/${s.id}`);
    } catch (e) { if (current(gen)) notice(e.message, "error"); return; }
    if (!current(gen)) return;
    if (busy(t)) {
      show(t);
      later(1000, follow);
      return;
    }
    await route();
    notice(`Submission #${s.id} is graded: ${fmtScore(t.score, t.max_points)}.`, "ok");
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const t = await api(`/api/submissions/${s.id}/regrade`, { method: "POST", json: {} });
      if (!current(gen)) return;
      notice(`Submission #${s.id} is queued to be graded again.`, "ok");
      show(t);
      later(1000, follow);
    } catch (e) { notice(e.message, "error"); button.disabled = false; }
  });
  show(s);
  if (busy(s)) later(1000, follow);
  const o = s.override;
  return h("section", { class: "card", id: "again" }, h("h2", {}, "Grade again"),
    h("p", {}, "Grades this notebook again with the exercise's current hidden tests, for example when a test ran out ",
      "of time on a busy computer. The new result replaces this one; the old score stays in the audit table."),
    o ? h("p", { class: "override" }, `Your score set by hand (${fmtScore(o.score, s.max_points)}) stays in force: `,
      "remove it below if the new grading should count.") : null,
    h("p", {}, button));
}

// A score set by hand, with a comment the student sees. Shown when the API
// reports overrides (4/7).
function overrideForm(s) {
  const o = s.override || {};
  const cur = o.score ?? (s.override_score >= 0 ? s.override_score : "");
  const form = h("form", { class: "card", id: "override" }, h("h2", {}, "Set the score by hand"),
    cur !== "" ? h("p", {}, `Set to ${fmtScore(cur, s.max_points)}`, o.by ? ` by ${o.by}` : "",
      o.at ? `, ${fmtTime(o.at)}` : "", ".") : null,
    h("label", { for: "ov-score" }, `Score (0 to ${fmtPoints(s.max_points)}, in hundredths at most: 7.5; empty removes the override)`),
    h("input", { id: "ov-score", name: "score", type: "number", min: 0, max: s.max_points, step: 0.01, value: cur }),
    h("label", { for: "ov-comment" }, "Comment for the student"),
    h("textarea", { id: "ov-comment", name: "comment", rows: 3, maxlength: 2000 }, o.comment || s.override_comment || ""),
    h("button", { type: "submit", class: "primary" }, "Save"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const score = f.get("score") === "" ? null : Number(f.get("score"));
    try {
      await api(`/api/submissions/${s.id}/override`, { method: "POST",
        json: { score, comment: f.get("comment") } });
      await route();
      notice("The score is saved.", "ok");
    } catch (err) { notice(err.message, "error"); }
  });
  return form;
}

// ---- Dashboard --------------------------------------------------------------

MB.page("dashboard", { role: "teacher", nav: "Dashboard", order: 15 }, async (view, _a, _q, gen) => {
  view.append(h("div", { class: "titlebar" }, h("h1", {}, "Class dashboard"),
    h("span", { class: "muted", id: "dash-updated", "aria-live": "off" })));
  const host = h("div", { id: "dashboard" });
  view.append(host);
  const draw = async () => {
    let d;
    try {
      d = await api("/api/dashboard");
    } catch (e) {
      if (current(gen)) $("#dash-updated").textContent = e.message;
      return;
    }
    if (!current(gen)) return;
    host.replaceChildren(dashboard(d));
    $("#dash-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  };
  await draw();
  every(3000, draw);
});

function dashboard(d) {
  const frag = document.createDocumentFragment();
  const maxUp = Math.max(1, ...d.uploads_per_minute);
  frag.append(h("div", { class: "tiles" },
    h("div", { class: "tile", id: "tile-queue" }, h("span", { class: "big" }, String(d.queue_length)), "waiting to be graded"),
    h("div", { class: "tile", id: "tile-workers" }, h("span", { class: "big" }, `${d.grading}/${d.workers}`), "graders busy"),
    h("div", { class: "tile", id: "tile-uploads" }, h("span", { class: "big" }, String(d.uploads_per_minute.reduce((a, b) => a + b, 0))),
      `uploads in the last ${d.uploads_per_minute.length} minutes`,
      h("span", { class: "bars", role: "img", "aria-label": `uploads per minute, oldest first: ${[...d.uploads_per_minute].reverse().join(", ")}` },
        [...d.uploads_per_minute].reverse().map((n) => {
          const b = h("span", { class: "bar", title: String(n) });
          b.style.height = `${Math.round((n / maxUp) * 100)}%`;
          return b;
        })))));
  if (d.waiting.length) {
    frag.append(h("section", { class: "card" }, h("h2", {}, "In the queue"),
      table(["#", "Student", "Exercise", "Status", "Handed in"], d.waiting.map((s) => [
        h("a", { href: `#/submission/${s.id}` }, `#${s.id}`), s.student, s.exercise, statusText(s), fmtTime(s.created_at)]))));
  }
  const sec = h("section", { class: "card", id: "heatmap" }, h("h2", {}, "Pass rate per hidden test"),
    h("p", { class: "muted" }, "Of each student's latest graded submission. Red: the class is stuck there."));
  for (const ex of d.exercises) {
    sec.append(h("h3", {}, ex.title || ex.slug, h("span", { class: "muted" }, ` ${ex.students} student${ex.students === 1 ? "" : "s"} graded`)));
    sec.append(h("div", { class: "heat" }, ex.tests.map((t) => {
      const rate = t.attempted ? t.passed / t.attempted : null;
      return h("div", { class: `heatcell ${fractionClass(rate, 1)}`, title: t.description || t.name },
        h("code", {}, t.name), h("span", { class: "rate" }, rate === null ? "–" : `${Math.round(rate * 100)}%`),
        h("span", { class: "muted" }, `${t.passed}/${t.attempted}`));
    })));
  }
  if (!d.exercises.length) sec.append(h("p", {}, "No published exercise."));
  frag.append(sec);
  return frag;
}

// The publish gate's verdict (4/7): reference solution and scaffold scores,
// problems and warnings, and test by test.
function gateNode(c) {
  return h("details", { class: "gate" }, h("summary", {},
    `solution ${fmtScore(c.solution_score, c.max_points)} in ${Number(c.solution_seconds).toFixed(1)} s, scaffold ${fmtScore(c.scaffold_score, c.max_points)}`),
  (c.problems || []).map((p) => h("p", { class: "error" }, p)),
  (c.warnings || []).map((w) => h("p", { class: "muted" }, w)),
  table(["Test", "Points", "Solution", "Scaffold", "Problem"], (c.tests || []).map((t) => [
    h("code", {}, t.name), fmtPoints(t.points),
    h("span", { class: t.solution_passed ? "badge pass" : "badge fail" }, t.solution_passed ? "passes" : "fails"),
    h("span", { class: t.scaffold_passed ? "badge fail" : "badge pass" }, t.scaffold_passed ? "passes" : "fails"),
    t.problem || t.solution_message || ""])));
}

// ---- Exercises --------------------------------------------------------------

// "Reload the course folder" (4/7): after the teacher edits exercises/ or
// hidden/, read them again without a restart. The reload runs on the server
// while grading goes on; this follows it and then redraws the page.
function reloadNode(gen) {
  const status = h("span", { id: "reload-status", role: "status", class: "muted" });
  const button = h("button", { type: "button", id: "reload" }, "Reload the course folder");
  const show = (st) => status.replaceChildren(st.reloading ? "Reloading: new and changed exercises go through the publish gate..."
    : st.reloaded_at ? `Reloaded ${fmtTime(st.reloaded_at)}: ${st.message}` : "");
  async function follow(before) {
    let st;
    try {
      st = await api("/api/course/reload");
    } catch (e) { if (current(gen)) notice(e.message, "error"); return; }
    if (!current(gen)) return;
    show(st);
    if (st.reloading || st.reloads <= before) later(1000, () => follow(before));
    else route();
  }
  button.onclick = async () => {
    button.disabled = true;
    try {
      const before = (await api("/api/course/reload")).reloads;
      show(await api("/api/course/reload", { method: "POST", json: {} }));
      follow(before);
    } catch (e) { notice(e.message, "error"); button.disabled = false; }
  };
  api("/api/course/reload").then((st) => { if (current(gen)) show(st); }, () => {});
  return h("p", {}, button, " ", status);
}

// An exercise graded in `shared` isolation, with the server's sentence on
// what that risks.
function sharedNode(warning) {
  return h("p", { class: "shared" }, h("span", { class: "badge busy" }, "shared"), " ", warning);
}

MB.page("exercises", { role: "teacher", nav: "Exercises", order: 30 }, async (view, _a, _q, gen) => {
  const list = await api("/api/exercises");
  if (!current(gen)) return;
  view.append(h("h1", {}, "Exercises"), reloadNode(gen));
  const rows = list.map((e) => h("tr", { class: e.published ? "" : "unpublished" },
    h("th", { scope: "row" }, e.title || e.slug, h("br", {}), h("code", { class: "muted" }, e.slug),
      e.isolation === "shared" ? sharedNode(e.isolation_warning) : null),
    h("td", { "data-label": "Published" }, e.published
      ? h("span", { class: "badge pass" }, "published")
      : h("span", { class: "badge fail" }, "not published"),
    e.problem ? h("pre", { class: "message" }, e.problem) : null, e.check ? gateNode(e.check) : null),
    h("td", { "data-label": "Phase" }, e.phase ? String(e.phase) : "–"),
    h("td", { "data-label": "Due" }, e.due_at ? fmtTime(e.due_at) : "–",
      e.due_at ? h("span", { class: "muted" }, ` (${fmtDelta(new Date(e.due_at) - Date.now())})`) : null),
    h("td", { "data-label": "Points" }, e.max_points ? fmtPoints(e.max_points) : "–"),
    h("td", { "data-label": "Feedback" }, e.feedback || "–"),
    h("td", { "data-label": "Waiting" }, e.waiting === undefined ? "–" : String(e.waiting)),
    h("td", { "data-label": "Practice" }, e.practice ? h("a", { href: e.practice, target: "_blank", rel: "noopener" }, "open") : "–"),
    h("td", { "data-label": "Regrade" }, e.published ? h("a", { href: `#/regrade/${encodeURIComponent(e.slug)}` },
      e.stale ? `${e.stale} graded with old tests: regrade` : "regrade") : "–")));
  view.append(h("div", { class: "scroll" }, h("table", { class: "cards", id: "exercise-table" },
    h("thead", {}, h("tr", {}, ["Exercise", "Publish gate", "Phase", "Due", "Points", "Feedback", "Waiting", "Practice", "Regrade"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows))));
});

// The class list (roster import, one-time passwords, login slips, exports,
// backup) is a page of its own: roster.html.
MB.link("/roster.html", { role: "teacher", nav: "Class list", order: 35 });

// Regrading one exercise after its hidden tests changed (4/7): start, watch
// the progress, preview old best -> new best per student, apply or discard.
MB.page("regrade", { role: "teacher" }, async (view, slug, _q, gen) => {
  const base = `/api/exercises/${encodeURIComponent(slug)}/regrade`;
  view.append(h("p", { class: "crumbs" }, h("a", { href: "#/exercises" }, "Exercises"), " › ", slug),
    h("h1", {}, `Regrade ${slug}`));
  const host = h("div", { id: "regrade" });
  view.append(host);
  const post = async (path, json) => {
    try {
      await api(base + path, { method: "POST", json: json || {} });
      draw();
    } catch (e) { notice(e.message, "error"); }
  };
  const startButtons = () => h("p", {},
    h("button", { type: "button", class: "primary", onclick: () => post("", {}) }, "Regrade what was graded with old tests"), " ",
    h("button", { type: "button", onclick: () => post("", { all: true }) }, "Regrade every graded submission"));
  async function draw() {
    let g;
    try {
      g = await api(base);
    } catch (e) {
      if (!current(gen)) return;
      host.replaceChildren(h("p", {}, e.status === 404 ? "No regrade yet." : e.message), startButtons());
      return;
    }
    if (!current(gen)) return;
    // `graded` counts the submissions that could not be graded (`errors`) too.
    const done = g.graded >= g.total;
    const open = !/^(applied|discarded)$/.test(g.status);
    host.replaceChildren();
    append(host, [
      h("p", {}, `Status: ${g.status}; ${g.graded} of ${g.total} graded`, g.errors ? `, ${g.errors} could not be` : "", "."),
      h("progress", { max: g.total || 1, value: g.graded, "aria-label": "regrade progress" }),
      table(["Student", "Name", "Old best", "New best"], (g.students || []).map((st) => [st.username, st.name,
        fmtPoints(st.old_best), h("strong", { class: st.new_best !== st.old_best ? "error" : "" }, fmtPoints(st.new_best))])),
      open && done ? h("p", {}, h("button", { type: "button", class: "primary", onclick: () => post("/apply") }, "Apply the new scores"), " ",
        h("button", { type: "button", onclick: () => post("/discard") }, "Discard")) : null,
      open ? null : startButtons()]);
    if (open && !done) later(2000, draw);
  }
  await draw();
});

// ---- Health -----------------------------------------------------------------

MB.page("health", { role: "teacher", nav: "Health", order: 40 }, async (view, _a, _q, gen) => {
  const hl = await api("/api/health");
  if (!current(gen)) return;
  const ok = (b) => h("span", { class: b ? "badge pass" : "badge fail" }, b ? "ok" : "failed");
  view.append(h("h1", {}, "Health"), h("dl", { class: "facts", id: "health" },
    h("dt", {}, "Overall"), h("dd", {}, ok(hl.ok)),
    h("dt", {}, "Sandbox self-test"), h("dd", {}, ok(hl.sandbox === "ok"),
      hl.sandbox_message ? h("pre", { class: "message" }, hl.sandbox_message) : null),
    h("dt", {}, "Limits per submission"), h("dd", { id: "health-limits" },
      hl.limits ? h("span", { class: hl.limits.bounded ? "badge pass" : "badge fail" },
        hl.limits.bounded ? `cgroup ${hl.limits.cgroup}, ${hl.limits.files}` : "total not bounded") : "–",
      hl.limits ? h("pre", { class: "message" }, hl.limits.message) : null),
    h("dt", {}, "Database"), h("dd", {}, ok(hl.database), hl.db_size_bytes !== undefined ? ` ${fmtBytes(hl.db_size_bytes)}` : ""),
    h("dt", {}, "Disk space left"), h("dd", { class: hl.disk_free_bytes !== undefined && hl.disk_free_bytes < 1024 ** 3 ? "error" : "" },
      hl.disk_free_bytes !== undefined ? fmtBytes(hl.disk_free_bytes) : "–"),
    h("dt", {}, "Graders"), h("dd", {}, `${hl.grading} of ${hl.workers} busy`),
    h("dt", {}, "Waiting to be graded"), h("dd", {}, String(hl.queue_length)),
    h("dt", {}, "Shared isolation"), h("dd", { id: "health-shared" }, hl.shared_exercises && hl.shared_exercises.length
      ? [hl.shared_exercises.flatMap((slug, i) => [i ? ", " : null, h("code", {}, slug)]), sharedNode(hl.shared_warning)]
      : "none: every exercise runs the notebook and the tests in sandboxes of their own")));
});
