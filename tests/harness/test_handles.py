"""Process isolation, run as markbook runs it (two harness processes linked on fd 5, without
firejail): what crosses between the student's notebook and the hidden tests. Exceptions keep
their family, objects stay in the student's process behind handles, names of every kind can
be imported, functions keep their signature and source, and a handle can never pass a
teacher's check by itself.

One notebook and one hidden test file hold all the cases; the harness runs them once per
module, and each test below asserts on one hidden test's outcome and message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import Stage, marimo_notebook, run_harness
from pair import Pair, grade

NOTEBOOK = marimo_notebook(
    textwrap.dedent("""
    with app.setup:
        import os
        import time
        import matplotlib
        import matplotlib.pyplot as plt
        import pandas as pd

        LIMIT = 10
        TABLE = pd.DataFrame({"city": ["Oslo", None, "Rome"], "temp": [3.5, 7.0, 18.25]})
    """),
    """
    @app.function
    def add(a: int, b: int = 2) -> int:
        \"\"\"Return a + b.\"\"\"
        total = 0
        for x in (a, b):
            total += x
        return total
    """,
    """
    @app.class_definition
    class NotPositiveError(ValueError):
        \"\"\"A number that should have been positive.\"\"\"
    """,
    """
    @app.class_definition
    class BankError(Exception):
        def __init__(self, message, code):
            super().__init__(message, code)
            self.code = code

        def __str__(self):
            return f"bank error {self.code}: {self.args[0]}"
    """,
    """
    @app.class_definition
    class Overdrawn(BankError, ArithmeticError):
        pass
    """,
    """
    @app.function
    def check(n):
        if n <= 0:
            raise NotPositiveError(f"{n} is not positive", n)
        return n
    """,
    """
    @app.function
    def withdraw(amount):
        if amount > 100:
            raise Overdrawn("not enough money", 42)
        return 100 - amount
    """,
    """
    @app.function
    def interrupt():
        raise KeyboardInterrupt("stop")
    """,
    """
    @app.class_definition
    class Halt(SystemExit):
        pass
    """,
    """
    @app.function
    def leave(how):
        if how == "exit":
            raise SystemExit(3)
        raise Halt("halted")
    """,
    """
    @app.class_definition
    class Robot:
        made = 0

        def __init__(self, name):
            Robot.made += 1
            self.name = name

        def reset(self):
            self.name = "R" + self.name

        def __eq__(self, other):
            return isinstance(other, Robot) and other.name == self.name

        def __hash__(self):
            return hash(self.name)

        def __repr__(self):
            return f"Robot({self.name!r})"

        def __str__(self):
            return f"robot {self.name}"

        def __format__(self, spec):
            return f"<{self.name:{spec}}>"
    """,
    """
    @app.class_definition
    class Money:
        def __init__(self, cents):
            self.cents = cents

        def __add__(self, other):
            if isinstance(other, Money):
                return Money(self.cents + other.cents)
            if isinstance(other, int):
                return Money(self.cents + other)
            return NotImplemented

        def __radd__(self, other):
            return self.__add__(other)

        def __iadd__(self, other):
            self.cents += other.cents if isinstance(other, Money) else other
            return self

        def __mul__(self, k):
            return Money(self.cents * k)

        __rmul__ = __mul__

        def __neg__(self):
            return Money(-self.cents)

        def __lt__(self, other):
            return self.cents < other.cents

        def __eq__(self, other):
            return isinstance(other, Money) and self.cents == other.cents

        __hash__ = None

        def __bool__(self):
            return self.cents != 0

        def __int__(self):
            return self.cents

        def __repr__(self):
            return f"Money({self.cents})"
    """,
    """
    @app.class_definition
    class Deck:
        def __init__(self, cards):
            self.cards = list(cards)

        def __len__(self):
            return len(self.cards)

        def __iter__(self):
            return iter(self.cards)

        def __getitem__(self, i):
            return self.cards[i]

        def __setitem__(self, i, card):
            self.cards[i] = card

        def __delitem__(self, i):
            del self.cards[i]

        def __contains__(self, card):
            return card in self.cards
    """,
    """
    @app.class_definition
    class Timer:
        def __init__(self):
            self.state = "new"

        def __enter__(self):
            self.state = "running"
            return self

        def __exit__(self, kind, exc, tb):
            self.state = "stopped" if kind is None else f"stopped by {kind.__name__}"
            self.seen = "" if exc is None else str(exc)
            return kind is ZeroDivisionError
    """,
    """
    @app.function
    def countdown(n):
        while n > 0:
            yield n
            n -= 1
    """,
    """
    @app.function
    def make_adder(k):
        def adder(x):
            return x + k
        return adder
    """,
    """
    @app.function
    def apply(f, x):
        return f(x)
    """,
    """
    @app.function
    def plot(xs, ys):
        fig, ax = plt.subplots()
        ax.plot(xs, ys)
        ax.set_title("Growth")
        ax.set_xlabel("year")
        ax.set_ylabel("value")
        return fig
    """,
    """
    @app.function
    def panels(n):
        fig, axes = plt.subplots(1, n)
        for i, ax in enumerate(axes):
            ax.set_title(f"panel {i}")
        return list(axes)
    """,
    """
    @app.function
    def mixed():
        return [1, Robot("M"), {"robot": Robot("N"), "n": 2}]
    """,
    """
    @app.function
    def slow():
        time.sleep(60)
    """,
    """
    @app.function
    def die():
        os._exit(3)
    """,
    """
    @app.function
    def huge():
        return "x" * (20 * 1024 * 1024)
    """,
    """
    @app.class_definition
    class _Answer:
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

        def __bool__(self):
            return True

        __hash__ = object.__hash__
    """,
    """
    @app.class_definition
    class _Liar:
        @property
        def __class__(self):
            return bool

        def __eq__(self, other):
            return True

        __hash__ = object.__hash__
    """,
    """
    @app.class_definition
    class _Shout(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__
    """,
    """
    @app.class_definition
    class _Meta(type):
        def __instancecheck__(cls, obj):
            return True

        def __subclasscheck__(cls, sub):
            return True
    """,
    """
    @app.class_definition
    class Anything(metaclass=_Meta):
        pass
    """,
    """
    @app.function
    def is_prime(n):
        return _Answer()
    """,
    """
    @app.function
    def liar(n):
        return _Liar()
    """,
    """
    @app.function
    def shout(word):
        return _Shout(word.upper())
    """,
    """
    @app.cell
    def _():
        cleaned = TABLE.dropna().reset_index(drop=True)
        return (cleaned,)
    """,
    """
    @app.cell
    def _():
        mascot = Robot("M0")
        return (mascot,)
    """,
    """
    @app.function
    def robots_alive():
        import gc
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Robot)
    """,
    """
    @app.function
    def get_add():
        return add
    """,
)

TESTS = '''
import copy
import inspect
import math

import matplotlib.figure
import pandas as pd
import pytest

import submission
from submission import (LIMIT, TABLE, Anything, BankError, Deck, Money, NotPositiveError,
                        Overdrawn, Robot, Timer, add, apply, check, cleaned, countdown, die,
                        get_add, huge, interrupt, is_prime, leave, liar, make_adder, mascot,
                        mixed, panels, plot, robots_alive, shout, slow, withdraw)

KEPT = {}


def test_exception_caught_as_its_builtin_base():
    with pytest.raises(ValueError):
        check(-1)


def test_exception_caught_as_the_imported_class():
    with pytest.raises(NotPositiveError, match="-1 is not positive"):
        check(-1)


def test_exception_is_not_a_runtime_error():
    try:
        check(-1)
    except RuntimeError:
        pytest.fail("caught as RuntimeError")
    except ValueError as e:
        assert type(e) is NotPositiveError
        assert e.args == ("-1 is not positive", -1)
        assert str(e) == "('-1 is not positive', -1)"


def test_exception_family_with_two_bases_and_custom_str():
    with pytest.raises(Overdrawn) as info:
        withdraw(500)
    assert isinstance(info.value, BankError) and isinstance(info.value, ArithmeticError)
    assert not isinstance(info.value, LookupError)
    assert str(info.value) == "bank error 42: not enough money"
    assert info.value.code == 42
    assert info.value.args == ("not enough money", 42)
    assert withdraw(30) == 70


def test_uncaught_exception_shows_the_notebooks_traceback():
    check(-5)


def test_keyboard_interrupt_does_not_stop_the_tests():
    with pytest.raises(RuntimeError, match="KeyboardInterrupt: stop"):
        interrupt()
    with pytest.raises(RuntimeError, match="SystemExit: 3"):
        leave("exit")
    with pytest.raises(RuntimeError, match="halted") as info:
        leave("halt")
    assert type(info.value).__name__ == "Halt" and not isinstance(info.value, SystemExit)


def test_function_keeps_signature_name_and_doc():
    assert str(inspect.signature(add)) == "(a: int, b: int = 2) -> int"
    spec = inspect.getfullargspec(add)
    assert spec.args == ["a", "b"] and spec.defaults == (2,)
    assert spec.annotations == {"a": int, "b": int, "return": int}
    assert add.__name__ == "add" and add.__doc__ == "Return a + b."
    assert add(1, 2) == 3 and add(5) == 7 and add(a=1, b=1) == 2


def test_source_of_the_module_and_of_a_function():
    assert Path(submission.__file__).is_absolute()
    assert "def add(" in inspect.getsource(submission)
    with open("submission.py") as f:
        assert "class Robot" in f.read()
    source = inspect.getsource(add)
    assert source.lstrip().startswith("def add(") and "for x in (a, b)" in source
    assert "class Robot" not in source


def test_variables_cross_as_data():
    assert LIMIT == 10 and type(LIMIT) is int
    assert type(TABLE) is pd.DataFrame and list(TABLE.columns) == ["city", "temp"]
    assert TABLE["temp"].sum() == 28.75
    pd.testing.assert_frame_equal(cleaned, pd.DataFrame(
        {"city": ["Oslo", "Rome"], "temp": [3.5, 18.25]}))
    assert submission.LIMIT == 10


def test_class_construction_attributes_and_methods():
    r = Robot("A1")
    assert isinstance(r, Robot) and type(r) is Robot and type(r).__name__ == "Robot"
    assert r.name == "A1"
    r.reset()
    assert r.name == "RA1"
    r.name = "B2"
    assert r.name == "B2"
    assert Robot.made >= 1
    with pytest.raises(AttributeError):
        r.nothing


def test_str_repr_format_hash_and_copy():
    r = Robot("Zed")
    assert str(r) == "robot Zed" and repr(r) == "Robot('Zed')"
    assert f"{r:>5}" == "<  Zed>" and format(r, "<4") == "<Zed >"
    assert hash(r) == hash(Robot("Zed"))
    c = copy.copy(r)
    c.reset()
    assert r.name == "Zed" and c.name == "RZed"


def test_comparisons_between_handles_ask_the_students_code():
    assert Robot("A") == Robot("A")
    assert Robot("A") != Robot("B")
    assert Money(1) < Money(2)
    assert sorted([Money(3), Money(1)]) == [Money(1), Money(3)]
    assert len({Robot("A"), Robot("A"), Robot("B")}) == 2


def test_operators_including_reflected_and_in_place():
    total = Money(5) + Money(7)
    assert total == Money(12)
    assert 3 + Money(4) == Money(7)
    assert sum([Money(1), Money(2)], Money(0)) == Money(3)
    assert Money(2) * 3 == Money(6) and 3 * Money(2) == Money(6)
    assert -Money(4) == Money(-4)
    m = Money(1)
    before = m
    m += Money(10)
    assert m is before and int(m) == 11
    with pytest.raises(TypeError):
        Money(1) + "x"


def test_len_iter_next_in_indexing():
    d = Deck(["a", "b", "c"])
    assert len(d) == 3
    assert list(d) == ["a", "b", "c"]
    assert "b" in d and "z" not in d
    assert d[0] == "a" and d[-1] == "c" and d[0:2] == ["a", "b"]
    d[1] = "B"
    del d[0]
    assert list(d) == ["B", "c"]
    with pytest.raises(IndexError):
        d[10]


def test_generator_iter_and_next():
    g = countdown(3)
    assert iter(g) is g
    assert next(g) == 3
    assert list(g) == [2, 1]
    with pytest.raises(StopIteration):
        next(g)
    assert [x * 2 for x in countdown(2)] == [4, 2]


def test_with_statement():
    t = Timer()
    with t as inside:
        assert inside.state == "running"
    assert t.state == "stopped"
    with t:
        1 / 0
    assert t.state == "stopped by ZeroDivisionError"
    with pytest.raises(ValueError):
        with t:
            raise ValueError("the test's own words")
    assert t.state == "stopped by ValueError"
    assert t.seen == ""  # the class of the test's exception crosses, never its text


def test_functions_cross_both_ways():
    add3 = make_adder(3)
    assert add3(4) == 7
    assert apply(add3, 10) == 13
    assert apply(add, 1) == 3


def test_a_figure_stays_and_answers():
    fig = plot([2000, 2001], [1, 4])
    assert type(fig).__name__ == "Figure"
    ax = fig.axes[0]
    assert ax.get_title() == "Growth"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("year", "value")
    assert list(ax.lines[0].get_ydata()) == [1, 4]
    assert len(fig.axes) == 1


def test_a_list_of_handles():
    axes = panels(3)
    assert type(axes) is list and len(axes) == 3
    assert [ax.get_title() for ax in axes] == ["panel 0", "panel 1", "panel 2"]
    items = mixed()
    assert items[0] == 1 and items[2]["n"] == 2
    assert items[1].name == "M" and items[2]["robot"].name == "N"
    assert isinstance(items[1], Robot)


def test_class_imported_is_the_class_of_instances():
    a, b = Robot("x"), mixed()[1]
    assert type(a) is type(b) is Robot
    assert isinstance(NotPositiveError("made in the test"), ValueError)


def test_handle_compared_with_a_plain_value_fails():
    assert is_prime(7) == True  # noqa: E712


def test_handle_where_a_number_is_expected_fails():
    assert is_prime(7) == 42


def test_plain_value_compared_with_a_handle_fails():
    assert True == is_prime(7)  # noqa: E712


def test_handle_not_equal_fails_too():
    assert is_prime(8) != True  # noqa: E712


def test_truth_of_a_handle_fails():
    assert is_prime(7)


def test_truth_of_a_students_class_fails_even_with_its_own_bool():
    assert Money(5)


def test_lying_class_is_not_a_bool():
    value = liar(7)
    assert isinstance(value, bool)


def test_lying_class_compared_fails():
    assert liar(7) == True  # noqa: E712


def test_str_subclass_compared_fails():
    assert shout("hi") == "HI"


def test_str_subclass_is_not_a_str():
    assert isinstance(shout("hi"), str)


def test_a_metaclass_cannot_answer_isinstance():
    assert not isinstance(5, Anything) and not isinstance(Robot("x"), Anything)
    assert not issubclass(int, Anything)
    assert isinstance(Anything(), Anything)


def test_a_lambda_cannot_be_sent():
    apply(lambda x: x, 1)


def test_a_value_over_the_limit_cannot_be_sent():
    huge()


def test_handles_the_tests_drop_are_released_in_the_worker():
    before = robots_alive()
    for i in range(300):
        Robot(str(i)).reset()
    kept = [Robot("k1"), Robot("k2")]
    assert robots_alive() <= before + 2 + 1
    assert [r.name for r in kept] == ["k1", "k2"]


def test_a_function_met_again_is_the_same_local_function():
    assert get_add() is add
    assert get_add()(1, 2) == 3


def test_keeps_a_robot_then_runs_out_of_time():
    KEPT["robot"] = Robot("old")
    slow()


def test_a_handle_from_the_replaced_process_fails_clearly():
    KEPT["robot"].reset()


def test_names_and_classes_are_found_again_after_a_replacement():
    assert mascot.name == "M0" and isinstance(mascot, Robot)
    assert get_add() is add and add(1, 2) == 3
    del KEPT["robot"]  # released: a handle of a replaced process is not sent again
    assert robots_alive() >= 1
    r = Robot("new")
    r.reset()
    assert r.name == "Rnew" and isinstance(r, Robot)
    assert add(2, 2) == 4
    with pytest.raises(NotPositiveError):
        check(0)


def test_the_process_dies():
    KEPT["crashed"] = Robot("before the crash")
    die()


def test_a_handle_from_a_crashed_process_fails_clearly():
    KEPT["crashed"].name


def test_after_a_crash_a_fresh_process_answers():
    assert add(1, 1) == 2
'''

NAMES = ["LIMIT", "TABLE", "Anything", "BankError", "Deck", "Money", "NotPositiveError",
         "Overdrawn", "Robot", "Timer", "add", "apply", "check", "cleaned", "countdown", "die",
         "get_add", "huge", "interrupt", "is_prime", "leave", "liar", "make_adder", "mascot",
         "mixed", "panels", "plot", "robots_alive", "shout", "slow", "withdraw"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    """The hidden tests above against the notebook above, once."""
    pair = grade(tmp_path_factory.mktemp("handles"), NOTEBOOK,
                 {"test_objects.py": "from pathlib import Path\n" + TESTS}, NAMES, timeout=3,
                 wall=300)
    assert pair.tests.one("end") == {"exitstatus": 1}, pair.explain()
    return pair


PASSING = [
    "test_exception_caught_as_its_builtin_base", "test_exception_caught_as_the_imported_class",
    "test_exception_is_not_a_runtime_error",
    "test_exception_family_with_two_bases_and_custom_str",
    "test_keyboard_interrupt_does_not_stop_the_tests",
    "test_function_keeps_signature_name_and_doc", "test_source_of_the_module_and_of_a_function",
    "test_variables_cross_as_data", "test_class_construction_attributes_and_methods",
    "test_str_repr_format_hash_and_copy",
    "test_comparisons_between_handles_ask_the_students_code",
    "test_operators_including_reflected_and_in_place", "test_len_iter_next_in_indexing",
    "test_generator_iter_and_next", "test_with_statement", "test_functions_cross_both_ways",
    "test_a_figure_stays_and_answers", "test_a_list_of_handles",
    "test_class_imported_is_the_class_of_instances",
    "test_a_metaclass_cannot_answer_isinstance",
    "test_handles_the_tests_drop_are_released_in_the_worker",
    "test_a_function_met_again_is_the_same_local_function",
    "test_names_and_classes_are_found_again_after_a_replacement",
    "test_after_a_crash_a_fresh_process_answers",
]


@pytest.mark.parametrize("name", PASSING)
def test_forwarded_behaviour_passes(run: Pair, name: str) -> None:
    result = run.test(name)
    assert result["outcome"] == "passed", (result["message"], result["detail"])


# (hidden test, what its failure message says)
REFUSED = [
    ("test_handle_compared_with_a_plain_value_fails",
     "is_prime returned a _Answer where the tests expect a bool: return a bool. A _Answer "
     "stays in the notebook's sandbox (it cannot be sent between the sandboxes as a value), "
     "so the tests cannot compare it with their bool."),
    ("test_handle_where_a_number_is_expected_fails",
     "is_prime returned a _Answer where the tests expect an int: return an int."),
    ("test_plain_value_compared_with_a_handle_fails",
     "is_prime returned a _Answer where the tests expect a bool"),
    ("test_handle_not_equal_fails_too",
     "is_prime returned a _Answer where the tests expect a bool"),
    ("test_truth_of_a_handle_fails",
     "is_prime returned a _Answer where the tests expect a truth value: return a bool."),
    ("test_truth_of_a_students_class_fails_even_with_its_own_bool",
     "Money() returned a Money where the tests expect a truth value"),
    ("test_lying_class_compared_fails", "liar returned a _Liar where the tests expect a bool"),
    ("test_str_subclass_compared_fails", "shout returned a _Shout where the tests expect a str"),
    ("test_a_lambda_cannot_be_sent", "cannot be sent between the sandboxes"),
    ("test_a_value_over_the_limit_cannot_be_sent", "cannot be sent between the sandboxes"),
    ("test_keeps_a_robot_then_runs_out_of_time", "slow() did not return within 3 s"),
    ("test_a_handle_from_the_replaced_process_fails_clearly",
     "was an object in the notebook's process that was replaced when a call ran out of time"),
    ("test_the_process_dies", "The notebook stopped its Python process during die() "
                              "(exit status 3)"),
    ("test_a_handle_from_a_crashed_process_fails_clearly",
     "Robot was an object in the notebook's process that was replaced when the notebook's "
     "process ended"),
]


@pytest.mark.parametrize("name,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_must_not_pass_fails_with_a_clear_message(run: Pair, name: str,
                                                       message: str) -> None:
    result = run.test(name)
    assert result["outcome"] == "failed"
    assert message in result["message"], result["message"]


def test_a_lying_class_is_not_an_instance_of_what_it_claims(run: Pair) -> None:
    for name in ("test_lying_class_is_not_a_bool", "test_str_subclass_is_not_a_str"):
        result = run.test(name)
        assert result["outcome"] == "failed" and "assert False" in result["message"], result


def test_the_students_traceback_is_in_the_detail_not_the_message(run: Pair) -> None:
    result = run.test("test_uncaught_exception_shows_the_notebooks_traceback")
    assert result["outcome"] == "failed"
    assert result["message"] == "submission.NotPositiveError: ('-5 is not positive', -5)", result
    detail = result["detail"]
    assert "The notebook's traceback, in the student's sandbox:" in detail
    assert 'File "submission.py", line' in detail and "in check" in detail
    assert 'raise NotPositiveError(f"{n} is not positive", n)' in detail
    assert "cannot be sent between the sandboxes" not in detail + result["message"]
    assert "proxy.py" not in detail


def test_no_ordinary_exception_says_cannot_be_sent(run: Pair) -> None:
    for result in run.tests.all("test"):
        if "Error" in result["message"] and "SandboxError" not in result["message"]:
            assert "cannot be sent between the sandboxes" not in result["message"], result


def test_the_student_side_loaded_once_per_worker(run: Pair) -> None:
    # The first worker's load is the one reported, with the loader's advice about names found
    # only by running cells; replacements load again silently.
    load = run.student.one("load")
    assert load["ok"] is True
    assert "cleaned" in load["message"] and "mascot" in load["message"]
    assert "by running the notebook's cells" in load["message"], load


def test_all_outcomes_are_accounted_for(run: Pair) -> None:
    named = set(PASSING) | {r[0] for r in REFUSED} | {
        "test_lying_class_is_not_a_bool", "test_str_subclass_is_not_a_str",
        "test_uncaught_exception_shows_the_notebooks_traceback"}
    assert set(run.outcomes()) == named


def test_the_names_record_lists_every_name_the_tests_import(stage: Stage) -> None:
    notebook = marimo_notebook(
        "with app.setup:\n    import pandas as pd\n    LIMIT = 3\n    frame = pd.DataFrame()",
        """
        @app.function
        def add(a, b):
            return a + b
        """,
        """
        @app.class_definition
        class Robot:
            pass
        """,
        """
        @app.function
        def unused():
            return 1
        """,
        """
        @app.cell
        def _():
            total = LIMIT * 2
            return (total,)
        """)
    tests = """
        import submission
        from submission import LIMIT, Robot, add, pd, total


        def test_names():
            assert submission.frame is not None
        """
    report = run_harness(stage(notebook, {"test_names.py": tests}), mode="collect")
    assert report.one("load")["ok"], report.records
    assert report.one("names") == {
        "names": ["LIMIT", "Robot", "add", "frame", "pd", "total", "unused"]}


def test_a_name_the_notebook_lacks_fails_with_the_loaders_message(tmp_path: Path) -> None:
    notebook = marimo_notebook("with app.setup:\n    LIMIT = 3", """
        @app.function
        def add(a, b):
            return a + b
        """)
    tests = """
        from submission import add, helper


        def test_add():
            assert add(1, 2) == 3
        """
    pair = grade(tmp_path, notebook, {"test_lacks.py": tests}, ["add", "helper"])
    load = pair.student.one("load")
    assert load["ok"] is False
    assert load["message"].startswith(
        "helper is not defined at the top level of the notebook"), load
    assert pair.tests.all("test") == [] and pair.tests.one("end") == {"exitstatus": 2}
