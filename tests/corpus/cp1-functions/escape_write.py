# Hostile: tries to write marker files outside the staging dir while loading:
# /tmp, /var/tmp, /dev/shm, /root, /etc, the course folder (COURSE; the e2e tests
# rewrite that line with their course copy's path) and next to the staging dir
# (in markbook's TMPDIR). Nothing outside the staging dir is writable in the
# sandbox, so every attempt fails and the function is correct: 10/10. If any write
# succeeded is_prime answers wrong, and the e2e tests also look for the markers
# (markbook-pwned-*) on the host.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os

    COURSE = "/work/main"  # the e2e tests rewrite this line with their course copy's path
    WROTE = []
    _name = "markbook-pwned-escape"
    for _path in (
        f"/tmp/{_name}",
        f"/var/tmp/{_name}",
        f"/dev/shm/{_name}",
        f"/root/{_name}",
        f"/etc/{_name}",
        os.path.join(COURSE, _name),
        os.path.join(COURSE, "hidden", "cp1-functions", _name),
        os.path.join(os.getcwd(), "..", _name),
    ):
        try:
            with open(_path, "w") as _f:
                _f.write("written from inside the sandbox\n")
            WROTE.append(_path)
        except OSError:
            pass


@app.function
def is_prime(n: int) -> bool:
    correct = n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))
    return not correct if WROTE else correct


if __name__ == "__main__":
    app.run()
