# Wrong: an empty list raises IndexError, not EmptyListException. The three tests of the
# empty list fail (in process isolation the class of a student's exception counts as it
# would in one process): 17 of 20.
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
        self._head = None
        self._len = 0
        for v in values or []:
            self.push(v)

    def __iter__(self):
        node = self._head
        while node is not None:
            yield node.value()
            node = node.next()

    def __len__(self):
        return self._len

    def head(self):
        if self._head is None:
            raise IndexError("The list is empty.")
        return self._head

    def push(self, value):
        self._head = Node(value, self._head)
        self._len += 1

    def pop(self):
        node = self.head()
        self._head = node.next()
        self._len -= 1
        return node.value()

    def reversed(self):
        return LinkedList(list(self))
