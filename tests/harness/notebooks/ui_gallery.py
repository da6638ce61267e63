import marimo

__generated_with = "0.19.7"
app = marimo.App(width="medium")


@app.cell
def _():
    import datetime as dt

    import marimo as mo
    return dt, mo


@app.cell
def _(mo):
    slider = mo.ui.slider(start=1, stop=10)
    number = mo.ui.number(start=1, stop=10)
    range_slider = mo.ui.range_slider(start=1, stop=10)
    mo.vstack([slider, number, range_slider])
    return number, range_slider, slider


@app.cell
def _(mo):
    dropdown = mo.ui.dropdown(["Option A", "Option B", "Option C"])
    multiselect = mo.ui.multiselect(options=["Apples", "Oranges", "Pears"])
    radio = mo.ui.radio(["A", "B", "C"])
    mo.hstack([dropdown, multiselect, radio])
    return dropdown, multiselect, radio


@app.cell
def _(mo):
    text = mo.ui.text()
    text_area = mo.ui.text_area(placeholder="type some text ...")
    switch = mo.ui.switch()
    checkbox = mo.ui.checkbox(label="check me")
    mo.vstack([text, text_area, switch, checkbox])
    return checkbox, switch, text, text_area


@app.cell
def _(dt, mo):
    date_range = mo.ui.date_range(start=dt.date(2023, 1, 1), stop=dt.date(2023, 12, 31))
    date_range
    return (date_range,)


@app.cell
def _(mo):
    button = mo.ui.button(value=0, on_click=lambda value: value + 1, label="increment",
                          kind="warn")
    first_button = mo.ui.run_button(label="Option 1")
    second_button = mo.ui.run_button(label="Option 2")
    mo.hstack([button, first_button, second_button])
    return button, first_button, second_button


@app.cell
def _(first_button, second_button):
    if first_button.value:
        choice = "option 1"
    elif second_button.value:
        choice = "option 2"
    else:
        choice = "none yet"
    return (choice,)


@app.cell
def _(mo):
    table = mo.ui.table(
        [
            {"first_name": "Michael", "last_name": "Scott"},
            {"first_name": "Jim", "last_name": "Halpert"},
        ],
        hover_template="{{first_name}} {{last_name}}",
    )
    table
    return (table,)


@app.cell
def _(mo):
    array = mo.ui.array([mo.ui.text(), mo.ui.slider(1, 10), mo.ui.checkbox()])
    dictionary = mo.ui.dictionary({"name": mo.ui.text(), "age": mo.ui.slider(1, 100)})
    mo.vstack([array, dictionary])
    return array, dictionary


@app.cell
def _(mo):
    form = (
        mo.md(
            """
            **Your form.**

            {name}

            {count}
            """
        )
        .batch(name=mo.ui.text(label="name"), count=mo.ui.number(1, 5, label="count"))
        .form(show_clear_button=True, bordered=False)
    )
    element = mo.md("{low} to {high}").batch(low=mo.ui.number(0, 9), high=mo.ui.number(5, 9))
    mo.vstack([form, element])
    return element, form


@app.cell
def _(mo):
    tabs = mo.ui.tabs({"Bob says": mo.md("Hello, Alice!"), "Alice says": mo.md("Hello, Bob!")})
    file = mo.ui.file()
    matrix = mo.ui.matrix([[1, 0, 0], [0, 1, 0], [0, 0, 1]], min_value=-5, max_value=10,
                          step=0.001, precision=3, scientific=True, label="$I$")
    mo.vstack([tabs, file, matrix])
    return file, matrix, tabs


if __name__ == "__main__":
    app.run()
