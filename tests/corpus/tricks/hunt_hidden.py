# Looks everywhere it can for the hidden tests' text, found by the canary word the end-to-end
# test plants in them (@CANARY@ is replaced with it, reversed, before grading), and raises with what it
# found. Otherwise the function is correct. In process isolation nothing is found: 10/10, and
# the canary appears nowhere in markbook's output.
import marimo

app = marimo.App()

with app.setup:
    import os

    # Written reversed, so that this file does not contain the word it looks for.
    CANARY = "@CANARY@"[::-1]

    def _read(path):
        try:
            with open(path, "rb") as f:
                return f.read(1 << 20)
        except OSError:
            return b""

    def _hunt():
        roots = [os.getcwd(), os.path.expanduser("~"), "/tmp", "/var/tmp", "/dev/shm"]
        for pid in (p for p in os.listdir("/proc") if p.isdigit()):
            roots.append(f"/proc/{pid}/cwd")
            for name in ("cmdline", "environ"):
                if CANARY.encode() in _read(f"/proc/{pid}/{name}"):
                    return f"/proc/{pid}/{name}"
        for root in roots:
            for here, dirs, files in os.walk(root):
                for name in files:
                    data = _read(os.path.join(here, name))
                    if CANARY.encode() in data:
                        return here + "/" + name + ": " + data.decode("utf-8", "replace")[:2000]
        return ""

    FOUND = _hunt()


@app.function
def is_prime(n: int) -> bool:
    if FOUND:
        raise RuntimeError("found the hidden tests: " + FOUND)
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))
