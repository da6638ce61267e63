"""The pytest plugin and the report: plan, test outcomes, time limits, records, tampering."""

from __future__ import annotations

import json
import textwrap

from conftest import IS_PRIME, NONCE, SETUP, TEST_IS_PRIME, Stage, marimo_notebook, run_harness

NOTEBOOK = marimo_notebook(SETUP, IS_PRIME)

PLAN_TESTS = '''
import pytest
from submission import is_prime


@pytest.mark.points(3)
def test_small():
    """Small numbers.

    2 and 3 are prime.
    """
    assert is_prime(2)


@pytest.mark.points(1)
@pytest.mark.parametrize("n", [4, 9])
def test_composite(n):
    assert not is_prime(n)


@pytest.mark.points(5)
class TestEdges:
    @pytest.mark.points(2)
    def test_negative(self):
        """Negative numbers are not prime."""
        assert not is_prime(-7)

    def test_large(self):
        assert is_prime(7919)


def test_unmarked():
    assert is_prime(3)
'''


def test_collect_writes_the_plan(stage: Stage) -> None:
    report = run_harness(stage(NOTEBOOK, {"test_plan.py": PLAN_TESTS}), mode="collect")
    assert report.kinds() == ["sandbox", "parse", "load", "names"] + ["plan"] * 6 + ["end"]
    assert report.one("names") == {"names": ["is_prime"]}
    assert report.all("plan") == [
        {"nodeid": "test_plan.py::test_small", "name": "test_small",
         "function": "test_plan.py::test_small",
         "description": "Small numbers.\n\n2 and 3 are prime.", "points": 3},
        {"nodeid": "test_plan.py::test_composite[4]", "name": "test_composite[4]",
         "function": "test_plan.py::test_composite", "description": "", "points": 1},
        {"nodeid": "test_plan.py::test_composite[9]", "name": "test_composite[9]",
         "function": "test_plan.py::test_composite", "description": "", "points": 1},
        {"nodeid": "test_plan.py::TestEdges::test_negative", "name": "test_negative",
         "function": "test_plan.py::TestEdges::test_negative",
         "description": "Negative numbers are not prime.", "points": 2},
        {"nodeid": "test_plan.py::TestEdges::test_large", "name": "test_large",
         "function": "test_plan.py::TestEdges::test_large", "description": "", "points": 5},
        {"nodeid": "test_plan.py::test_unmarked", "name": "test_unmarked",
         "function": "test_plan.py::test_unmarked", "description": "", "points": None},
    ]
    assert report.one("end") == {"exitstatus": 0}


def test_plan_names_the_function_of_each_case_and_keeps_fractional_points(
        stage: Stage) -> None:
    """Cases of one parametrized function share its `function`, even when their ids hold
    brackets or "::"; a module-level marker applies to each function; points(0.5) and
    points(2.0) are numbers."""
    tests = """
        import pytest

        pytestmark = pytest.mark.points(0.5)


        @pytest.mark.parametrize("pair", ["a::b", "[x]", "plain"])
        def test_odd_ids(pair):
            pass


        @pytest.mark.parametrize("n", [pytest.param(1, id="one"), pytest.param(2, id="two")])
        @pytest.mark.parametrize("m", [3])
        def test_stacked(n, m):
            pass


        @pytest.mark.points(2.0)
        class TestMoney:
            @pytest.mark.parametrize("x", [1, 2])
            def test_add(self, x):
                pass

            @pytest.mark.points(1.25)
            def test_str(self):
                pass
    """
    report = run_harness(stage(NOTEBOOK, {"test_frac.py": tests}), mode="collect")
    plan = [(p["nodeid"], p["function"], p["points"]) for p in report.all("plan")]
    assert plan == [
        ("test_frac.py::test_odd_ids[a::b]", "test_frac.py::test_odd_ids", 0.5),
        ("test_frac.py::test_odd_ids[[x]]", "test_frac.py::test_odd_ids", 0.5),
        ("test_frac.py::test_odd_ids[plain]", "test_frac.py::test_odd_ids", 0.5),
        ("test_frac.py::test_stacked[3-one]", "test_frac.py::test_stacked", 0.5),
        ("test_frac.py::test_stacked[3-two]", "test_frac.py::test_stacked", 0.5),
        ("test_frac.py::TestMoney::test_add[1]", "test_frac.py::TestMoney::test_add", 2.0),
        ("test_frac.py::TestMoney::test_add[2]", "test_frac.py::TestMoney::test_add", 2.0),
        ("test_frac.py::TestMoney::test_str", "test_frac.py::TestMoney::test_str", 1.25),
    ]
    assert all(type(points) is float for _, _, points in plan)
    assert report.one("end") == {"exitstatus": 0}


