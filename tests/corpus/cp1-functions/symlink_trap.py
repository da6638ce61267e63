# Hostile: leaves traps in the staging dir for markbook's clean-up (which runs as
# root): symbolic links to a folder on the host (VICTIM; the e2e tests rewrite that
# line with a folder they made and check afterwards) and to /etc/passwd, a folder
# and a file with all permissions removed, and a deep chain of folders. A clean-up
# that follows links would delete the host's files. The function is correct:
# 10/10; afterwards the victim folder must be intact and no staging dir left.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os

    VICTIM = "/var/tmp/markbook-victim"  # the e2e tests rewrite this line with their folder
    for _link, _target in (("victim-link", VICTIM), ("passwd-link", "/etc/passwd"), (".markbook-link", "/etc")):
        try:
            os.symlink(_target, _link)
        except OSError:
            pass
    try:
        os.makedirs("locked/inner", exist_ok=True)
        with open("locked/inner/file", "w") as _f:
            _f.write("x")
        os.symlink(VICTIM, "locked/inner/victim-link")
        os.chmod("locked/inner", 0)
        os.chmod("locked", 0)
        with open("no-permissions", "w") as _f:
            _f.write("x")
        os.chmod("no-permissions", 0)
        _deep = "deep"
        for _ in range(200):
            _deep = os.path.join(_deep, "d")
        os.makedirs(_deep, exist_ok=True)
    except OSError:
        pass


@app.function
def is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
