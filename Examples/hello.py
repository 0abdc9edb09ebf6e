"""A tiny module to try PycKit on: compile it with any CPython, then inspect the .pyc."""


class Greeter:
    def __init__(self, name):
        if not name:
            self.name = "world"
            return
        self.name = name

    def greet(self):
        return "Hello, %s!" % self.name


print(Greeter("PycKit").greet())