def test_run_reports_each_parametrized_test(stage: Stage) -> None:
    report = run_harness(stage(NOTEBOOK, {"test_plan.py": PLAN_TESTS}))
    assert report.outcomes() == {
        "test_plan.py::test_small": "passed", "test_plan.py::test_composite[4]": "passed",
        "test_plan.py::test_composite[9]": "passed",
        "test_plan.py::TestEdges::test_negative": "passed",
        "test_plan.py::TestEdges::test_large": "passed", "test_plan.py::test_unmarked": "passed"}
    record = report.test("test_plan.py::test_composite[9]")
    assert record["name"] == "test_composite[9]"
    assert (record["message"], record["detail"]) == ("", "")
    assert isinstance(record["duration"], float) and 0 <= record["duration"] < 2
    assert report.one("end") == {"exitstatus": 0}


def test_invalid_points_are_written_as_text(stage: Stage) -> None:
    tests = """
        import pytest


        @pytest.mark.points("3")
        def test_text():
            pass


        @pytest.mark.points(-1)
        def test_negative():
            pass


        @pytest.mark.points(0.333)
        def test_three_decimals():
            pass


        @pytest.mark.points(0)
        def test_zero():
            pass


        @pytest.mark.points(True)
        def test_bool():
            pass


        @pytest.mark.points(float("nan"))
        def test_nan():
            pass


        @pytest.mark.points
        def test_empty():
            pass
    """
    report = run_harness(stage(NOTEBOOK, {"test_bad.py": tests}), mode="collect")
    assert [(p["nodeid"], p["points"]) for p in report.all("plan")] == [
        ("test_bad.py::test_text", "'3'"), ("test_bad.py::test_negative", "-1"),
        ("test_bad.py::test_three_decimals", "0.333"), ("test_bad.py::test_zero", "0"),
        ("test_bad.py::test_bool", "True"), ("test_bad.py::test_nan", "nan"),
        ("test_bad.py::test_empty", "")]
    assert report.one("end") == {"exitstatus": 0}
    assert "markbook: test_bad.py::test_three_decimals: @pytest.mark.points needs a number " \
           "above 0 with at most two decimals, got points(0.333)" in report.stderr


def test_a_hanging_test_fails_alone(stage: Stage) -> None:
    notebook = marimo_notebook(SETUP, IS_PRIME, """
        @app.function
        def spin():
            while True:
                pass
        """)
    tests = """
        from submission import is_prime, spin


        def test_before():
            assert is_prime(2)


        def test_hang():
            spin()


        def test_after():
            assert not is_prime(1)
    """
    report = run_harness(stage(notebook, {"test_hang.py": tests}), timeout=1)
    assert report.outcomes() == {"test_hang.py::test_before": "passed",
                                 "test_hang.py::test_hang": "failed",
                                 "test_hang.py::test_after": "passed"}
    hang = report.test("test_hang.py::test_hang")
    assert hang["message"] == "Failed: Timeout >1.0s"
    assert 0.9 <= hang["duration"] < 1.9
    assert report.one("end") == {"exitstatus": 1}


