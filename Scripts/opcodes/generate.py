#!/usr/bin/env python3
"""Render Scripts/opcodes/data/X.Y.json into Sources/PycKit/Versions/Generated/Opcodes+X_Y.swift.

    python3 Scripts/opcodes/generate.py           # (re)write every generated file
    python3 Scripts/opcodes/generate.py --check   # re-render and compare; exit 1 on any difference

The data files come from dump_opcodes.py (run by regenerate.sh under each interpreter). The generator
validates them first and fails loudly, naming the opcode, on anything it cannot render: above all a stack
effect the dump could not fit to a formula. Exit status: 0 ok, 1 difference or invalid data, 2 usage.
"""
import argparse
import difflib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = HERE / "data"
GENERATED = Path("Sources/PycKit/Versions/Generated")
WIDTH = 120
INDENT = "    "

CATEGORIES = ["const", "name", "jrel", "jabs", "local", "free", "compare", "nargs", "exc"]
KINDS = {"real", "pseudo", "instrumented", "specialized"}


class DataError(Exception):
    """A data file the generator refuses to render."""


# MARK: - validation

def check_int(value, what):
    if not isinstance(value, int) or isinstance(value, bool):
        raise DataError("%s: expected an integer, got %r" % (what, value))
    return value


def check_formula(formula, what):
    """Validate one stack-effect formula: an integer or {"base", "terms", "cases"}."""
    if isinstance(formula, int) and not isinstance(formula, bool):
        return
    if not isinstance(formula, dict):
        raise DataError("%s: not a formula: %r" % (what, formula))
    if "error" in formula:
        raise DataError("%s: dump_opcodes.py could not fit a stack-effect formula: %s" % (what, formula["error"]))
    unknown = set(formula) - {"base", "terms", "cases"}
    if unknown:
        raise DataError("%s: unknown formula keys %s" % (what, sorted(unknown)))
    check_int(formula.get("base"), what + " base")
    for term in formula.get("terms", []):
        if not (isinstance(term, list) and len(term) == 3):
            raise DataError("%s: a term must be [coef, shift, mask]: %r" % (what, term))
        check_int(term[0], what + " coefficient")
        if check_int(term[1], what + " shift") < 0:
            raise DataError("%s: negative shift" % what)
        if term[2] is not None and check_int(term[2], what + " mask") <= 0:
            raise DataError("%s: mask must be positive or null" % what)
    for case in formula.get("cases", []):
        if not (isinstance(case, list) and len(case) == 2):
            raise DataError("%s: a case must be [oparg, effect]: %r" % (what, case))
        check_int(case[0], what + " case oparg")
        check_int(case[1], what + " case effect")


def validate(data, path):
    """Raise DataError on anything the Swift side would not accept."""
    for key in ("python", "version", "have_argument", "extended_arg", "categories", "cmp_op", "nb_ops",
                "intrinsic_1", "intrinsic_2", "stack_effects", "cache_format", "opcodes"):
        if key not in data:
            raise DataError("%s: missing key %r" % (path.name, key))
    if data["version"] + ".json" != path.name:
        raise DataError("%s: holds version %s" % (path.name, data["version"]))
    if not re.fullmatch(r"\d+\.\d+", data["version"]):
        raise DataError("%s: bad version %r" % (path.name, data["version"]))
    hand_written = data["stack_effects"].startswith("hand-written")
    unknown_categories = set(data["categories"]) - set(CATEGORIES)
    if unknown_categories:
        raise DataError("%s: unknown categories %s" % (path.name, sorted(unknown_categories)))

    codes, names = set(), set()
    directions = None
    for row in data["opcodes"]:
        name = row.get("name")
        what = "%s: %s" % (path.name, name)
        code = check_int(row.get("code"), what + " code")
        if code in codes or name in names:
            raise DataError("%s: duplicate opcode %d / name" % (what, code))
        codes.add(code)
        names.add(name)
        if row.get("kind") not in KINDS:
            raise DataError("%s: unknown kind %r" % (what, row.get("kind")))
        if (row["kind"] == "pseudo") != (code >= 256):
            raise DataError("%s: code %d does not fit kind %s" % (what, code, row["kind"]))
        if (row["kind"] == "specialized") != ("deopt" in row):
            raise DataError("%s: specialized opcodes, and only they, name a deopt base" % what)
        if not isinstance(row.get("arg"), bool):
            raise DataError("%s: arg must be true or false" % what)
        if set(row.get("categories", [])) - set(data["categories"]):
            raise DataError("%s: category not defined by this version" % what)
        check_int(row.get("cache"), what + " cache")
        if hand_written:
            if "stack" in row:
                raise DataError("%s: stack effects are hand-written for this version" % what)
            continue
        if "stack" not in row:
            raise DataError("%s: no stack entry" % what)
        stack = row["stack"]
        if stack is None:
            continue
        keys = tuple(sorted(stack))
        if keys not in (("fall", "jump"), ("max",)):
            raise DataError("%s: stack must have fall/jump or max, has %s" % (what, list(keys)))
        if directions is None:
            directions = keys
        elif directions != keys:
            raise DataError("%s: mixes directional and combined stack effects" % what)
        for key in keys:
            check_formula(stack[key], "%s %s" % (what, key))
    for row in data["opcodes"]:
        if "deopt" in row and row["deopt"] not in names:
            raise DataError("%s: %s deopts to unknown %s" % (path.name, row["name"], row["deopt"]))
    for name, fields in data["cache_format"].items():
        if name not in names:
            raise DataError("%s: cache format for unknown opcode %s" % (path.name, name))
        for field in fields:
            if not (isinstance(field, list) and len(field) == 2 and isinstance(field[0], str)):
                raise DataError("%s: %s: bad cache field %r" % (path.name, name, field))
            check_int(field[1], "%s: %s cache field size" % (path.name, name))
    return hand_written, directions


