"""Grade the corpus (tests/corpus/<slug>/) and compare with its expected.json, file by file."""

from __future__ import annotations

import json
import shutil

import pytest

from markbook_e2e import (BATCHES, MAX_POINTS, PLANS, batch_of, load_expected)

CASES = [(slug, name) for slug in ("cp1-functions", "ds1-sales")
         for name in sorted(load_expected(slug))]


def result_of(world, slug: str, name: str) -> dict:
    run = world.batch(batch_of(slug, name))
    return run.by_name()[name]


def check_shape(result: dict, slug: str) -> None:
    """What every --json object must look like, whatever the submission did."""
    assert set(result) >= {"file", "status", "score", "max_points", "message", "flags", "tests"}
    assert result["status"] in ("done", "error")
    assert type(result["score"]) is int and type(result["max_points"]) is int
    assert result["max_points"] == MAX_POINTS[slug]
    assert 0 <= result["score"] <= result["max_points"]
    assert type(result["message"]) is str
    assert type(result["flags"]) is list and all(type(f) is str for f in result["flags"])
    assert type(result["tests"]) is list
    plan = {name: (points, description) for name, points, description in PLANS[slug]}
    names = [t["name"] for t in result["tests"]]
    # The tests listed come from the plan, in its order (a run that never loaded may list none).
    assert names == [n for n, _, _ in PLANS[slug] if n in names], names
    for test in result["tests"]:
        assert set(test) >= {"name", "description", "passed", "points", "max_points", "message"}
        assert type(test["passed"]) is bool
        assert type(test["points"]) is int and type(test["max_points"]) is int
        assert type(test["message"]) is str
        assert test["max_points"] == plan[test["name"]][0], test
        assert test["description"] == plan[test["name"]][1], test
        assert test["points"] == (test["max_points"] if test["passed"] else 0) or \
            result["score"] == 0, test
    if result["status"] == "done" and result["score"] > 0:
        assert sum(t["points"] for t in result["tests"]) == result["score"]
        assert names == [n for n, _, _ in PLANS[slug]], "a scored run lists every planned test"


@pytest.mark.parametrize("slug,name", CASES, ids=[f"{s}/{n}" for s, n in CASES])
def test_corpus_file(world, slug, name):
    """Each corpus file gets exactly the status, score, message and flags expected.json says."""
    expected = load_expected(slug)[name]
    result = result_of(world, slug, name)
    context = f"{slug}/{name}: {result}"
    check_shape(result, slug)
    assert result["status"] == expected["status"], context
    assert result["score"] == expected["score"], context
    for phrase in expected.get("message_contains", []):
        assert phrase.casefold() in result["message"].casefold(), context
    # Said by the run's message or by one of its tests' (process isolation reports a notebook
    # that ends its process during a test on that test).
    messages = [result["message"], *(t["message"] for t in result["tests"])]
    for phrase in expected.get("any_message_contains", []):
        assert any(phrase.casefold() in m.casefold() for m in messages), context
    for flag in expected.get("flags_contain", []):
        assert flag in result["flags"], context
    if "tests_passed" in expected:
        passed = [t["name"] for t in result["tests"] if t["passed"]]
        assert sorted(passed) == sorted(expected["tests_passed"]), context


def test_correct_submission_has_no_message_and_no_flags(world):
    """A correct notebook importing only math: nothing to explain, nothing flagged."""
    result = result_of(world, "cp1-functions", "correct.py")
    assert result["message"] == ""
    assert result["flags"] == []


def test_failed_tests_say_why(world):
    """A failing test carries a message for the student (the assertion that failed)."""
    result = result_of(world, "cp1-functions", "partly_right.py")
    edge = next(t for t in result["tests"] if t["name"] == "test_edge")
    assert edge["passed"] is False and edge["message"] != ""


@pytest.mark.parametrize("batch", sorted(BATCHES))
def test_batch_exit_status(world, batch):
    """Every file of every batch was graded (whatever its score): exit 0, one result each."""
    run = world.batch(batch)
    assert run.returncode == 0, run.describe()
    assert len(run.by_name()) == len(BATCHES[batch][1])


def test_jobs_1_gives_the_same_results_as_jobs_2(world):
    """--jobs only changes how many run at once, never a result or the order of the output."""
    names = ["correct.py", "partly_right.py", "scaffold.py", "syntax_error.py",
             "missing_function.py", "function_in_cell.py", "plain.py", "hang_one_test.py"]
    parallel = world.batch("ordinary").by_name()
    files = [world.submission("cp1-functions", n, "jobs1") for n in names]
    run = world.grade("cp1-functions", files, jobs=1)
    assert run.returncode == 0, run.describe()
    serial = run.by_name()

    def essence(r: dict) -> tuple:
        return (r["status"], r["score"], r["message"], sorted(r["flags"]),
                [(t["name"], t["passed"], t["points"]) for t in r["tests"]])

    for name in names:
        assert essence(serial[name]) == essence(parallel[name]), name


def test_same_file_twice_is_graded_twice(world):
    """Giving one file twice gives two results, in order."""
    correct = world.submission("cp1-functions", "correct.py", "twice")
    partly = world.submission("cp1-functions", "partly_right.py", "twice")
    files = [correct, partly, correct]
    run = world.grade("cp1-functions", files, jobs=2)
    assert run.returncode == 0, run.describe()
    assert [r["file"] for r in run.results] == [str(f) for f in files]
    assert [r["score"] for r in run.results] == [10, 5, 10]


# In "shared" isolation the notebook runs in the harness's own process (one sandbox), so the
# attacks on the harness land: the plugin must catch them. Same files, the scores they must get.
SHARED_EXPECTED = {
    "correct.py": (10, []),
    "partly_right.py": (5, []),
    "hang_one_test.py": (5, []),
    "function_in_cell.py": (10, []),
    "daemon.py": (10, []),
    "patch_pytest.py": (0, ["tamper"]),
    "patch_testreport.py": (0, ["tamper"]),
    "fake_report.py": (0, ["stopped"]),
    "exit_early.py": (0, ["stopped"]),
}


@pytest.fixture(scope="module")
def shared_run(world):
    course = world.root / "shared-course"
    shutil.copytree(world.course, course)
    config_path = course / "exercises" / "cp1-functions" / "exercise.json"
    config = json.loads(config_path.read_text())
    config["isolation"] = "shared"
    config_path.write_text(json.dumps(config))
    files = [world.submission("cp1-functions", name, "shared") for name in SHARED_EXPECTED]
    run = world.grade("cp1-functions", files, jobs=2, course=course)
    assert run.returncode == 0, run.describe()
    return run


@pytest.mark.parametrize("name", sorted(SHARED_EXPECTED))
def test_shared_isolation(world, shared_run, name):
    """With "isolation": "shared", each file still gets exactly its score."""
    score, phrases = SHARED_EXPECTED[name]
    result = shared_run.by_name()[name]
    check_shape(result, "cp1-functions")
    assert (result["status"], result["score"]) == ("done", score), result
    for phrase in phrases:
        assert phrase in result["message"].casefold(), result
