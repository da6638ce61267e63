import marimo

__generated_with = "0.13.0"
app = marimo.App()


@app.cell
def _():
    import marimo as mo
    mo.md(
        r"""
        # Simple linked list

        A `LinkedList` of `Node`s, pushed and popped at the head, like a stack of music:
        `LinkedList([1, 2, 3])` has 3 at its head. `head()` and `pop()` of an empty list raise
        `EmptyListException("The list is empty.")`. `len()` counts the nodes, iterating goes
        from the head down, and `reversed()` returns a new list in the other order.
        """
    )
    return


@app.class_definition
class EmptyListException(Exception):
    pass


@app.class_definition
class Node:
    def __init__(self, value):
        pass

    def value(self):
        pass

    def next(self):
        pass


@app.class_definition
class LinkedList:
    def __init__(self, values=None):
        pass

    def __iter__(self):
        pass

    def __len__(self):
        pass

    def head(self):
        pass

    def push(self, value):
        pass

    def pop(self):
        pass

    def reversed(self):
        pass


if __name__ == "__main__":
    app.run()
