# Wrong: every robot is called AB123, also after a reset. Passes the format and the
# stickiness only: 2 of 4.
import marimo

app = marimo.App()


@app.class_definition
class Robot:
    name = "AB123"

    def reset(self):
        pass
