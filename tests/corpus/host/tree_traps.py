# Hostile (cp1-functions): traps for what markbook does as root in the staging folder while
# and after the notebook runs. While loading it builds a chain of folders 2,400 deep (a
# recursive walk with a path buffer per level overflowed the thread's stack), makes folders
# unreadable, tries hard links to a file outside, and leaves a child process that swaps, with
# renameat2(RENAME_EXCHANGE) in a loop, a folder and a symbolic link to a victim outside
# (VICTIM, rewritten by the e2e tests with their victim folder): a markbook that looked at a
# path, then opened or chmod()ed it by name, would act on the victim. The function is correct:
# 10/10; the victim's mode, owner and content must not change, and markbook must not crash.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import ctypes
    import os

    VICTIM = "/var/tmp/markbook-victim"  # the e2e tests rewrite this line with their folder
    DEPTH = 2400
    _home = os.getcwd()
    try:
        for _ in range(DEPTH):
            os.mkdir("d")
            os.chdir("d")
        with open("bottom", "w") as _f:
            _f.write("x")
    except OSError:
        pass
    os.chdir(_home)
    for _target, _name in ((VICTIM, "dir-link"), (os.path.join(VICTIM, "keep-me.txt"), "file-link")):
        try:
            os.mkdir("swap-" + _name, 0)  # a folder markbook cannot read, to tempt a chmod
            os.symlink(_target, _name)
        except OSError:
            pass
    for _i in range(20):
        for _src, _dst in ((os.path.join(VICTIM, "keep-me.txt"), f"hard-victim-{_i}"),
                           ("tree-traps-own", f"hard-own-{_i}")):
            try:
                if not os.path.exists("tree-traps-own"):
                    open("tree-traps-own", "w").close()
                os.link(_src, _dst)
            except OSError:
                pass
    if os.fork() == 0:
        import time
        _libc = ctypes.CDLL(None, use_errno=True)
        _AT_FDCWD, _RENAME_EXCHANGE = -100, 2
        while True:  # thousands of swaps a second, without taking a whole CPU
            for _name in ("dir-link", "file-link"):
                _libc.renameat2(_AT_FDCWD, ("swap-" + _name).encode(), _AT_FDCWD,
                                _name.encode(), _RENAME_EXCHANGE)
            time.sleep(0.0001)


@app.function
def is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