def test_outcomes_skip_xfail_xpass_error_and_failure(stage: Stage) -> None:
    tests = """
        import pytest
        from submission import is_prime


        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")


        @pytest.fixture
        def bad_teardown():
            yield
            raise RuntimeError("teardown broke")


        @pytest.mark.skip(reason="not graded yet")
        def test_skipped():
            pass


        def test_skips_itself():
            pytest.skip("later")


        @pytest.mark.xfail(reason="known bug")
        def test_xfailed():
            assert is_prime(4)


        @pytest.mark.xfail(reason="known bug")
        def test_xpassed():
            assert is_prime(5)


        def test_setup_error(broken):
            pass


        def test_teardown_error(bad_teardown):
            assert is_prime(2)


        def test_failed():
            assert is_prime(4)
    """
    report = run_harness(stage(NOTEBOOK, {"test_kinds.py": tests}))
    line = textwrap.dedent(tests).splitlines().index("    assert is_prime(4)", -4) + 1
    assert report.outcomes() == {
        "test_kinds.py::test_skipped": "skipped", "test_kinds.py::test_skips_itself": "skipped",
        "test_kinds.py::test_xfailed": "xfailed", "test_kinds.py::test_xpassed": "xpassed",
        "test_kinds.py::test_setup_error": "error",
        "test_kinds.py::test_teardown_error": "error", "test_kinds.py::test_failed": "failed"}
    assert report.test("test_kinds.py::test_skipped")["message"] == "Skipped: not graded yet"
    assert report.test("test_kinds.py::test_skips_itself")["message"] == "Skipped: later"
    assert report.test("test_kinds.py::test_setup_error")["message"] == \
        "RuntimeError: fixture broke"
    assert report.test("test_kinds.py::test_teardown_error")["message"] == \
        "RuntimeError: teardown broke"
    failed = report.test("test_kinds.py::test_failed")
    assert failed["message"] == "assert False\n +  where False = is_prime(4)"
    assert failed["detail"].endswith(f"test_kinds.py:{line}: AssertionError")
    assert report.all("tamper") == []


def test_long_messages_are_capped(stage: Stage) -> None:
    tests = """
        def test_long():
            raise ValueError("x" * 100_000)
    """
    report = run_harness(stage("X = 1\n", {"test_long.py": tests}))
    record = report.test("test_long.py::test_long")
    assert record["outcome"] == "failed"
    assert len(record["message"]) == 500 and record["message"].endswith("...")
    assert len(record["detail"].encode()) == 8192 and record["detail"].startswith("...\n")


def test_a_fake_record_from_the_submission_lacks_the_nonce(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP + "    import os\n"
        "    fake = '{\"nonce\": \"guess\", \"kind\": \"test\", \"nodeid\": "
        "\"test_prime.py::test_small\", \"outcome\": \"passed\"}\\n'\n"
        "    os.write(3, fake.encode())\n"
        "    try:\n        os.fstat(4)\n        NONCE_FD_OPEN = True\n"
        "    except OSError:\n        NONCE_FD_OPEN = False\n",
        IS_PRIME.replace("return all", "return n == 9 or all"))
    tests = TEST_IS_PRIME + """

def test_nonce_fd_closed():
    from submission import NONCE_FD_OPEN
    assert NONCE_FD_OPEN is False
"""
    report = run_harness(stage(notebook, {"test_prime.py": tests}))
    assert report.others == [{"nonce": "guess", "kind": "test",
                              "nodeid": "test_prime.py::test_small", "outcome": "passed"}]
    assert report.outcomes() == {"test_prime.py::test_small": "failed",
                                 "test_prime.py::test_nonce_fd_closed": "passed"}
    assert NONCE not in report.stdout + report.stderr


def test_replacing_test_report_while_loading_is_tamper(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP + "    import _pytest.reports\n"
        "    class Fake(_pytest.reports.TestReport):\n        pass\n"
        "    _pytest.reports.TestReport = Fake\n", IS_PRIME)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("parse")["flags"] == ["pytest"]
    assert report.all("tamper") == [
        {"message": "_pytest.reports.TestReport was replaced"}]


def test_replacing_call_and_report_in_a_test_is_tamper(stage: Stage) -> None:
    notebook = marimo_notebook(SETUP, """
        @app.function
        def is_prime(n):
            import _pytest.runner
            real = _pytest.runner.call_and_report
            def always_pass(item, when, log=True, **kwds):
                report = real(item, when, log=False, **kwds)
                report.outcome = "passed"
                item.ihook.pytest_runtest_logreport(report=report)
                return report
            _pytest.runner.call_and_report = always_pass
            return False
        """)
    tests = TEST_IS_PRIME + "\n\ndef test_second():\n    from submission import is_prime\n" \
        "    assert is_prime(2)\n"
    report = run_harness(stage(notebook, {"test_prime.py": tests}))
    assert report.all("tamper") == [
        {"message": "_pytest.runner.call_and_report was replaced"}]
    # The first tamper record comes before the test record it would have faked.
    assert report.kinds().index("tamper") < report.kinds().index("test")


