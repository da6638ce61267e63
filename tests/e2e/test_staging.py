"""Course material as teachers bring it, graded by the real binary in real sandboxes: data files
in subfolders (exercises/hockey/data/canucks.csv), hidden tests with a conftest.py fixture and
helper modules, Exercism's `<exercise>_test.py` file names, tests that read the notebook's
source, what each sandbox holds, and the publish gate's advice (a slow reference solution, a
file the solution did not find, a value that cannot cross between the sandboxes, an ordinary
exception, a function found only by running cells). The course is
tests/corpus/staging-course (its submissions/ say what each one scores); the gate's cases are
made here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from server_client import ROOT, Server, exercise, student, teacher_of

COURSE = ROOT / "tests" / "corpus" / "staging-course"
SUBMISSIONS = COURSE / "submissions"

# Each submission's exact score and the tests it fails, in both isolations.
EXPECTED = {
    "hockey": {
        "correct.py": (10, []),
        "wrong_ties.py": (8, ["test_top_earners_ties"]),
        "wrong_path.py": (6, ["test_load_players_shape", "test_load_players_values"]),
    },
    "nth-prime": {
        "correct.py": (12, []),
        "in_cell.py": (12, []),
        "no_zeroth.py": (10, ["test_there_is_no_zeroth_prime"]),
        "off_by_one.py": (2, ["test_big_prime", "test_first_prime", "test_first_twenty_primes",
                              "test_second_prime", "test_sixth_prime"]),
    },
    "loop-total": {
        "correct.py": (10, []),
        "builtin_sum.py": (5, ["test_total_uses_a_for_loop"]),
        "loop_in_comment.py": (5, ["test_total_uses_a_for_loop"]),
    },
}
ADVICE = "prime ran inside a cell"


def markbook() -> str:
    path = os.environ.get("MARKBOOK", str(ROOT / "markbook"))
    if not os.access(path, os.X_OK):
        pytest.skip(f"no markbook binary at {path} (run make)")
    return path


def copy_course(dest: Path, isolation: str = "process") -> Path:
    """The staging course without its submissions, readable by the sandbox user."""
    for part in ("exercises", "hidden"):
        shutil.copytree(COURSE / part, dest / part)
    for spec in (dest / "exercises").glob("*/exercise.json"):
        config = json.loads(spec.read_text())
        config["isolation"] = isolation
        spec.write_text(json.dumps(config))
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def check(course: Path, *slugs: str) -> subprocess.CompletedProcess:
    return subprocess.run([markbook(), "check", "--course", str(course), *slugs],
                          capture_output=True, text=True, timeout=600)


def grade(course: Path, slug: str, files: list[Path]) -> list[dict]:
    r = subprocess.run([markbook(), "grade", "--course", str(course), "--exercise", slug,
                        "--json", "--jobs", "2", *map(str, files)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def block(out: str, slug: str) -> str:
    """The lines `markbook check` printed about one exercise."""
    m = re.search(rf"^{re.escape(slug)}  .*?(?=^\S|\Z)", out, re.M | re.S)
    assert m, out
    return m[0]


@pytest.fixture(scope="module", params=["process", "shared"])
def course(request, tmp_path_factory) -> tuple[str, Path]:
    isolation = request.param
    return isolation, copy_course(tmp_path_factory.mktemp(f"staging-{isolation}") / "course",
                                  isolation)


def test_gate_passes_real_material_without_warnings(course):
    """A data subfolder, conftest.py and a helper module, nth_prime_test.py and a source
    check: every reference solution scores full marks and nothing is worth a warning."""
    isolation, path = course
    r = check(path)
    assert r.returncode == 0, r.stdout + r.stderr
    for slug, points in (("hockey", 10), ("loop-total", 10), ("nth-prime", 12)):
        assert block(r.stdout, slug).startswith(
            f"{slug}  PASS  reference solution {points}/{points}"), r.stdout
    # The one warning a shared exercise always gets is about its isolation, not its material.
    warnings = [line for line in r.stdout.splitlines() if "warning:" in line
                and "warning: Isolation \"shared\"" not in line]
    assert warnings == [] and "problem:" not in r.stdout, r.stdout
    assert "ok    test_first_twenty_primes" in r.stdout  # collected from nth_prime_test.py


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_each_submission_scores_exactly(course, slug):
    isolation, path = course
    names = sorted(EXPECTED[slug])
    results = grade(path, slug, [SUBMISSIONS / slug / n for n in names])
    for name, result in zip(names, results):
        score, failing = EXPECTED[slug][name]
        context = f"{isolation} {slug}/{name}: {json.dumps(result, indent=1)}"
        assert result["status"] == "done", context
        assert result["score"] == score, context
        assert sorted(t["name"] for t in result["tests"] if not t["passed"]) == failing, context
        if name == "in_cell.py":
            # The loader's advice, beside a score it does not change.
            assert result["message"].startswith(ADVICE), context
            assert "Make prime a top-level function (marimo: @app.function)" in \
                result["message"], context
        elif not failing:
            assert result["message"] == "", context
    if slug == "hockey":  # the file the student's code did not find is named
        wrong = results[names.index("wrong_path.py")]
        assert "No such file or directory: 'canucks.csv'" in wrong["tests"][0]["message"]


# What each sandbox of a run in process isolation holds. The notebook lists its own home;
# the tests list theirs. Both walk past dot files and folders (the harness in .markbook,
# .tmp, firejail's .bashrc).
PROBE_SCAFFOLD = '''import marimo

app = marimo.App()

with app.setup:
    import os


@app.function
def seen():
    return []


@app.function
def can_write_beside_data():
    return None
'''

PROBE_SOLUTION = PROBE_SCAFFOLD.replace('''def seen():
    return []''', '''def seen():
    found = []
    for root, dirs, files in os.walk("."):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.normpath(os.path.join(root, f)) for f in files
                  if not f.startswith(".")]
    return sorted(found)''').replace('''def can_write_beside_data():
    return None''', '''def can_write_beside_data():
    with open("data/made-by-the-notebook.txt", "w") as f:
        f.write("as it could in the course folder")
    return True''')

PROBE_TESTS = '''import os
from pathlib import Path

from helpers.tools import tree
from submission import can_write_beside_data, seen

HERE = Path(__file__).parent


def test_student_side():
    """The notebook's sandbox: its data as the scaffold lays them out, its own text, no
    hidden file, no practice/ export, no dot file or __pycache__ of the course folder."""
    assert seen() == ["data/canucks.csv", "data/raw/2024.csv", "submission.py"]


def test_student_may_write_beside_its_data():
    """The folders of the data files are the notebook's to write in, as in the course."""
    assert can_write_beside_data() is True


