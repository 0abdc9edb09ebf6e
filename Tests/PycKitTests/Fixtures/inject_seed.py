# The seed scenario (issue 5): a class whose __init__ has three return points, instrumented
# with --init-methods --before-return 'events.Register(self)'. Runs on 2.7 and 3.6+.
from __future__ import print_function


class Events(object):
    # No __init__ here: --init-methods would instrument it too, before `events` exists.
    registered = []

    def Register(self, obj):
        self.registered.append(obj)


events = Events()


class Test(object):
    def __init__(self, kind, flag=False):
        self.kind = kind
        if kind == "early":
            print("early return")
            return
        if kind == "guard" and flag:
            self.value = -1
            return
        try:
            if kind == "try":
                self.value = 1
                return
            self.value = 2
        finally:
            print("finally", kind)
        for i in range(3):
            if i == 1 and kind == "loop":
                self.value = 10 + i
                return
        print("end of __init__", kind, self.value)


def main():
    made = []
    for kind, flag in [("early", False), ("guard", True), ("guard", False), ("try", False), ("loop", False), ("plain", False)]:
        t = Test(kind, flag)
        made.append(t)
        print(kind, getattr(t, "value", None))
    return made
