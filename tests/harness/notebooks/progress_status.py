import marimo

__generated_with = "0.19.7"
app = marimo.App()


@app.cell
def _():
    import time

    import marimo as mo
    return mo, time


@app.cell
def _(mo):
    pause_choice = mo.ui.radio([".01", ".1", "1"], label="Pause", value=".01")
    quiet = mo.ui.switch(label="Hide the bars")
    mo.hstack([pause_choice, quiet])
    return pause_choice, quiet


@app.cell
def _(pause_choice):
    pause = float(pause_choice.value)
    return (pause,)


@app.cell
def _(mo, pause, quiet, time):
    seen = []
    for step in mo.status.progress_bar(range(10), title="Working", subtitle="one by one",
                                       disabled=quiet.value):
        seen.append(step)
        time.sleep(pause / 10)
    return (seen,)


@app.cell
def _(mo, pause, time):
    with mo.status.progress_bar(title="Counting", total=10) as bar:
        for _ in range(10):
            time.sleep(pause / 10)
            bar.update()
    return (bar,)


@app.cell
def _(mo, pause, time):
    with mo.status.spinner(title="Thinking...", remove_on_exit=True) as _spinner:
        time.sleep(pause)
        _spinner.update("Nearly there")
    finished = True
    return (finished,)


@app.cell
def _(mo):
    total = 0
    for value in mo.status.progress_bar([3, 1, 2], show_eta=True, show_rate=True):
        total += value
    return (total,)


if __name__ == "__main__":
    app.run()
