import BigInt
import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// marshal at the value level, checked against each interpreter's own `marshal`:
/// values it dumps decode to the expected `PyValue` and re-encode to the same bytes; values
/// built in Swift encode to what it dumps for a fresh equivalent; corpus files round-trip and
/// their code objects agree with `marshal.loads`.
@Suite("marshal values")
struct MarshalValueTests {

    // MARK: - Values dumped by the interpreter

    @Test(
        "interpreter-marshalled values decode to the expected value and re-encode to the same bytes",
        arguments: PythonVersion.all)
    func interpreterValues(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        let dumped = try MarshalTestKit.namedHex(version, Self.dumpScript)
        let cases = Self.expectedValues(version)
        #expect(Set(dumped.map(\.name)) == Set(cases.map(\.name)), "the script and the table name the same cases")
        let byName = Dictionary(uniqueKeysWithValues: dumped.map { ($0.name, $0.bytes) })
        for c in cases {
            guard let bytes = byName[c.name] else { continue }
            let obj: PyObject
            do {
                obj = try MarshalReader(version: version).loads(bytes)
            } catch {
                Issue.record("\(version) \(c.name): \(error) reading \(Hex.encode(bytes))")
                continue
            }
            #expect(
                MarshalTestKit.typeChar(obj) == c.type,
                "\(version) \(c.name): type code of \(Hex.encode(Array(bytes.prefix(16))))")
            if let value = c.value {
                #expect(obj.value == value, "\(version) \(c.name): decoded \(obj.value), expected \(value)")
            }
            c.check?(obj)
            let again = try MarshalWriter(version: version).dumps(obj)
            #expect(
                again == bytes,
                "\(version) \(c.name): re-encoded \(Hex.encode(again)), interpreter wrote \(Hex.encode(bytes))")
        }
    }

    /// Python 2.7 and 3.x source: prints `name hex` for each value marshalled by this interpreter.
    static let dumpScript = #"""
        import marshal, sys, struct, binascii
        PY2 = sys.version_info[0] == 2
        D = marshal.dumps
        def emit(name, data):
            sys.stdout.write(name + " " + binascii.hexlify(data).decode("ascii") + "\n")
        emit("none", D(None)); emit("false", D(False)); emit("true", D(True))
        emit("stopiteration", D(StopIteration)); emit("ellipsis", D(Ellipsis))
        emit("int_small", D(5)); emit("int_neg", D(-123456))
        emit("int_max32", D(2147483647)); emit("int_min32", D(-2147483648))
        emit("int_2_31", D(2**31)); emit("int_2_40", D(2**40)); emit("int_min64", D(-2**63))
        emit("int_2_62", D(2**62)); emit("int_neg_2_62", D(-2**62)); emit("int_2_63m1", D(2**63 - 1))
        emit("long_2_63", D(2**63)); emit("long_2_64m1", D(2**64 - 1))
        emit("long_2_100", D(2**100)); emit("long_neg_10_30", D(-10**30))
        for name, x in [("float", 1.5), ("float_nan", float("nan")), ("float_inf", float("inf")),
                        ("float_ninf", -float("inf")), ("float_negzero", -0.0), ("float_big", 1e300),
                        ("float_tiny", 5e-324), ("float_tenth", 0.1)]:
            emit(name, D(x))
            emit("text_" + name, D(x, 1))
        emit("complex", D(complex(1.5, -2.0))); emit("text_complex", D(complex(1.5, -2.0), 1))
        emit("complex_special", D(complex(float("inf"), -0.0)))
        emit("tuple_empty", D(())); emit("tuple_small", D((1, 2, 3)))
        emit("tuple_255", D(tuple(range(255)))); emit("tuple_256", D(tuple(range(256))))
        emit("tuple_large", D(tuple(range(1000, 1300))))
        emit("list_empty", D([])); emit("list", D([1, [2, []], None]))
        emit("dict_empty", D({})); emit("dict", D({1: 2, 3: [4]}))
        emit("set_empty", D(set())); emit("set", D(set([1, 2, 3])))
        emit("frozenset_empty", D(frozenset())); emit("frozenset", D(frozenset([1, 2, 3])))
        emit("nested", D([(), [[]], {}, ((1,),), [set()]]))
        x = float("1.5"); emit("shared_float", D([x, x]))
        t = tuple([int("1000"), int("2000")]); emit("shared_tuple", D([t, t, t]))
        emit("code", D(compile("x = 1\ny = 'abc'\ndef f(a):\n    return a\n", "mod.py", "exec")))
        emit("unicode_ascii", D(u"".join([u"abc", u"d"]))); emit("unicode_nonascii", D(u"".join([u"\xe9t", u"1"])))
        emit("unicode_nonbmp", D(u"\U0001F600")); emit("unicode_surrogate", D(u"\ud800"))
        emit("text_unicode", D(u"".join([u"\xe9t", u"2"]), 1))
        if PY2:
            L = eval("1L")
            emit("long_one", D(L)); emit("long_zero", D(eval("0L"))); emit("long_neg_one", D(eval("-1L")))
            emit("str", D("".join(["abc", "d"]))); emit("str_empty", D(""))
            emit("str_interned", D(intern("abc" + str(1))))
            a = intern("qz" + str(1))
            emit("str_R", D((a, a, "x" + str(2), a, intern("w" + str(3)), a)))
            emit("unicode_empty", D(u""))
        else:
            b = struct.pack("<q", 2**40)
            assert marshal.loads(b"I" + b) == 2**40
            emit("int64_read", b"I" + b)
            emit("bytes", D(bytes(bytearray(b"abc")))); emit("bytes_empty", D(b""))
            emit("str_short", D("ab" + str(1))); emit("str_short_interned", D(sys.intern("ab" + str(2))))
            emit("str_255", D("c" * int("255"))); emit("str_256", D("c" * int("256")))
            emit("str_long", D("a" * int("300"))); emit("str_long_interned", D(sys.intern("b" * int("300"))))
            emit("str_nonascii_interned", D(sys.intern(u"\xe9t" + str(2))))
            emit("str_empty", D(str()))
            emit("interned_pair", D(("abc", "abc")))
            emit("code_nonascii", D(compile(u"\xe9t\xe9 = u\"\xe9t\xe9\"\n", "m.py", "exec")))
        """#

    struct ValueCase {
        var name: String
        /// The type code (without FLAG_REF) of the top-level object.
        var type: Character
        /// The expected value; nil when `check` does the checking.
        var value: PyValue?
        var check: ((PyObject) -> Void)? = nil
    }

    /// What each value of `dumpScript` must decode to, from what Python documents for it.
    static func expectedValues(_ v: PythonVersion) -> [ValueCase] {
        let py2 = v.usesStringTable
        var cases: [ValueCase] = [
            ValueCase(name: "none", type: "N", value: .none),
            ValueCase(name: "false", type: "F", value: .bool(false)),
            ValueCase(name: "true", type: "T", value: .bool(true)),
            ValueCase(name: "stopiteration", type: "S", value: .stopIteration),
            ValueCase(name: "ellipsis", type: ".", value: .ellipsis),
            ValueCase(name: "int_small", type: "i", value: .int(5)),
            ValueCase(name: "int_neg", type: "i", value: .int(-123_456)),
            ValueCase(name: "int_max32", type: "i", value: .int(2_147_483_647)),
            ValueCase(name: "int_min32", type: "i", value: .int(-2_147_483_648)),
            // 2.7 writes an `int` that needs more than 32 bits as `I`; 3.x writes `l`.
            ValueCase(name: "int_2_31", type: py2 ? "I" : "l", value: .int(1 << 31)),
            ValueCase(name: "int_2_40", type: py2 ? "I" : "l", value: .int(1 << 40)),
            // 2.7 computes -2**63 as -(2**63), a `long`.
            ValueCase(name: "int_min64", type: "l", value: py2 ? .long(-(BigInt(1) << 63)) : .int(Int64.min)),
            // 3.x: five 15-bit digits, still a 64-bit int. 2.7: 2**63 is a long, and so is 2**63 - 1.
            ValueCase(name: "int_2_62", type: py2 ? "I" : "l", value: .int(1 << 62)),
            ValueCase(name: "int_neg_2_62", type: py2 ? "I" : "l", value: .int(-(1 << 62))),
            ValueCase(name: "int_2_63m1", type: "l", value: py2 ? .long(BigInt(Int64.max)) : .int(Int64.max)),
            // Beyond 64 bits: 2.7's `long`, 3.x `l`.
            ValueCase(name: "long_2_63", type: "l", value: .long(BigInt(1) << 63)),
            ValueCase(name: "long_2_64m1", type: "l", value: .long((BigInt(1) << 64) - 1)),
            ValueCase(name: "long_2_100", type: "l", value: .long(BigInt(1) << 100)),
            ValueCase(name: "long_neg_10_30", type: "l", value: .long(-BigInt(10).power(30))),
            ValueCase(name: "complex", type: "y", value: .complex(real: 1.5, imag: -2)),
            ValueCase(name: "text_complex", type: "x", value: .complex(real: 1.5, imag: -2)),
            ValueCase(name: "complex_special", type: "y", value: .complex(real: .infinity, imag: -0.0)),
            ValueCase(name: "tuple_empty", type: py2 ? "(" : ")", value: .tuple([])),
            ValueCase(name: "tuple_small", type: py2 ? "(" : ")", value: .tuple(ints(1...3))),
            // 3.x: `)` holds up to 255 items, `(` from 256 on.
            ValueCase(name: "tuple_255", type: py2 ? "(" : ")", value: .tuple(ints(0..<255))),
            ValueCase(name: "tuple_256", type: "(", value: .tuple(ints(0..<256))),
            ValueCase(name: "tuple_large", type: "(", value: .tuple(ints(1000..<1300))),
            ValueCase(name: "list_empty", type: "[", value: .list([])),
            ValueCase(
                name: "list", type: "[",
                value: .list([.int(1), PyObject(.list([.int(2), PyObject(.list([]))])), .none])),
            ValueCase(name: "dict_empty", type: "{", value: .dict([])),
            ValueCase(
                name: "dict", type: "{",
                value: .dict([
                    PyDictEntry(key: .int(1), value: .int(2)),
                    PyDictEntry(key: .int(3), value: PyObject(.list([.int(4)]))),
                ])),
            ValueCase(name: "set_empty", type: "<", value: .set([])),
            ValueCase(name: "set", type: "<", value: .set(ints(1...3))),
            ValueCase(name: "frozenset_empty", type: ">", value: .frozenset([])),
            ValueCase(name: "frozenset", type: ">", value: .frozenset(ints(1...3))),
            ValueCase(
                name: "nested", type: "[",
                value: .list([
                    .tuple([]), PyObject(.list([PyObject(.list([]))])), PyObject(.dict([])),
                    .tuple([.tuple([.int(1)])]), PyObject(.list([PyObject(.set([]))])),
                ])),
            ValueCase(name: "shared_float", type: "[", value: .list([PyObject(.float(1.5)), PyObject(.float(1.5))])) {
                obj in
                // 3.x shares the object: FLAG_REF on the first, `r` for the second. 2.7 copies it.
                guard let items = obj.value.items, items.count == 2 else { return }
                #expect(items[0].encoding.isFlagged == !py2, "\(v) shared_float: first occurrence flagged")
                #expect(items[1].encoding.isBackReference == !py2, "\(v) shared_float: second is a back-reference")
                if !py2 { #expect(items[1].encoding.slot == items[0].encoding.slot) }
            },
            ValueCase(
                name: "shared_tuple", type: "[",
                value: .list(Array(repeating: .tuple([.int(1000), .int(2000)]), count: 3))
            ) { obj in
                guard let items = obj.value.items, items.count == 3 else { return }
                #expect(items.map(\.encoding.isBackReference) == [false, !py2, !py2], "\(v) shared_tuple")
            },
            ValueCase(name: "code", type: "c", value: nil) { obj in checkSmallCode(obj, v) },
            ValueCase(name: "unicode_ascii", type: py2 ? "u" : "z", value: .str(PyString("abcd"))),
            ValueCase(name: "unicode_nonascii", type: "u", value: .str(PyString("ét1"))),
            ValueCase(name: "text_unicode", type: "u", value: .str(PyString("ét2"))),
            ValueCase(name: "unicode_nonbmp", type: "u", value: .str(PyString(utf8: [0xF0, 0x9F, 0x98, 0x80]))) {
                obj in
                if case .str(let s) = obj.value { #expect(s.codePoints == [0x1F600]) }
            },
            // A lone surrogate, kept the `surrogatepass` way.
            ValueCase(name: "unicode_surrogate", type: "u", value: .str(PyString(utf8: [0xED, 0xA0, 0x80]))) {
                obj in
                if case .str(let s) = obj.value { #expect(s.codePoints == [0xD800]) }
            },
        ]
        // Binary and (marshal version 1) text floats.
        let floats: [(String, Double)] = [
            ("float", 1.5), ("float_nan", .nan), ("float_inf", .infinity), ("float_ninf", -.infinity),
            ("float_negzero", -0.0), ("float_big", 1e300), ("float_tiny", 5e-324), ("float_tenth", 0.1),
        ]
        for (name, d) in floats {
            for (prefix, type) in [("", Character("g")), ("text_", "f")] {
                if d.isNaN {
                    // Only NaN-ness is portable: 2.7's float("nan") has the sign bit set.
                    cases.append(
                        ValueCase(name: prefix + name, type: type, value: nil) { obj in
                            guard case .float(let x) = obj.value, x.isNaN else {
                                Issue.record("\(v) \(prefix + name): \(obj.value) is not a NaN")
                                return
                            }
                        })
                } else {
                    cases.append(ValueCase(name: prefix + name, type: type, value: .float(d)))
                }
            }
        }
        if py2 {
            cases += [
                ValueCase(name: "long_one", type: "l", value: .long(1)),
                ValueCase(name: "long_zero", type: "l", value: .long(0)),
                ValueCase(name: "long_neg_one", type: "l", value: .long(-1)),
                ValueCase(name: "str", type: "s", value: .bytes(Array("abcd".utf8))),
                // The empty `str` is interned in 2.7.
                ValueCase(name: "str_empty", type: "t", value: .bytes([])),
                ValueCase(name: "str_interned", type: "t", value: .bytes(Array("abc1".utf8))),
                ValueCase(
                    name: "str_R", type: "(",
                    value: .tuple(
                        ["qz1", "qz1", "x2", "qz1", "w3", "qz1"].map { PyObject(.bytes(Array($0.utf8))) })
                ) { obj in
                    // t, R 0, s, R 0, t, R 0: the string table holds "qz1" then "w3".
                    guard let items = obj.value.items, items.count == 6 else { return }
                    #expect(items.map { MarshalTestKit.typeChar($0) } == ["t", "t", "s", "t", "t", "t"])
                    #expect(items.map(\.encoding.isBackReference) == [false, true, false, true, false, true])
                    #expect(items.map(\.encoding.slot) == [0, 0, -1, 0, 1, 0])
                },
                ValueCase(name: "unicode_empty", type: "u", value: .str(PyString(""))),
            ]
        } else {
            cases += [
                // 3.x reads 2.7's `I` (but never writes it).
                ValueCase(name: "int64_read", type: "I", value: .int(1 << 40)),
                ValueCase(name: "bytes", type: "s", value: .bytes(Array("abc".utf8))),
                ValueCase(name: "bytes_empty", type: "s", value: .bytes([])),
                ValueCase(name: "str_short", type: "z", value: .str(PyString("ab1"))),
                ValueCase(name: "str_short_interned", type: "Z", value: .str(PyString("ab2"))),
                ValueCase(name: "str_255", type: "z", value: .str(PyString(String(repeating: "c", count: 255)))),
                ValueCase(name: "str_256", type: "a", value: .str(PyString(String(repeating: "c", count: 256)))),
                ValueCase(name: "str_long", type: "a", value: .str(PyString(String(repeating: "a", count: 300)))),
                ValueCase(
                    name: "str_long_interned", type: "A", value: .str(PyString(String(repeating: "b", count: 300)))),
                // Every 3.x writes `t` for a non-ASCII string interned at dump time (only 3.13's
                // compiler interns such constants, so only 3.13 pycs contain it).
                ValueCase(name: "str_nonascii_interned", type: "t", value: .str(PyString("ét2"))),
                // The empty str is interned (and shared) in every 3.x.
                ValueCase(name: "str_empty", type: "Z", value: .str(PyString(""))),
                // A non-ASCII name is interned (`t`, flagged from 3.11 on); the equal constant is
                // not (`u`), in every 3.x including 3.13.
                ValueCase(name: "code_nonascii", type: "c", value: nil) { obj in
                    guard let code = obj.value.codeObject, let name = code.names.value.items?.first,
                        let const = code.constants.first
                    else {
                        Issue.record("\(v) code_nonascii: \(obj)")
                        return
                    }
                    #expect(name.value == .str(PyString("été")) && MarshalTestKit.typeChar(name) == "t", "\(v)")
                    #expect(name.encoding.isFlagged == (v >= .v3_11), "\(v): interned names flagged from 3.11")
                    #expect(const.value == .str(PyString("été")) && MarshalTestKit.typeChar(const) == "u", "\(v)")
                },
                ValueCase(name: "interned_pair", type: ")", value: .tuple([.str("abc"), .str("abc")])) { obj in
                    guard let items = obj.value.items, items.count == 2 else { return }
                    #expect(MarshalTestKit.typeChar(items[0]) == "Z", "\(v): identifier constants are interned")
                    #expect(items[0].encoding.isFlagged && items[1].encoding.isBackReference)
                },
            ]
        }
        return cases
    }

    /// `compile("x = 1\ny = 'abc'\ndef f(a):\n    return a\n", "mod.py", "exec")`.
    static func checkSmallCode(_ obj: PyObject, _ v: PythonVersion) {
        guard let code = obj.value.codeObject else {
            Issue.record("\(v): not a code object: \(obj)")
            return
        }
        #expect(code.nameText == "<module>")
        #expect(code.filename.value.text == "mod.py")
        #expect(code.firstlineno == 1)
        #expect(code.argcount == 0)
        #expect(code.names.value.items?.compactMap(\.value.text) == ["x", "y", "f"])
        let consts = code.constants
        #expect(consts.contains { $0.value == .int(1) })
        #expect(consts.contains { $0.value.text == "abc" })
        #expect(consts.contains { $0.value == .none })
        #expect(code.nestedCode.count == 1)
        if let f = code.nestedCode.first {
            #expect(f.nameText == "f")
            #expect(f.argcount == 1)
            #expect(f.firstlineno == 3)
        }
        #expect(!code.codeBytes.isEmpty)
    }

    // MARK: - Values built in Swift

    @Test(
        "values built in Swift encode to the bytes the interpreter writes for a fresh equivalent",
        arguments: PythonVersion.all)
    func freshValues(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        let dumped = try MarshalTestKit.namedHex(version, Self.freshScript)
        let cases = Self.freshValues(version)
        #expect(Set(dumped.map(\.name)) == Set(cases.map(\.0)), "the script and the table name the same cases")
        let byName = Dictionary(uniqueKeysWithValues: dumped.map { ($0.name, $0.bytes) })
        for (name, object) in cases {
            guard let expected = byName[name] else { continue }
            let bytes = try MarshalWriter(version: version).dumps(object)
            #expect(
                bytes == expected,
                "\(version) \(name): wrote \(Hex.encode(bytes)), interpreter wrote \(Hex.encode(expected))")
        }
    }

    /// Builds each value so its reference counts are those of a fresh object: the top-level
    /// object is held by a variable (so it is flagged), everything inside is created at run time
    /// (no shared constants, no interning unless asked for). `S` makes a new string.
    static let freshScript = #"""
        import marshal, sys, binascii
        PY2 = sys.version_info[0] == 2
        def S(s): return s[:1] + s[1:]
        def emit(name, make):
            x = make()
            sys.stdout.write(name + " " + binascii.hexlify(marshal.dumps(x)).decode("ascii") + "\n")
        N = int
        emit("none", lambda: None); emit("true", lambda: True)
        emit("int_small_top", lambda: N("5")); emit("int_top", lambda: N("300"))
        emit("ints", lambda: [N("1"), N("256"), N("257"), N("-5"), N("-6"), N("70000"), N("-2147483648"),
                              2 ** N("40"), -(2 ** N("40"))])
        emit("longs", lambda: [2 ** N("70"), -(10 ** N("30")), 2 ** N("64") - 1])
        emit("floats", lambda: [float("1.5"), float("-0.0"), float("inf"), float("1e300")])
        emit("float_top", lambda: float("2.5"))
        emit("complex", lambda: [complex(float("1.5"), float("-2"))])
        emit("singletons", lambda: [None, True, False, Ellipsis, StopIteration])
        emit("tuple_small", lambda: (N("1000"), N("2000")))
        emit("tuple_empty_inside", lambda: [tuple(), tuple([N("1000")])])
        emit("tuple_large", lambda: tuple([N(str(i)) for i in range(1000, 1300)]))
        emit("list", lambda: [[N("1000")], [], [[]]])
        emit("dict", lambda: {N("1000"): [N("2000")], N("1001"): None})
        # Small ints: cached, so flagged in every version whatever the set code does (see
        # `freshValueGaps` for sets of other objects).
        emit("set", lambda: [set([N("1"), N("2")]), set()])
        emit("frozenset", lambda: [frozenset([N("1"), N("2")])])
        if PY2:
            U = lambda s: s.decode("utf-8")
            emit("str", lambda: [S("hello"), S("x" * 300), S("\x01\x02\x03")])
            emit("unicode", lambda: [U(S("hello")), U(S("h\xc3\xa9llo")), U(S("\xf0\x9f\x98\x80!"))])
            emit("unicode_top", lambda: U(S("h\xc3\xa9llo")))
            emit("interned", lambda: [intern(S("qq")), intern(S("qq")), intern(S("zz")), S("qq"), intern(S("qq"))])
            emit("long_one", lambda: [long("1"), long("0"), -long("1") * 2 ** 40])
        else:
            emit("str_ascii", lambda: [S("hello"), S("x" * 300)])
            emit("str_top", lambda: S("hello"))
            emit("str_nonascii", lambda: [S(u"h\xe9llo"), S(u"\U0001F600!"), S(u"\ud800\udc00x")])
            # Names nothing has interned yet, built at run time from pieces: a constant such as
            # "pyckit_q1" or a folded "y" * 300 is interned by the compiler, and sys.intern
            # would return that shared object instead of a fresh one.
            emit("str_interned", lambda: [sys.intern("".join(["pyckit_", "q1"])), sys.intern("y" * N("300")),
                                          sys.intern(S(u"\xe9t\xe9"))])
            emit("str_interned_top", lambda: sys.intern("".join(["pyckit_", "q2"])))
            # b"" and 1-byte bytes made by slicing are CPython's cached singletons (flagged);
            # bytes(bytearray(...)) of length 1 would be a new, unflagged object.
            emit("bytes", lambda: [bytes(bytearray([1, 2, 3])), bytes(bytearray()), b"\x07\x08"[:1]])
        """#

    static func freshValues(_ v: PythonVersion) -> [(String, PyObject)] {
        func list(_ x: [PyObject]) -> PyObject { PyObject(.list(x)) }
        var cases: [(String, PyObject)] = [
            ("none", .none),
            ("true", PyObject(.bool(true))),
            ("int_small_top", .int(5)),
            ("int_top", .int(300)),
            (
                "ints",
                list([
                    .int(1), .int(256), .int(257), .int(-5), .int(-6), .int(70000), .int(-2_147_483_648),
                    .int(1 << 40), .int(-(1 << 40)),
                ])
            ),
            (
                "longs",
                list([
                    PyObject(.long(BigInt(1) << 70)), PyObject(.long(-BigInt(10).power(30))),
                    PyObject(.long((BigInt(1) << 64) - 1)),
                ])
            ),
            ("floats", list([1.5, -0.0, .infinity, 1e300].map { PyObject(.float($0)) })),
            ("float_top", PyObject(.float(2.5))),
            ("complex", list([PyObject(.complex(real: 1.5, imag: -2))])),
            (
                "singletons",
                list([
                    .none, PyObject(.bool(true)), PyObject(.bool(false)), PyObject(.ellipsis),
                    PyObject(.stopIteration),
                ])
            ),
            ("tuple_small", .tuple([.int(1000), .int(2000)])),
            ("tuple_empty_inside", list([.tuple([]), .tuple([.int(1000)])])),
            ("tuple_large", .tuple((1000..<1300).map { .int($0) })),
            ("list", list([list([.int(1000)]), list([]), list([list([])])])),
            (
                "dict",
                PyObject(
                    .dict([
                        PyDictEntry(key: .int(1000), value: list([.int(2000)])),
                        PyDictEntry(key: .int(1001), value: .none),
                    ]))
            ),
            ("set", list([PyObject(.set([.int(1), .int(2)])), PyObject(.set([]))])),
            ("frozenset", list([PyObject(.frozenset([.int(1), .int(2)]))])),
        ]
        if v.usesStringTable {
            var interned = MarshalEncoding()
            interned.internedHint = true
            func istr(_ s: String) -> PyObject { PyObject(.bytes(Array(s.utf8)), encoding: interned) }
            cases += [
                (
                    "str",
                    list([.bytes(Array("hello".utf8)), .bytes(Array(repeating: 0x78, count: 300)), .bytes([1, 2, 3])])
                ),
                ("unicode", list([.str("hello"), .str("héllo"), .str("\u{1F600}!")])),
                ("unicode_top", .str("héllo")),
                // t "qq", R 0, t "zz", s "qq", R 0.
                ("interned", list([istr("qq"), istr("qq"), istr("zz"), .bytes(Array("qq".utf8)), istr("qq")])),
                ("long_one", list([PyObject(.long(1)), PyObject(.long(0)), PyObject(.long(-(BigInt(1) << 40)))])),
            ]
        } else {
            cases += [
                ("str_ascii", list([.str("hello"), .str(String(repeating: "x", count: 300))])),
                ("str_top", .str("hello")),
                (
                    "str_nonascii",
                    list([
                        .str("héllo"), .str("\u{1F600}!"),
                        PyObject(.str(PyString(codePoints: [0xD800, 0xDC00, 0x78]))),
                    ])
                ),
                (
                    "str_interned",
                    list([
                        .str("pyckit_q1", interned: true),
                        .str(String(repeating: "y", count: 300), interned: true), .str("été", interned: true),
                    ])
                ),
                ("str_interned_top", .str("pyckit_q2", interned: true)),
                ("bytes", list([.bytes([1, 2, 3]), .bytes([]), .bytes([7])])),
            ]
        }
        return cases
    }

    /// Fresh objects that CPython caches or shares: a "fresh" one *is* the cached object, so its
    /// flag, its interned form and its sharing follow that version's caches. These are the cases
    /// where `MarshalWriter.defaultTypeCode`/`defaultFlag` do not match CPython yet, kept apart
    /// from `freshValues` so each gap fails on its own line:
    /// - `""` is interned in every 3.x (`Z`); 1-char ASCII strs in 3.6–3.10 and 3.13 (`Z`);
    ///   1-char Latin-1 strs in 3.13 (`t`). 2.7: `""` and 1-char `str` are interned (`t`).
    /// - `frozenset()` is a cached singleton (flagged) in 3.6–3.9.
    /// - A cached object written twice (small int, `()`, an interned str) is one object:
    ///   CPython writes `r n` the second time, PycKit a second flagged copy.
    /// - Set and frozenset elements are flagged in 3.6–3.8 and 3.11+ (the writer holds an extra
    ///   reference while iterating; 3.11+ also sorts them by their marshal bytes, bpo-37596).
    @Test("gaps: fresh cached and shared objects encode like the interpreter's", arguments: PythonVersion.all)
    func freshValueGaps(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        let script = #"""
            import marshal, sys, binascii
            PY2 = sys.version_info[0] == 2
            def S(s): return s[:1] + s[1:]
            def emit(name, x):
                sys.stdout.write(name + " " + binascii.hexlify(marshal.dumps(x)).decode("ascii") + "\n")
            intern = intern if PY2 else sys.intern
            emit("str_empty", [u"".join([])]); emit("str_a", [u"ab"[:1]]); emit("str_e_acute", [u"\xe9t"[:1]])
            emit("str_U100", [u"\u0100t"[:1]]); emit("frozenset_empty", [frozenset()])
            emit("bytes_empty", ["".join([])] if PY2 else [b"ab"[:0]])
            emit("bytes_a", ["ab"[:1]] if PY2 else [b"ab"[:1]])
            emit("shared_small_int", [int("1"), int("1")]); emit("shared_empty_tuple", [tuple(), tuple()])
            q3 = intern("".join(["pyckit_", "q3"])); emit("shared_interned", [q3, intern("".join(["pyckit_", "q3"]))])
            emit("set_of_big_ints", [set([int("1000"), int("1001")]), frozenset([int("1000"), int("1001")])])
            """#
        let dumped = try MarshalTestKit.namedHex(version, script)
        var internedBytes = MarshalEncoding()
        internedBytes.internedHint = true
        let q3: PyObject =
            version.usesStringTable
            ? PyObject(.bytes(Array("pyckit_q3".utf8)), encoding: internedBytes) : .str("pyckit_q3", interned: true)
        let bigInts = [PyObject.int(1000), .int(1001)]
        let objects: [String: [PyObject]] = [
            "str_empty": [.str("")], "str_a": [.str("a")], "str_e_acute": [.str("é")], "str_U100": [.str("\u{100}")],
            "frozenset_empty": [PyObject(.frozenset([]))],
            "bytes_empty": [.bytes([])], "bytes_a": [.bytes([0x61])],
            "shared_small_int": [.int(1), .int(1)], "shared_empty_tuple": [.tuple([]), .tuple([])],
            "shared_interned": [q3, q3],
            "set_of_big_ints": [PyObject(.set(bigInts)), PyObject(.frozenset(bigInts))],
        ]
        #expect(Set(dumped.map(\.name)) == Set(objects.keys))
        for (name, expected) in dumped {
            guard let items = objects[name] else { continue }
            let bytes = try MarshalWriter(version: version).dumps(PyObject(.list(items)))
            #expect(
                bytes == expected,
                "\(version) fresh \(name): wrote \(Hex.encode(bytes)), interpreter wrote \(Hex.encode(expected))")
        }
    }

    // MARK: - Corpus

    @Test("every 20th corpus file round-trips byte for byte", arguments: PythonVersion.all)
    func corpusRoundTrip(_ version: PythonVersion) throws {
        let files = try MarshalTestKit.requireCorpus(version)
        var checked = 0
        for path in stride(from: 0, to: files.count, by: 20).map({ files[$0] }) {
            let bytes = try FileIO.read(path)
            let pyc: PycFile
            do {
                pyc = try PycFile(bytes: bytes)
            } catch {
                Issue.record("\(path): \(error)")
                continue
            }
            let again = try pyc.serialized()
            if again != bytes {
                Issue.record("\(path): \(MarshalTestKit.firstDifference(bytes, again))")
            }
            checked += 1
        }
        #expect(checked >= files.count / 20)
    }

    @Test("decoded code objects agree with the interpreter's marshal.loads", arguments: PythonVersion.all)
    func corpusCodeFields(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        let files = try MarshalTestKit.requireCorpus(version)
        let sample = stride(from: files.count / 10, to: files.count, by: max(1, files.count / 5)).map { files[$0] }
        let script = #"""
            import marshal, sys, json
            def walk(co, out):
                out.append([co.co_name, co.co_filename, co.co_firstlineno, co.co_stacksize, len(co.co_consts),
                            list(co.co_names)])
                for c in co.co_consts:
                    if hasattr(c, "co_code"): walk(c, out)
            for path in sys.argv[1:]:
                data = open(path, "rb").read()
                h = 8 if sys.version_info[0] == 2 else (12 if sys.version_info < (3, 7) else 16)
                out = []
                walk(marshal.loads(data[h:]), out)
                sys.stdout.write(json.dumps(out) + "\n")
            """#
        let out = try MarshalTestKit.python(version, script, args: sample)
        let lines = out.split(separator: "\n")
        try #require(lines.count == sample.count)
        for (path, line) in zip(sample, lines) {
            let pyc = try PycFile(bytes: try FileIO.read(path))
            let expected = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[Any]])
            let ours = MarshalTestKit.codeObjectsPreOrder(try #require(pyc.code))
            try #require(ours.count == expected.count, "\(path): number of code objects")
            for (c, e) in zip(ours, expected) {
                let names = c.names.value.items?.compactMap(\.value.text) ?? []
                #expect(c.nameText == e[0] as? String, "\(path): co_name")
                #expect(c.filename.value.text == e[1] as? String, "\(path) \(c.nameText): co_filename")
                #expect(Int(c.firstlineno) == e[2] as? Int, "\(path) \(c.nameText): co_firstlineno")
                #expect(Int(c.stacksize) == e[3] as? Int, "\(path) \(c.nameText): co_stacksize")
                #expect(c.constants.count == e[4] as? Int, "\(path) \(c.nameText): len(co_consts)")
                #expect(names == e[5] as? [String], "\(path) \(c.nameText): co_names")
            }
        }
    }
}

// MARK: - Helpers shared by the marshal test files

enum MarshalTestKit {
    /// Skips the current test case visibly (a printed line and a cancelled, i.e. skipped, case)
    /// when `version` has no interpreter. Per-version tests call this first, so a missing
    /// interpreter never passes silently.
    static func requireInterpreter(_ version: PythonVersion) throws {
        try Require.interpreter(version)
    }

    /// The corpus files of `version`. A missing corpus skips the case visibly when the
    /// interpreter is missing too, and fails it when the interpreter is installed.
    static func requireCorpus(_ version: PythonVersion) throws -> [String] {
        try Require.corpus(version)
    }

    /// Runs `script` with `version`'s interpreter and returns its stdout; a non-zero exit fails.
    static func python(_ version: PythonVersion, _ script: String, args: [String] = []) throws -> String {
        let out = try Interpreters.runPython(version, script, args: args)
        guard out.status == 0 else {
            throw TestSupportError("python \(version) exited with \(out.status): \(out.stderr)")
        }
        return out.stdout
    }

    /// Runs a script that prints `name hex` lines.
    static func namedHex(_ version: PythonVersion, _ script: String, args: [String] = []) throws
        -> [(name: String, bytes: [UInt8])]
    {
        try python(version, script, args: args).split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            return (String(parts[0]), Hex.decode(parts.count > 1 ? String(parts[1]) : ""))
        }
    }

    /// The type code of `obj` as read (without FLAG_REF), as a character.
    static func typeChar(_ obj: PyObject) -> Character {
        Character(Unicode.Scalar(obj.encoding.typeCode))
    }

    /// The code object and every nested one, in the order a pre-order walk of `co_consts` meets them.
    static func codeObjectsPreOrder(_ code: CodeObject) -> [CodeObject] {
        var out = [code]
        for c in code.nestedCode { out += codeObjectsPreOrder(c) }
        return out
    }

    /// Where two byte strings first differ, with a little context from each.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let i = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        let lo = max(0, i - 8)
        return "\(a.count) vs \(b.count) bytes, first difference at offset \(i): "
            + "\(Hex.encode(Array(a[lo..<min(a.count, i + 8)]))) vs \(Hex.encode(Array(b[lo..<min(b.count, i + 8)])))"
    }
}

private func ints<S: Sequence<Int>>(_ s: S) -> [PyObject] { s.map { .int($0) } }
