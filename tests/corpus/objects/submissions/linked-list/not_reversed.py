# Wrong: iterating goes from the oldest value up, not from the head down (the head itself is
# right). Fails the test of list() of three items; reversed() of it builds a list in the same
# wrong order, which happens to come out as expected: 19 of 20.
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
        self._values = []
        self._head = None
        for v in values or []:
            self.push(v)

    def __iter__(self):
        return iter(list(self._values))

    def __len__(self):
        return len(self._values)

    def head(self):
        if self._head is None:
            raise EmptyListException("The list is empty.")
        return self._head

    def push(self, value):
        self._values.append(value)
        self._head = Node(value, self._head)

    def pop(self):
        node = self.head()
        self._head = node.next()
        return self._values.pop()

    def reversed(self):
        return LinkedList(list(self))