def test_tests_side(expected_tree):
    """The tests' sandbox: the same data, every hidden file but solution.py, and the
    submission's text twice, read-only."""
    assert tree() == expected_tree
    text = Path("submission.py").read_text()
    assert text == (HERE / "submission.py").read_text()
    assert "def can_write_beside_data" in text
    for path in ("submission.py", HERE / "submission.py"):
        assert not os.access(path, os.W_OK), path


def test_hidden_data():
    """Hidden data is beside the tests."""
    assert (HERE / "data" / "expected.csv").read_text() == "n\\n42\\n"
'''

PROBE_CONFTEST = '''import pytest


@pytest.fixture
def expected_tree():
    return ["data/canucks.csv", "data/raw/2024.csv", "hidden/conftest.py",
            "hidden/data/expected.csv", "hidden/helpers/tools.py", "hidden/submission.py",
            "hidden/test_probe.py", "submission.py"]
'''

PROBE_HELPER = '''import os


def tree():
    """The files below the working directory, dot files (firejail's .bashrc) and folders
    (the harness) left out."""
    found = []
    for root, dirs, files in os.walk("."):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.normpath(os.path.join(root, f)) for f in files
                  if not f.startswith(".")]
    return sorted(found)
'''


def add_exercise(course: Path, slug: str, scaffold: str, solution: str | None,
                 hidden: dict[str, str], public: dict[str, str] | None = None,
                 **spec: object) -> None:
    """exercises/<slug>/ with `public` files and hidden/<slug>/ with `hidden` files."""
    ex, hid = course / "exercises" / slug, course / "hidden" / slug
    files = {ex / "exercise.json": json.dumps({"title": slug, "phase": 1, "max_points": 10,
                                               "timeout_s": 20, "test_timeout_s": 4, **spec}),
             ex / f"{slug}.py": scaffold}
    files.update({ex / k: v for k, v in (public or {}).items()})
    files.update({hid / k: v for k, v in hidden.items()})
    if solution is not None:
        files[hid / "solution.py"] = solution
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path in [course, *course.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_each_sandbox_holds_what_it_should(tmp_path):
    course = tmp_path / "course"
    add_exercise(course, "probe", PROBE_SCAFFOLD, PROBE_SOLUTION, {
        "test_probe.py": PROBE_TESTS, "conftest.py": PROBE_CONFTEST,
        "helpers/tools.py": PROBE_HELPER, "data/expected.csv": "n\n42\n",
        ".pytest_cache/README.md": "not staged", "__pycache__/conftest.cpython-311.pyc": "x",
    }, public={
        "data/canucks.csv": (COURSE / "exercises/hockey/data/canucks.csv").read_text(),
        "data/raw/2024.csv": "season\n2024\n", "practice/index.html": "<!doctype html>",
        ".notes.txt": "the teacher's own", "__pycache__/probe.cpython-311.pyc": "x",
    })
    solution = tmp_path / "solution.py"
    solution.write_text(PROBE_SOLUTION)
    [result] = grade(course, "probe", [solution])
    failed = {t["name"]: t["message"] for t in result["tests"] if not t["passed"]}
    assert failed == {} and result["score"] == 10, json.dumps(result, indent=1)


# The gate's advice. `slow` sleeps 0.6 of its 4 s limit in one function: a sleep never ends
# early, so the test always takes more than half its limit whatever the machine's speed,
# and the 1.6 s left cover a call's overhead on a busy machine (the run stops only at 4 s).
SLOW_SCAFFOLD = '''import marimo

