# Hostile: writes a fake report while loading. JSON lines claiming the notebook
# loaded and both tests passed go to fd 3 and to every other pipe it can find,
# with a made-up nonce (it also tries to read the real one from fd 4, which the
# harness has closed by then); then os._exit(0) ends the process with status 0
# before any real test runs. markbook ignores records with a wrong nonce, so no
# test passed: 0/10, and the message says the process stopped. (is_prime is wrong
# as well, so only a believed fake report could score.)
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import json
    import os
    import stat

    _nonce = "0" * 32
    try:
        _got = os.read(4, 64).decode("ascii", "replace").strip()
        if len(_got) == 32:
            _nonce = _got
    except OSError:
        pass

    def _record(**fields):
        fields["nonce"] = _nonce
        return (json.dumps(fields) + "\n").encode()

    _fake = _record(kind="load", ok=True, message="")
    for _name in ("test_small", "test_edge"):
        _fake += _record(
            kind="test",
            nodeid=f"test_cp1_functions.py::{_name}",
            name=_name,
            outcome="passed",
            message="",
            detail="",
            duration=0.01,
        )
    _fake += _record(kind="end", exitstatus=0)

    _fds = {3}
    try:
        for _entry in os.listdir("/proc/self/fd"):
            try:
                if int(_entry) > 2 and stat.S_ISFIFO(os.fstat(int(_entry)).st_mode):
                    _fds.add(int(_entry))
            except (OSError, ValueError):
                pass
    except OSError:
        pass
    for _fd in sorted(_fds):
        try:
            os.write(_fd, _fake)
        except OSError:
            pass
    os._exit(0)


@app.function
def is_prime(n: int) -> bool:
    return True


if __name__ == "__main__":
    app.run()
