# The reference solution: Exercism's example solution (.meta/example.py), as a notebook.
import marimo

__generated_with = "0.13.0"
app = marimo.App()


@app.class_definition
class Node:
    def __init__(self, value):
        self._value = value
        self._next = None

    def value(self):
        return self._value

    def next(self):
        return self._next


@app.class_definition
class LinkedIterator:
    def __init__(self, linked_list):
        self.current = linked_list._head

    def __iter__(self):
        return self

    def __next__(self):
        if self.current is None:
            raise StopIteration
        value = self.current.value()
        self.current = self.current.next()
        return value

    def next(self):
        return self.__next__()


@app.class_definition
class LinkedList:
    def __init__(self, values=[]):
        self._head = None
        self._len = 0
        [self.push(v) for v in values]

    def __iter__(self):
        return LinkedIterator(self)

    def __len__(self):
        return self._len

    def head(self):
        if self._head is None:
            raise EmptyListException("The list is empty.")
        return self._head

    def push(self, value):
        newNode = Node(value)
        newNode._next = self._head
        self._head = newNode
        self._len += 1

    def pop(self):
        if self._head is None:
            raise EmptyListException("The list is empty.")
        self._len -= 1
        ret = self._head.value()
        self._head = self._head.next()
        return ret

    def reversed(self):
        return LinkedList(self)


@app.class_definition
class EmptyListException(Exception):
    """Exception raised when the linked list is empty.

    message: explanation of the error.

    """

    def __init__(self, message):
        self.message = message


if __name__ == "__main__":
    app.run()
