# -*- coding: utf-8 -*-
"""Dump the running interpreter's opcode facts to Scripts/opcodes/data/X.Y.json.

Run it with each CPython (2.7, 3.6-3.13); the syntax stays 2.7-compatible.

    python dump_opcodes.py                # writes data/X.Y.json next to this script
    python dump_opcodes.py --output DIR   # writes DIR/X.Y.json
    python dump_opcodes.py --stdout       # prints the JSON instead

Everything comes from the interpreter's own `opcode` and `dis` modules:

* names and numbers: `dis._all_opname` / `dis._all_opmap` where they exist (3.11+: they add the
  specialized instructions to the free slots), else `opcode.opname` / `opcode.opmap`. 3.12/3.13
  pseudo-ops (>= 256) and INSTRUMENTED_* ops are included and flagged.
* specialized instructions (3.11+) with the base opcode they deopt to: `dis.deoptmap`, built
  from `opcode._specializations`.
* which opcodes take an argument: `opcode.hasarg` where it exists (3.12+; the only correct test in
  3.13), else `op >= HAVE_ARGUMENT`. A specialized opcode takes an argument when its base does, as
  `dis` decodes it (`_deoptop`).
* argument categories: membership in `hasconst`, `hasname`, ... as far as the version has them.
* inline cache entries: `opcode._inline_cache_entries` (list indexed by opcode in 3.11/3.12, dict
  keyed by name in 3.13; a specialized opcode counts its base's), fields from `_cache_format`.
* stack effects: `dis.stack_effect`, fitted per opcode (and per jump direction from 3.8) to a small
  formula, then verified against the interpreter on every oparg 0...1023 and on larger values up to
  2**31-1 (above 2**20 the interpreter may refuse an oparg or wrap around: its C int arithmetic
  overflows). 2.7 has no `dis.stack_effect`; its effects are hand-written in
  Sources/PycKit/Versions/StackEffects+2_7.swift.

A stack-effect formula is

    effect(oparg) = cases[oparg]                                   if oparg is a case key
                  = base + sum(coef * ((oparg >> shift) & mask))   otherwise (mask null: no mask)

and is written as a plain integer when it does not depend on oparg, else as
{"base": b, "terms": [[coef, shift, mask], ...], "cases": [[oparg, effect], ...]}.

The script exits 1 (after writing the file, so the failure can be reviewed) when an opcode's
stack effect cannot be fitted; generate.py refuses to render such a file.
"""
from __future__ import print_function

import dis
import io
import json
import opcode
import os
import random
import sys

VERSION = sys.version_info[:2]
HERE = os.path.dirname(os.path.abspath(__file__))

# Argument categories in the order of the Swift OptionSet `OpcodeInfo.ArgumentCategories`.
CATEGORIES = ["const", "name", "jrel", "jabs", "local", "free", "compare", "nargs", "exc"]

# Largest oparg dis.stack_effect accepts (it converts to a C int).
C_INT_MAX = 2 ** 31 - 1

# Every oparg up to this must be accepted; above it dis.stack_effect may refuse an oparg because its C
# int arithmetic overflowed (1 - 2*oparg for BUILD_MAP in 3.6, popped = oparg + 1 in 3.12, ...).
ACCEPT_LIMIT = 2 ** 20

# Fitting gives up when more than this many opargs need an explicit case (BUILD_SLICE needs one).
MAX_CASES = 2


def all_opnames():
    """Return {code: name} for every opcode the version defines, specialized ones included."""
    names = getattr(dis, "_all_opname", None) or opcode.opname
    result = {}
    for code, name in enumerate(names):
        if not name.startswith("<"):
            result[code] = name
    for name, code in opcode.opmap.items():  # pseudo-ops beyond opname (defensive)
        result.setdefault(code, name)
    return result


def deopt_map():
    """Return {specialized name: base name} (3.11+), as `dis.deoptmap` has it."""
    return dict(getattr(dis, "deoptmap", {}))


def specialized_names():
    """Return the names of the specialized instructions, however this version lists them."""
    if hasattr(opcode, "_specialized_instructions"):  # 3.11, 3.12
        return set(opcode._specialized_instructions)
    if hasattr(opcode, "_specialized_opmap"):  # 3.13
        return set(opcode._specialized_opmap)
    return set()


