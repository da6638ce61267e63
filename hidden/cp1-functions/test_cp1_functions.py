from submission import is_prime  # submission.py is the student's file, copied in


def test_small():
    """Small numbers: 2 and 3 are prime, 0 and 1 are not."""
    assert is_prime(2) and is_prime(3)
    assert not is_prime(1) and not is_prime(0)


def test_edge():
    """Edge cases: a negative number, a larger prime and its neighbour."""
    assert not is_prime(-7)  # negatives — not in the public cases
    assert is_prime(7919)  # a larger prime
    assert not is_prime(7920)
