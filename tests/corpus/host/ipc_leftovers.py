# Hostile (cp1-functions): leaves inter-process objects behind, which outlive a process and,
# for shared memory, cannot be reclaimed by the OOM killer: four SysV shared memory segments
# of 16 MiB (touched), a SysV semaphore set and message queue, a POSIX message queue, and a
# POSIX shared memory object in /dev/shm. Keys start at KEY and names with NAME. Each sandbox
# has an IPC namespace of its own that ends with it (and a read-only /dev/shm), so none is
# left on the host (the e2e tests look in /proc/sysvipc, an mqueue mount and /dev/shm).
# is_prime is correct once the seven SysV and POSIX objects were made (all but the /dev/shm
# one), and raises otherwise, so 10/10 also shows that they existed during the run.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import ctypes
    import ctypes.util
    import os

    KEY = 0x4D420000
    NAME = "/markbook-ipc-leftover"
    MADE = []
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.shmat.restype = ctypes.c_void_p
    _IPC_CREAT = 0o1000
    for _i in range(4):
        _id = _libc.shmget(KEY + _i, 16 << 20, _IPC_CREAT | 0o666)
        if _id >= 0:
            _addr = _libc.shmat(_id, None, 0)
            if _addr not in (None, ctypes.c_void_p(-1).value):
                ctypes.memset(_addr, 1, 16 << 20)
                MADE.append(f"shm {KEY + _i:#x}")
    if _libc.semget(KEY + 8, 4, _IPC_CREAT | 0o666) >= 0:
        MADE.append("sem")
    if _libc.msgget(KEY + 9, _IPC_CREAT | 0o666) >= 0:
        MADE.append("msg")
    _rt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
    if _rt.mq_open(NAME.encode(), os.O_CREAT | os.O_RDWR, 0o666, None) >= 0:
        MADE.append("mq")
    try:
        _fd = os.open("/dev/shm" + NAME, os.O_CREAT | os.O_RDWR, 0o666)
        os.ftruncate(_fd, 1 << 20)
        MADE.append("posix shm")
    except OSError:
        pass



@app.function
def is_prime(n: int) -> bool:
    if len(MADE) < 7:
        raise RuntimeError("made only: " + ", ".join(MADE))
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