def raw_has_argument(code):
    """Whether `code` itself takes an argument, by the version's own rule."""
    if hasattr(opcode, "hasarg"):
        return code in opcode.hasarg
    return code >= opcode.HAVE_ARGUMENT


def cache_entries_of(name, code):
    """Inline cache entries after opcode `name` (0 before 3.11)."""
    entries = getattr(opcode, "_inline_cache_entries", None)
    if entries is None:
        return 0
    if isinstance(entries, dict):  # 3.13: keyed by name
        return entries.get(name, 0)
    return entries[code] if code < len(entries) else 0  # 3.11/3.12: list indexed by opcode


# MARK: - stack effects

class StackEffectProbe(object):
    """Calls dis.stack_effect with the calling convention of this version."""

    def __init__(self):
        self.directional = VERSION >= (3, 8)  # the jump keyword arrives in 3.8
        self.calls = 0
        self.overflows = 0  # large opargs refused because the C int arithmetic overflowed

    def __call__(self, code, oparg, jump):
        """Return the effect, or None when the interpreter refuses (ValueError/OverflowError)."""
        self.calls += 1
        try:
            if self.directional:
                return dis.stack_effect(code, oparg, jump=jump)
            return dis.stack_effect(code, oparg)
        except (ValueError, OverflowError):
            return None


def large_opargs():
    """Opargs beyond 1023 to verify on: a stride up to 2**20, powers of two (+-1), random ones."""
    values = set(range(1024, 2 ** 20, 997))
    for k in range(10, 31):
        values.update([2 ** k - 1, 2 ** k, 2 ** k + 1])
    rng = random.Random(20240101)
    values.update(rng.randint(2 ** 20, C_INT_MAX) for _ in range(200))
    values.add(C_INT_MAX)
    return sorted(v for v in values if v <= C_INT_MAX)


LARGE_OPARGS = large_opargs()


def wrap_c_int(value):
    """`value` as a 32-bit two's-complement C int would hold it."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= (1 << 31) else value


def evaluate(formula, oparg):
    """Evaluate a fitted formula (the same rule the Swift side implements)."""
    if isinstance(formula, int):
        return formula
    for key, value in formula.get("cases", []):
        if key == oparg:
            return value
    total = formula["base"]
    for coef, shift, mask in formula.get("terms", []):
        field = oparg >> shift
        if mask is not None:
            field &= mask
        total += coef * field
    return total


def fit_fields(deltas):
    """Group per-bit deltas into linear fields [coef, shift, mask].

    deltas[k] is effect(1 << k) - effect(0). A field of bits s..e with coefficient c contributes
    c * 2**(k - s) at bit k, so a run continues while each delta doubles the previous one. A run
    reaching the highest probed bit has no mask (it is `oparg >> shift`).
    """
    top = len(deltas) - 1
    terms = []
    k = 0
    while k <= top:
        if deltas[k] == 0:
            k += 1
            continue
        start, coef = k, deltas[k]
        while k + 1 <= top and deltas[k + 1] == 2 * deltas[k]:
            k += 1
        width = k - start + 1
        mask = None if k == top else (1 << width) - 1
        terms.append([coef, start, mask])
        k += 1
    return terms


def fit_stack_effect(probe, code, takes_argument, jump):
    """Fit and verify one opcode's effect for one direction.

    Returns (formula, None) with formula None when the interpreter has no effect for the opcode,
    or (None, message) when no formula fits.
    """
    if not takes_argument:
        value = probe(code, None, jump)
        if value is None:
            other = probe(code, 0, jump)
            if other is not None:
                return None, "no effect without an oparg, yet one with oparg 0 (%d)" % other
            return None, None
        if VERSION >= (3, 13):  # 3.13 also accepts an oparg for these: it must not matter
            for oparg in range(1024):
                if probe(code, oparg, jump) != value:
                    return None, "no-argument opcode whose effect depends on the oparg (oparg %d)" % oparg
        return value, None

    small = [probe(code, oparg, jump) for oparg in range(1024)]
    valid = [oparg for oparg, value in enumerate(small) if value is not None]
    if not valid:
        if probe(code, None, jump) is not None:
            return None, "refuses every oparg, yet has an effect without one"
        return None, None
    if len(valid) != len(small):
        return None, "refuses some opargs in 0...1023 (first: %d)" % small.index(None)

    base = small[0]
    deltas = []
    for k in range(31):
        value = probe(code, 1 << k, jump)
        if value is None:
            if (1 << k) <= ACCEPT_LIMIT:
                return None, "refuses oparg 2**%d" % k
            break  # C int overflow inside dis.stack_effect: the fields run up to the last bit probed
        deltas.append(value - base)
    terms = fit_fields(deltas)
    additive = {"base": base, "terms": terms}
    cases = [[oparg, value] for oparg, value in enumerate(small) if evaluate(additive, oparg) != value]
    if len(cases) > MAX_CASES:
        return None, "not bitwise additive at %d opargs (first: %r)" % (len(cases), cases[:4])
    if not terms and not cases:
        formula = base
    else:
        formula = {"base": base}
        if terms:
            formula["terms"] = terms
        if cases:
            formula["cases"] = cases

    for oparg in LARGE_OPARGS:
        value = probe(code, oparg, jump)
        if value is None:
            if oparg <= ACCEPT_LIMIT:
                return None, "refuses oparg %d" % oparg
            probe.overflows += 1
            continue
        exact = evaluate(formula, oparg)
        if exact != value and oparg > ACCEPT_LIMIT and value == wrap_c_int(exact):
            probe.overflows += 1  # the interpreter's int arithmetic wrapped around
            continue
        if exact != value:
            return None, "formula %r gives %d at oparg %d, the interpreter %d" % (
                formula, evaluate(formula, oparg), oparg, value)
    return formula, None


def stack_effects(probe, code, name, takes_argument, failures):
    """Return the row's "stack" value: {"fall", "jump"} (3.8+), {"max"} (3.6/3.7) or None."""
    directions = [("fall", False), ("jump", True)] if probe.directional else [("max", None)]
    result = {}
    for key, jump in directions:
        formula, error = fit_stack_effect(probe, code, takes_argument, jump)
        if error is not None:
            failures.append("%s (%d), %s: %s" % (name, code, key, error))
            result[key] = {"error": error}
        else:
            result[key] = formula
    if all(value is None for value in result.values()):
        return None
    if any(value is None for value in result.values()):
        failures.append("%s (%d): an effect in one direction only: %r" % (name, code, result))
    return result


