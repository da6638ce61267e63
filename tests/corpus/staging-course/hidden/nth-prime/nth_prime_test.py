"""Hidden tests of nth-prime, laid out as Exercism's Python track lays them out: a file named
<exercise>_test.py with a unittest.TestCase, which pytest collects by its default names. The
cases are those of Exercism's nth-prime exercise (problem-specifications): the 1st, 2nd, 6th
and 10,001st primes, no zeroth prime, and the first twenty primes. Six tests, 2 points each.
"""

import unittest

from submission import prime


def first_primes(count):
    """prime(1), ..., prime(count)."""
    return [prime(position) for position in range(1, count + 1)]


class NthPrimeTest(unittest.TestCase):
    def test_first_prime(self):
        self.assertEqual(prime(1), 2)

    def test_second_prime(self):
        self.assertEqual(prime(2), 3)

    def test_sixth_prime(self):
        self.assertEqual(prime(6), 13)

    def test_big_prime(self):
        self.assertEqual(prime(10001), 104743)

    def test_there_is_no_zeroth_prime(self):
        with self.assertRaises(ValueError) as caught:
            prime(0)
        self.assertEqual(caught.exception.args[0], "there is no zeroth prime")

    def test_first_twenty_primes(self):
        self.assertEqual(first_primes(20), [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41,
                                            43, 47, 53, 59, 61, 67, 71])