app = marimo.App()

with app.setup:
    import time


@app.function
def settle(x):
    return None


@app.function
def double(x):
    return None
'''
SLOW_SOLUTION = SLOW_SCAFFOLD.replace('''def settle(x):
    return None''', '''def settle(x):
    time.sleep(2.4)
    return x''').replace('''def double(x):
    return None''', '''def double(x):
    return 2 * x''')
SLOW_TESTS = '''from submission import double, settle


def test_settle():
    """settle gives back what it was given, in its own time."""
    assert settle(7) == 7


def test_double():
    """double doubles."""
    assert double(4) == 8
'''

# An ordinary exception of the reference solution: a failure to fix, not a value that could
# not cross (its traceback passes through the tests' stub module in process isolation).
RAISES_SCAFFOLD = '''import marimo

app = marimo.App()


@app.function
def parse_age(text):
    return None
'''
RAISES_SOLUTION = RAISES_SCAFFOLD.replace("return None", "return int(text)")
RAISES_TESTS = '''from submission import parse_age


def test_parse_age():
    """A number is read; anything else gives -1."""
    assert parse_age("42") == 42
    assert parse_age("forty-two") == -1
'''

# The words the harness uses, and only uses, when a value cannot cross between the
# sandboxes (this test says them itself, so the gate's reading of them is checked alone).
CROSSING_TESTS = '''from submission import parse_age


def test_roll():
    """Stands for a function whose value could not be sent."""
    assert parse_age("1") == 1
    raise TypeError("roll returned a generator, which cannot be sent between the sandboxes")
'''

MISSING_SCAFFOLD = '''import marimo