# MARK: - rows

def build(failures):
    names = all_opnames()
    deopt = deopt_map()
    specialized = specialized_names()
    has_stack_effect = hasattr(dis, "stack_effect")
    probe = StackEffectProbe() if has_stack_effect else None
    min_pseudo = getattr(opcode, "MIN_PSEUDO_OPCODE", 256)
    min_instrumented = getattr(opcode, "MIN_INSTRUMENTED_OPCODE", None)
    code_of = dict((name, code) for code, name in names.items())
    if len(code_of) != len(names):
        failures.append("opcode names are not unique")

    category_sets = {}
    for category in CATEGORIES:
        members = getattr(opcode, "has" + category, None)
        if members is not None:
            category_sets[category] = set(members)

    rows = []
    for code in sorted(names):
        name = names[code]
        if name in specialized:
            kind = "specialized"
            if name not in deopt:
                failures.append("%s (%d): specialized but no deopt base" % (name, code))
        elif code >= min_pseudo:
            kind = "pseudo"
        elif name.startswith("INSTRUMENTED_"):
            kind = "instrumented"
            if min_instrumented is not None and code < min_instrumented:
                failures.append("%s (%d): below MIN_INSTRUMENTED_OPCODE" % (name, code))
        else:
            kind = "real"
        base = deopt.get(name) if kind == "specialized" else None
        base_code = code_of[base] if base is not None else code
        row = {"code": code, "name": name, "kind": kind}
        if base is not None:
            row["deopt"] = base
        row["arg"] = raw_has_argument(base_code)
        row["categories"] = [c for c in CATEGORIES if c in category_sets and code in category_sets[c]]
        row["cache"] = cache_entries_of(base if base is not None else name, base_code)
        if has_stack_effect:
            row["stack"] = stack_effects(probe, code, name, row["arg"], failures)
        rows.append(row)
    return rows, probe