# MARK: - rendering

def swift_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def swift_list(items, indent, prefix, suffix=","):
    """`prefix[a, b, ...]suffix`, on one line when it fits, else one wrapped block."""
    one_line = "%s%s[%s]%s" % (indent, prefix, ", ".join(items), suffix)
    if len(one_line) <= WIDTH:
        return [one_line]
    lines = ["%s%s[" % (indent, prefix)]
    inner = indent + INDENT
    current = inner
    for item in items:
        piece = item + ","
        if current != inner and len(current) + 1 + len(piece) > WIDTH:
            lines.append(current)
            current = inner
        current = current + (" " if current != inner else "") + piece
    if current != inner:
        lines.append(current)
    lines.append("%s]%s" % (indent, suffix))
    return lines


def formula_text(formula):
    """The canonical formula text StackEffectFormula.description writes and init(_:) reads."""
    if isinstance(formula, int):
        return str(formula)
    terms = formula.get("terms", [])
    text = str(formula["base"]) if not terms or formula["base"] != 0 else ""
    for coef, shift, mask in terms:
        term = "oparg" if shift == 0 else "(oparg>>%d)" % shift
        if mask is not None:
            digits = "0x%x" % mask if mask > 9 else str(mask)
            term = "(oparg&%s)" % digits if shift == 0 else "((oparg>>%d)&%s)" % (shift, digits)
        if abs(coef) != 1:
            term = "%d*%s" % (abs(coef), term)
        text += ("-" + term) if coef < 0 else (("+" if text else "") + term)
    for oparg, effect in reversed(formula.get("cases", [])):
        text = "oparg==%d?%d:%s" % (oparg, effect, text)
    return text


def stack_text(stack):
    """A StackEffect text: one formula both ways, `fall/jump` when they differ, `-` for none."""
    if stack is None:
        return "-"
    if "max" in stack:
        return formula_text(stack["max"])
    fall, jump = formula_text(stack["fall"]), formula_text(stack["jump"])
    return fall if fall == jump else "%s/%s" % (fall, jump)