def test_registering_a_plugin_after_collection_is_tamper(stage: Stage) -> None:
    notebook = marimo_notebook(SETUP, """
        @app.function
        def is_prime(n):
            import gc
            import _pytest.config
            config = [o for o in gc.get_objects() if isinstance(o, _pytest.config.Config)][0]

            class Sneaky:
                def __repr__(self):
                    return "<Sneaky>"

            config.pluginmanager.register(Sneaky(), "sneaky")
            return n == 2
        """)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("parse")["flags"] == ["gc", "pytest"]
    assert {"message": "plugin <Sneaky> was registered after collection started"} \
        in report.all("tamper")


def test_replacing_the_submission_module_is_tamper(stage: Stage) -> None:
    notebook = marimo_notebook(SETUP, """
        @app.function
        def is_prime(n):
            import sys
            import types
            sys.modules["submission"] = types.ModuleType("submission")
            return n == 2
        """)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("parse")["flags"] == ["sys.modules"]
    assert report.all("tamper") == [{"message": "sys.modules['submission'] was replaced"}]


def test_honest_runs_with_monkeypatch_and_libraries_are_not_tamper(stage: Stage) -> None:
    notebook = marimo_notebook(
        "with app.setup:\n    import marimo as mo\n    import numpy as np\n"
        "    import pandas as pd\n    import matplotlib.pyplot as plt\n",
        """
        @app.function
        def ask() -> int:
            return int(input("n? ")) * 2
        """,
        """
        @app.function
        def plot(xs):
            fig, ax = plt.subplots()
            ax.plot(xs, np.square(xs))
            return pd.DataFrame({"x": xs})
        """)
    tests = """
        import builtins
        from submission import ask, plot


        def test_ask(monkeypatch):
            monkeypatch.setattr(builtins, "input", lambda prompt: "21")
            assert ask() == 42


        def test_plot(tmp_path, tmpdir, capsys):
            print("hello")
            assert len(plot([1, 2, 3])) == 3
            assert capsys.readouterr().out == "hello\\n"
    """
    report = run_harness(stage(notebook, {"test_honest.py": tests}))
    assert report.outcomes() == {"test_honest.py::test_ask": "passed",
                                 "test_honest.py::test_plot": "passed"}
    assert report.all("tamper") == []


def test_sandbox_record_comes_first_with_ints(stage: Stage) -> None:
    report = run_harness(stage("X = 1\n", {"test_x.py": "def test_x():\n    pass\n"}))
    assert report.kinds()[0] == "sandbox"
    sandbox = report.one("sandbox")
    assert sorted(sandbox) == ["interfaces", "no_new_privs", "seccomp", "uid"]
    assert all(type(sandbox[k]) is int for k in ("uid", "no_new_privs", "seccomp"))
    assert "lo" in sandbox["interfaces"]


def test_every_record_is_one_json_line_within_64_kib(stage: Stage) -> None:
    tests = """
        import pytest


        @pytest.mark.parametrize("n", range(3))
        def test_big(n):
            assert "\\u00e9" * 40_000 == "", "\\udcff" + "\\u00e9" * 40_000
    """
    report = run_harness(stage("X = 1\n", {"test_big.py": tests}))
    assert report.outcomes() == {f"test_big.py::test_big[{n}]": "failed" for n in range(3)}
    for record in report.records:
        assert len(json.dumps(record, separators=(",", ":"))) < 64 * 1024


def test_without_fds_it_fails_clearly(stage: Stage) -> None:
    report = run_harness(stage("X = 1\n"), fds=False)
    assert report.returncode == 2
    assert report.stderr.startswith("run.py: fd 3 (the report channel) is not open.")


def test_files_the_notebook_writes_beside_the_tests_are_never_read(stage: Stage) -> None:
    # A conftest.py that passes every test, an ini file that deselects them, and a test file
    # of its own, all written into the staging dir while the notebook loads.
    notebook = marimo_notebook(
        SETUP + "    import pathlib\n"
        "    home = pathlib.Path.cwd()\n"
        "    (home / 'conftest.py').write_text('import pytest\\n'\n"
        "        '@pytest.hookimpl(hookwrapper=True)\\n'\n"
        "        'def pytest_runtest_makereport(item, call):\\n'\n"
        "        '    o = yield\\n'\n"
        "        '    o.get_result().outcome = \"passed\"\\n')\n"
        "    (home / 'pytest.ini').write_text('[pytest]\\naddopts = -k nothing\\n')\n"
        "    (home / 'test_mine.py').write_text('def test_free(): pass\\n')\n",
        IS_PRIME.replace("return all", "return n == 9 or all"))
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.outcomes() == {"test_prime.py::test_small": "failed"}
