"""Hidden tests of loop-total: the value (5 points) and the way it is computed (5 points),
checked on the notebook's source.

markbook puts the submission's text in the tests' working directory as submission.py and
beside the tests as hidden/submission.py, read-only; in process isolation it is never run
there (the tests' `submission` module calls the student's sandbox).
"""

import ast
from pathlib import Path

from submission import total


def source_of(name):
    """The function `name` as the student wrote it, parsed from the notebook's text."""
    text = open("submission.py", encoding="utf-8").read()
    assert text == (Path(__file__).parent / "submission.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    return next(node for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and node.name == name)


def test_total():
    """total adds up the numbers of a list."""
    assert total([1, 2, 3]) == 6
    assert total([]) == 0
    assert total([-4, 10, 0.5]) == 6.5


def test_total_uses_a_for_loop():
    """total is written with a for loop."""
    function = source_of("total")
    assert any(isinstance(node, ast.For) for node in ast.walk(function)), \
        "total has no for loop: write it with one"
