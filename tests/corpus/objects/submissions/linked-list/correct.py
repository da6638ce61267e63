# Correct, written differently from the reference: the values in a Python list, the head at
# its end; nodes made when asked for. Process isolation: 20 of 20.
import marimo

app = marimo.App()


@app.class_definition
class EmptyListException(Exception):
    pass


@app.class_definition
class Node:
    def __init__(self, value, below=None):
        self._value = value
        self._below = below

    def value(self):
        return self._value

    def next(self):
        return self._below


@app.class_definition
class LinkedList:
    def __init__(self, values=None):
        self._items = list(values or [])

    def __iter__(self):
        return reversed(self._items)

    def __len__(self):
        return len(self._items)

    def head(self):
        if not self._items:
            raise EmptyListException("The list is empty.")
        node = None
        for value in self._items:
            node = Node(value, node)
        return node

    def push(self, value):
        self._items.append(value)

    def pop(self):
        if not self._items:
            raise EmptyListException("The list is empty.")
        return self._items.pop()

    def reversed(self):
        return LinkedList(reversed(self._items))
