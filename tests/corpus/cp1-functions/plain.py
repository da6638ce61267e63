# A plain Python file, no marimo at all (a student who used another editor).
# The function is correct: 10/10.
def is_prime(n):
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True


if __name__ == "__main__":
    print([n for n in range(30) if is_prime(n)])
