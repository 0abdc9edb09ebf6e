"""Driver for EditingTests (runs under 2.7 and 3.6+).

compile SRC OUT     expand the fixture's CONSTS/LONGBODY placeholders, compile it, write a .pyc
run PYC             exec the .pyc's code as a module, print main()'s result, then one line per
                    function: name, sorted line numbers, NOP count, co_stacksize
"""
import dis, sys, types

from pyc_fixture import load_pyc, write_pyc


def expand(src):
    consts = "\n".join("    values.append(%d.5 + g%d if False else %d)" % (i, i, i) for i in range(300))
    body = "\n".join("        x = x + %d" % i for i in range(9000))
    return src.replace("    CONSTS", consts).replace("        LONGBODY", body)



def lines(code):
    return sorted(set(l for _, l in dis.findlinestarts(code) if l is not None))


def functions(code, prefix=""):
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            name = prefix + c.co_name
            yield name, c
            for item in functions(c, name + "."):
                yield item


def nops(code):
    b = bytearray(code.co_code)
    op = dis.opmap["NOP"]
    if sys.version_info[0] == 2:
        n = i = 0
        while i < len(b):
            if b[i] == op:
                n += 1
            i += 3 if b[i] >= dis.HAVE_ARGUMENT else 1
        return n
    return sum(1 for i in range(0, len(b), 2) if b[i] == op)


def main():
    cmd = sys.argv[1]
    if cmd == "compile":
        src = expand(open(sys.argv[2]).read())
        code = compile(src, "edit_program.py", "exec")
        write_pyc(code, sys.argv[3])
    elif cmd == "run":
        code = load_pyc(sys.argv[2])
        ns = {"__name__": "edit_program"}
        exec(code, ns)
        print(ns["main"]())
        for name, c in functions(code):
            print("%s %s %d %d" % (name, ",".join(map(str, lines(c))), nops(c), c.co_stacksize))


main()
