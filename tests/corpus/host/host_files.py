# Hostile (cp1-functions): looks for the host's files outside the sandbox's allow-list. It
# lists / and walks what it can (a few levels, a bounded number of entries), reading every
# small file, and tries by name a course copy's hidden tests and reference solution (COURSE)
# and the folder markbook stages in (STAGE, the TMPDIR the e2e tests give markbook, outside
# /tmp). The e2e tests rewrite both lines, and plant files holding "mbe2e-host-canary-" in
# /srv, /opt, /var/tmp, /mnt, /media and a top folder they make. Whatever it finds goes to
# stdout and, through is_prime raising it, into the test messages. In the sandbox none of it
# is visible, so FOUND stays empty and the function is correct: 10/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os

    COURSE = "/srv/markbook-course"  # the e2e tests rewrite this line with their course copy
    STAGE = "/var/tmp/markbook-stage"  # the e2e tests rewrite this line with their TMPDIR
    WANTED = ("mbe2e-host-" + "canary-", "solution-" + "canary-", "def test_" + "small")
    FOUND = []
    _home = os.path.realpath(os.getcwd())
    _skip = ("/proc", "/sys", "/dev", "/usr", _home)

    def _look(path):
        try:
            with open(path, "rb") as f:
                text = f.read(65536).decode("utf-8", "replace")
        except OSError:
            return
        if any(w in text for w in WANTED):
            FOUND.append(path + ": " + text[:300])

    for _path in (os.path.join(COURSE, "hidden", "cp1-functions", "solution.py"),
                  os.path.join(COURSE, "hidden", "cp1-functions", "test_cp1_functions.py")):
        _look(_path)
    for _dir in (STAGE, os.path.dirname(STAGE), COURSE):
        try:
            FOUND.append("listed " + _dir + ": " + " ".join(sorted(os.listdir(_dir))))
        except OSError:
            pass
    _todo, _seen = [("/", 0)], 0
    while _todo and _seen < 20000:
        _dir, _depth = _todo.pop()
        try:
            _names = os.listdir(_dir)
        except OSError:
            continue
        for _name in _names:
            _seen += 1
            _path = os.path.join(_dir, _name)
            if _path.startswith(_skip):
                continue
            if os.path.isdir(_path) and not os.path.islink(_path):
                if _depth < 4:
                    _todo.append((_path, _depth + 1))
            elif os.path.isfile(_path):
                _look(_path)
    if FOUND:
        print("\n".join(FOUND))


@app.function
def is_prime(n: int) -> bool:
    if FOUND:
        raise RuntimeError("\n".join(FOUND)[:4000])
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
