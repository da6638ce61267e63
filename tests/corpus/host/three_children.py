# Hostile (ds1-sales, memory_mb 512): three child processes of 300 MiB each (touched), which
# together hold 900 MiB; each is within its own 512 MiB address space, so only a limit on all
# the sandbox's processes together stops them. The notebook then waits, as a long
# computation would, so that the stop comes while it is still loading: 0/12 and "used more
# than 512 MB". (Where no control group bounds the total, the wait ends at the time limit.)
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os
    import time

    for _ in range(3):
        if os.fork() == 0:
            _block = bytearray(300 << 20)
            for _i in range(0, len(_block), 4096):
                _block[_i] = 1
            time.sleep(120)
            os._exit(0)
    time.sleep(120)


@app.function
def load_sales(path: str):
    import pandas as pd
    return pd.read_csv(path)


if __name__ == "__main__":
    app.run()