app = marimo.App()


@app.function
def first_score():
    return None
'''
MISSING_SOLUTION = MISSING_SCAFFOLD.replace("return None", '''with open("data/scores.txt") as f:
        return int(f.readline())''')
MISSING_TESTS = '''from submission import first_score


def test_first_score():
    """The first line of data/scores.txt."""
    assert first_score() == 17
'''


@pytest.fixture(scope="module")
def gate_course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("gate-advice") / "course"
    add_exercise(course, "slow", SLOW_SCAFFOLD, SLOW_SOLUTION, {"test_slow.py": SLOW_TESTS})
    add_exercise(course, "raises", RAISES_SCAFFOLD, RAISES_SOLUTION,
                 {"test_raises.py": RAISES_TESTS})
    add_exercise(course, "crossing", RAISES_SCAFFOLD, RAISES_SOLUTION,
                 {"test_crossing.py": CROSSING_TESTS})
    # The teacher put the data beside the scaffold, not in data/ as the notebook reads it.
    add_exercise(course, "missing", MISSING_SCAFFOLD, MISSING_SOLUTION,
                 {"test_missing.py": MISSING_TESTS}, public={"scores.txt": "17\n"})
    nth = COURSE / "exercises" / "nth-prime"
    add_exercise(course, "cellsol", (nth / "nth-prime.py").read_text(),
                 (SUBMISSIONS / "nth-prime" / "in_cell.py").read_text(),
                 {"nth_prime_test.py": (COURSE / "hidden/nth-prime/nth_prime_test.py")
                  .read_text()}, max_points=12)
    return course


@pytest.fixture(scope="module")
def gate(gate_course) -> str:
    r = check(gate_course)
    assert r.returncode == 1, r.stdout + r.stderr  # raises, crossing, missing fail
    return r.stdout


def test_gate_warns_of_a_slow_reference_solution_naming_the_test(gate):
    slow = block(gate, "slow")
    assert slow.startswith("slow  PASS  reference solution 10/10"), slow
    m = re.search(r"warning: test_settle took (\d+\.\d) s on the reference solution, more "
                  r"than half of its time limit \(test_timeout_s: 4 s\)", slow)
    assert m and float(m[1]) >= 2.4, slow
    assert "test_double took" not in slow
    assert slow.count("warning:") == 1, slow


def test_gate_does_not_blame_the_sandboxes_for_an_ordinary_exception(gate):
    raises = block(gate, "raises")
    assert raises.startswith("raises  FAIL"), raises
    assert "problem: test_parse_age fails on the reference solution: ValueError: invalid " \
           "literal for int()" in raises
    assert "cannot exchange" not in raises and "warning:" not in raises, raises


def test_gate_says_when_a_value_cannot_cross(gate):
    crossing = block(gate, "crossing")
    assert "warning: test_roll uses a value the two sandboxes cannot exchange: set " \
           "\"isolation\": \"shared\"" in crossing, crossing


def test_gate_says_when_the_reference_solution_finds_no_file(gate):
    missing = block(gate, "missing")
    assert missing.startswith("missing  FAIL"), missing
    assert "FileNotFoundError: [Errno 2] No such file or directory: 'data/scores.txt'" \
        in missing, missing
    assert "warning: test_first_score: the reference solution did not find a file. Files " \
           "the notebook reads go in exercises/missing/ (subfolders kept" in missing, missing
    assert "cannot exchange" not in missing, missing


def test_gate_takes_the_loaders_advice_on_the_solution_as_a_warning(gate):
    cellsol = block(gate, "cellsol")
    assert cellsol.startswith("cellsol  PASS  reference solution 12/12"), cellsol
    assert f"warning: The reference solution: {ADVICE}" in cellsol, cellsol


# Over HTTP: the data files a student downloads, subfolders kept, and the advice beside the
# score on the student's own submission.
def test_students_download_data_in_subfolders_and_see_the_advice(tmp_path):
    course = copy_course(tmp_path / "course")
    shutil.rmtree(course / "exercises" / "loop-total")
    shutil.rmtree(course / "hidden" / "loop-total")
    (course / "exercises" / "hockey" / "data" / "team colours.txt").write_text("blue, green\n")
    (course / "exercises" / "hockey" / "data" / "team colours.txt").chmod(0o644)
    srv = Server(course, tmp_path / "markbook.db").start()
    try:
        srv.add_user("ada")
        ada = student(srv, "ada")
        hockey = exercise(ada, "hockey")
        assert hockey["data_files"] == ["/exercises/hockey/data/canucks.csv",
                                        "/exercises/hockey/data/team%20colours.txt"]
        r = ada.get("/exercises/hockey/data/canucks.csv")
        assert r.status == 200
        assert r.body == (COURSE / "exercises/hockey/data/canucks.csv").read_bytes()
        assert r.headers["Content-Disposition"] == 'attachment; filename="canucks.csv"'
        r = ada.get("/exercises/hockey/data/team%20colours.txt")
        assert r.status == 200 and r.body == b"blue, green\n"
        # Only names the course lists: no path is made from the URL.
        for url in ("/exercises/hockey/practice/index.html", "/exercises/hockey/.notes.txt",
                    "/exercises/hockey/exercise.json", "/exercises/hockey/data",
                    "/exercises/hockey/data/", "/exercises/hockey/data/../hockey.py",
                    "/exercises/hockey/data/%2e%2e/exercise.json",
                    "/exercises/hockey/../../hidden/hockey/solution.py",
                    "/exercises/hockey/data/canucks.csv/x"):
            assert ada.get(url).status == 404, url

        r = ada.upload("nth-prime", (SUBMISSIONS / "nth-prime" / "in_cell.py").read_bytes())
        assert r.status == 202, r.text
        s = ada.wait_graded(r.json()["id"])
        assert s["status"] == "done" and s["score"] == 12, s
        assert s["message"].startswith(ADVICE), s
        assert "Make prime a top-level function" in s["message"], s
        assert teacher_of(srv).get(f"/api/submissions/{s['id']}").json()["message"] == \
            s["message"]

        # A data file removed without reloading the course: the teacher is told which.
        (course / "exercises" / "hockey" / "data" / "canucks.csv").unlink()
        r = ada.upload("hockey", (SUBMISSIONS / "hockey" / "correct.py").read_bytes())
        assert r.status == 202, r.text
        s = ada.wait_graded(r.json()["id"], timeout=120)
        assert s["status"] == "error", s
        full = teacher_of(srv).get(f"/api/submissions/{s['id']}").json()
        assert "exercises/hockey/data/canucks.csv cannot be read for grading: No such file " \
               "or directory" in full["message"], full
    finally:
        srv.stop()


def test_kept_plan_follows_every_staged_file(tmp_path):
    """The key of the kept plan and gate verdict covers data files in subfolders and every
    file of hidden/<slug>/; the html-wasm export, which is not staged, does not count."""
    course, cache = copy_course(tmp_path / "course"), tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    solution = SUBMISSIONS / "loop-total" / "correct.py"

    def plans_after(change) -> int:
        change()
        r = subprocess.run([markbook(), "grade", "--course", str(course), "--exercise",
                            "hockey", "--json", str(solution)],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        return len(list((cache / "markbook").glob("plan-*.json")))

    ex, hidden = course / "exercises" / "hockey", course / "hidden" / "hockey"
    assert plans_after(lambda: None) == 1
    assert plans_after(lambda: (ex / "practice" / "index.html").write_text("new export")) == 1
    assert plans_after(lambda: (ex / "data" / "canucks.csv").write_text("Player\n")) == 2
    helper = hidden / "frames.py"
    assert plans_after(lambda: helper.write_text(helper.read_text() + "# changed\n")) == 3
    assert plans_after(lambda: (hidden / "data" / "salaries_2025.csv").write_text("x\n")) == 4