def table_lines(rows, indent, cap=24):
    """Rows of fields as text lines, columns padded to the widest entry up to `cap` (the last one not at all)."""
    widths = [min(cap, max(len(row[i]) for row in rows)) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        line = (indent + " ".join(field.ljust(width) for field, width in zip(row, widths)) + " " + row[-1]).rstrip()
        if len(line) > WIDTH:  # a long last field: give up the alignment of this row
            line = indent + " ".join(row)
        lines.append(line)
    return lines


def render(data, path):
    hand_written, directions = validate(data, path)
    major, minor = (int(part) for part in data["version"].split("."))
    suffix = "%d_%d" % (major, minor)
    directional = hand_written or directions != ("max",)
    i2, i3 = INDENT * 2, INDENT * 3
    out = [
        "// Generated by Scripts/opcodes/generate.py from Scripts/opcodes/data/%s — do not edit." % path.name,
        "",
        "extension OpcodeTable {",
        "%s/// CPython %d.%d's opcodes, dumped from Python %s (%s)." % (
            INDENT, major, minor, data["python"],
            "stack effects hand-written in StackEffects+2_7.swift" if hand_written
            else "stack effects from `dis.stack_effect`"),
        "%sstatic let v%s = OpcodeTable(" % (INDENT, suffix),
        "%smajor: %d, minor: %d, interpreter: %s, haveArgument: %d, extendedArg: %d," % (
            i2, major, minor, swift_string(data["python"]), data["have_argument"], data["extended_arg"]),
    ]
    out += swift_list(["." + c for c in data["categories"]], i2, "categories: ")
    out += swift_list([swift_string(s) for s in data["cmp_op"]], i2, "cmpOp: ")
    out += swift_list(["(%s, %s)" % (swift_string(a), swift_string(b)) for a, b in data["nb_ops"]], i2, "binaryOps: ")
    out += swift_list([swift_string(s) for s in data["intrinsic_1"]], i2, "intrinsic1: ")
    out += swift_list([swift_string(s) for s in data["intrinsic_2"]], i2, "intrinsic2: ")
    formats = sorted(data["cache_format"].items())
    if formats:
        out.append('%scacheFormats: """' % i2)
        rows = [[name, " ".join("%s:%d" % tuple(field) for field in fields)] for name, fields in formats]
        out += table_lines(rows, i3)
        out.append('%s""",' % i3)
    else:
        out.append('%scacheFormats: "",' % i2)
    out.append("%sdirectionalStackEffects: %s," % (i2, "true" if directional else "false"))
    if hand_written:
        out.append("%shandWrittenStackEffects: stackEffects%s," % (i2, suffix))
    out.append("%srows: rows%s" % (i2, suffix))
    out.append("%s)" % INDENT)
    out.append("")
    out.append("%s// code name kind arg categories cache deopt stack-effect (fall-through/jump when they" % INDENT)
    out.append("%s// differ, - for none); see OpcodeRowParser in OpcodeTable.swift." % INDENT)
    out.append('%sprivate static let rows%s = """' % (INDENT, suffix))
    rows = []
    for row in data["opcodes"]:
        rows.append([str(row["code"]), row["name"], row["kind"], "arg" if row["arg"] else "-",
                     ",".join(row["categories"]) or "-", str(row["cache"]), row.get("deopt", "-"),
                     "-" if hand_written else stack_text(row["stack"])])
    out += table_lines(rows, i2, cap=32)
    out.append('%s"""' % i2)
    out.append("}")
    for number, line in enumerate(out, 1):
        if len(line) > WIDTH:
            raise DataError("%s: generated line %d is longer than %d columns" % (path.name, number, WIDTH))
    return "\n".join(out) + "\n"


def output_name(version):
    return "Opcodes+%s.swift" % version.replace(".", "_")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed Swift; exit 1 on a difference")
    parser.add_argument("--root", type=Path, default=ROOT, help="package root (default: %(default)s)")
    args = parser.parse_args(argv)
    data_dir = args.root / "Scripts/opcodes/data"
    out_dir = args.root / GENERATED
    paths = sorted(data_dir.glob("*.json"), key=lambda p: tuple(int(x) for x in p.stem.split(".")))
    if not paths:
        print("generate.py: no data files in %s" % data_dir, file=sys.stderr)
        return 1

    rendered = {}
    failed = False
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rendered[output_name(data["version"])] = render(data, path)
        except (DataError, ValueError, KeyError) as error:
            print("generate.py: %s" % error, file=sys.stderr)
            failed = True
    if failed:
        return 1

    existing = sorted(out_dir.glob("Opcodes+*.swift")) if out_dir.is_dir() else []
    stale = [p.name for p in existing if p.name not in rendered]
    if args.check:
        differ = False
        for name, text in rendered.items():
            target = out_dir / name
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            if current != text:
                differ = True
                print("generate.py --check: %s is not current" % (GENERATED / name), file=sys.stderr)
                diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), "committed", "rendered",
                                                 lineterm="", n=1))
                for line in diff[:40]:
                    print(line, file=sys.stderr)
                if len(diff) > 40:
                    print("... (%d more diff lines)" % (len(diff) - 40), file=sys.stderr)
        for name in stale:
            differ = True
            print("generate.py --check: %s has no data file" % (GENERATED / name), file=sys.stderr)
        if differ:
            print("generate.py --check: run Scripts/opcodes/regenerate.sh (or generate.py) and commit", file=sys.stderr)
            return 1
        print("generate.py --check: %d generated files are current" % len(rendered))
        return 0

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        target = out_dir / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print("wrote %s" % (GENERATED / name))
    for name in stale:
        (out_dir / name).unlink()
        print("removed %s (no data file)" % (GENERATED / name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
