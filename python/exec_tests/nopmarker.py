"""NOP-padding marker: is (almost) every instruction of a code object preceded by a NOP?

Runs inside the interpreter under test (2.7 and 3.6+), so it reads that version's own opcode
numbers from `dis` and walks `co_code` by hand (dis.get_instructions is too slow for whole
module trees and does not exist in 2.7):
  2.7        one byte per instruction, two more for an argument (opcode >= HAVE_ARGUMENT)
  3.6+       two-byte code units
  3.11+      inline cache units (opcode CACHE = 0) follow some instructions; they are skipped
An instruction is its EXTENDED_ARG prefixes plus the opcode they extend, so the NOP has to sit
before the first prefix. A code object passes when at least one of its non-NOP instructions has a
NOP right before it, and either at least `min_coverage` of them do or at most `allowance` do not.
The transform has to leave some instructions unpadded (3.11+: nothing may separate YIELD_VALUE
from the RESUME after it, which _PyGen_yf reads; 3.12: FOR_ITER and SEND specializations jump to a
fixed distance past their target, so END_FOR/END_SEND must stay there), so yield-heavy code
scores lower; untouched code scores close to 0, which is what the check is for: it tells a
transformed code object from one that was not. `python nopmarker.py` runs a self-test.
"""
import dis
import sys
import types

NOP = dis.opmap['NOP']
EXTENDED_ARG = dis.EXTENDED_ARG
CACHE = dis.opmap.get('CACHE')
PY2 = sys.version_info[0] == 2


def _opcodes(code):
    """The opcodes of `code`'s instructions, EXTENDED_ARG prefixes folded into the instruction."""
    raw = code.co_code
    ops = bytearray(raw)
    out = []
    i = 0
    n = len(ops)
    prefixed = False
    if PY2:
        have_argument = dis.HAVE_ARGUMENT
        while i < n:
            op = ops[i]
            i += 3 if op >= have_argument else 1
            if op == EXTENDED_ARG:
                prefixed = True
                continue
            out.append(op)
            prefixed = False
    else:
        while i < n:
            op = ops[i]
            i += 2
            if CACHE is not None and op == CACHE:
                continue
            if op == EXTENDED_ARG:
                prefixed = True
                continue
            out.append(op)
            prefixed = False
    return out


def coverage(code):
    """(covered, total) for one code object: non-NOP instructions, and how many follow a NOP."""
    ops = _opcodes(code)
    covered = total = 0
    previous = None
    for op in ops:
        if op != NOP:
            total += 1
            if previous == NOP:
                covered += 1
        previous = op
    return covered, total


def code_tree(code):
    """`code` and every code object nested in its constants, depth first."""
    stack = [code]
    while stack:
        c = stack.pop()
        yield c
        for const in reversed(c.co_consts):
            if isinstance(const, types.CodeType):
                stack.append(const)


class MarkerCheck(object):
    """Accumulates coverage over many code objects and remembers the ones that fail."""

    def __init__(self, min_coverage=0.5, allowance=3):
        self.min_coverage = min_coverage
        self.allowance = allowance
        self.seen = set()
        self.keep = []              # roots stay alive so the ids in `seen` are never reused
        self.code_objects = 0
        self.covered = 0
        self.total = 0
        self.failures = []          # (where, name, firstlineno, covered, total)
        self.failure_count = 0

    def passes(self, covered, total):
        if total == 0:
            return True
        return covered >= 1 and (total - covered <= self.allowance or covered >= self.min_coverage * total - 1e-9)

    def check_tree(self, code, where):
        self.keep.append(code)
        for c in code_tree(code):
            key = id(c)
            if key in self.seen:
                continue
            self.seen.add(key)
            covered, total = coverage(c)
            self.code_objects += 1
            self.covered += covered
            self.total += total
            if not self.passes(covered, total):
                self.failure_count += 1
                if len(self.failures) < 50:
                    self.failures.append((where, c.co_name, c.co_firstlineno, covered, total))

    def summary(self):
        return {
            'code_objects': self.code_objects,
            'instructions': self.total,
            'covered': self.covered,
            'failures': self.failure_count,
            'examples': self.failures,
        }


def _self_test():
    """python nopmarker.py: coverage of hand-padded co_code (EXTENDED_ARG and caches included)."""
    class Fake(object):
        def __init__(self, co_code):
            self.co_code = bytes(co_code)

    def f(a, b):
        return a + b
    raw = bytearray(f.__code__.co_code)
    if PY2:
        units, i = [], 0
        while i < len(raw):
            size = 3 if raw[i] >= dis.HAVE_ARGUMENT else 1
            units.append(raw[i:i + size])
            i += size
        nop = bytearray([NOP])
    else:
        units = [raw[i:i + 2] for i in range(0, len(raw), 2)]
        nop = bytearray([NOP, 0])
    padded = bytearray()
    for unit in units:
        if CACHE is None or unit[0] != CACHE:
            padded += nop
        padded += unit
    covered, total = coverage(Fake(raw))
    assert covered == 0 and total > 0, (covered, total)
    assert coverage(Fake(padded)) == (total, total), coverage(Fake(padded))
    # NOP, EXTENDED_ARG, LOAD_CONST: the prefix belongs to the instruction, so it is covered
    load_const = dis.opmap['LOAD_CONST']
    if PY2:
        ext = bytearray([NOP, EXTENDED_ARG, 1, 0, load_const, 0, 0])
    else:
        ext = bytearray([NOP, 0, EXTENDED_ARG, 1, load_const, 0])
    assert coverage(Fake(ext)) == (1, 1), coverage(Fake(ext))
    assert coverage(Fake(ext[len(nop):])) == (0, 1)
    check = MarkerCheck(0.9, 2)
    assert check.passes(8, 10) and check.passes(1, 3) and not check.passes(7, 10) and check.passes(90, 100)
    assert not check.passes(0, 2) and check.passes(0, 0)
    print('nopmarker self-test passed (%d instructions)' % total)


if __name__ == '__main__':
    _self_test()