def cache_format():
    """Return {opname: [[field, size in code units], ...]} in CPython's field order."""
    formats = getattr(opcode, "_cache_format", {})
    return dict((name, [[field, size] for field, size in fields.items()]) for name, fields in formats.items())


def dump():
    failures = []
    rows, probe = build(failures)
    for name, fields in cache_format().items():
        row = [r for r in rows if r["name"] == name]
        if not row or sum(size for _, size in fields) != row[0]["cache"]:
            failures.append("%s: _cache_format does not add up to its cache entries" % name)
    data = {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "version": "%d.%d" % VERSION,
        "have_argument": opcode.HAVE_ARGUMENT,
        "extended_arg": opcode.EXTENDED_ARG,
        "categories": [c for c in CATEGORIES if hasattr(opcode, "has" + c)],
        "cmp_op": list(opcode.cmp_op),
        "nb_ops": [list(pair) for pair in getattr(opcode, "_nb_ops", [])],
        "intrinsic_1": list(getattr(opcode, "_intrinsic_1_descs", [])),
        "intrinsic_2": list(getattr(opcode, "_intrinsic_2_descs", [])),
        "cache_format": cache_format(),
    }
    if probe is None:
        data["stack_effects"] = "hand-written: Sources/PycKit/Versions/StackEffects+2_7.swift"
    else:
        data["stack_effects"] = (
            "dis.stack_effect, %s; verified on opargs 0...1023 and %d larger ones up to %d (%d above 2**20 refused or "
            "wrapped around by C int overflow)" % (
                "per direction (jump=False/True)" if probe.directional else "no jump keyword: the larger of both",
                len(LARGE_OPARGS), C_INT_MAX, probe.overflows))
    data["opcodes"] = rows
    return data, failures


# MARK: - output

HEADER_KEYS = ["python", "version", "have_argument", "extended_arg", "categories", "cmp_op", "nb_ops",
               "intrinsic_1", "intrinsic_2", "stack_effects"]
ROW_KEYS = ["code", "name", "kind", "deopt", "arg", "categories", "cache", "stack"]
FORMULA_KEYS = ["base", "terms", "cases", "error"]
STACK_KEYS = ["fall", "jump", "max"]


def dumps(value):
    """Compact JSON with a fixed key order (2.7 and 3.6 dicts do not keep insertion order)."""
    if isinstance(value, dict):
        order = [k for keys in (ROW_KEYS, FORMULA_KEYS, STACK_KEYS) for k in keys if k in value]
        order += sorted(k for k in value if k not in order)
        return "{" + ", ".join("%s: %s" % (json.dumps(k), dumps(value[k])) for k in order) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def render(data):
    """JSON with one line per opcode and per cache format, so that diffs stay readable."""
    lines = ["{"]
    for key in HEADER_KEYS:
        lines.append("  %s: %s," % (dumps(key), dumps(data[key])))
    formats = sorted(data["cache_format"].items())
    lines.append('  "cache_format": {' if formats else '  "cache_format": {},')
    for index, (name, fields) in enumerate(formats):
        lines.append("    %s: %s%s" % (dumps(name), dumps(fields), "," if index + 1 < len(formats) else ""))
    if formats:
        lines.append("  },")
    lines.append('  "opcodes": [')
    rows = data["opcodes"]
    for index, row in enumerate(rows):
        lines.append("    %s%s" % (dumps(row), "," if index + 1 < len(rows) else ""))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # must stay valid JSON
    return text


def main(argv):
    output = os.path.join(HERE, "data")
    to_stdout = False
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--stdout":
            to_stdout = True
        elif arg == "--output" and args:
            output = args.pop(0)
        else:
            sys.stderr.write("usage: dump_opcodes.py [--output DIR | --stdout]\n")
            return 2
    data, failures = dump()
    text = render(data)
    if to_stdout:
        sys.stdout.write(text)
    else:
        if not os.path.isdir(output):
            os.makedirs(output)
        path = os.path.join(output, "%d.%d.json" % VERSION)
        with io.open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text if isinstance(text, type(u"")) else text.decode("utf-8"))
        print("wrote %s (%d opcodes, Python %s)" % (path, len(data["opcodes"]), data["python"]))
    for failure in failures:
        sys.stderr.write("dump_opcodes.py: %s: %s\n" % (data["version"], failure))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
