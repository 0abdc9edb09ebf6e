import BigInt
import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// `PyRepr` against each interpreter's own `repr()`: hand-picked tricky values, and every constant of
/// the stdlib corpus.
@Suite("PyRepr")
struct PyReprTests {
    // MARK: - Without an interpreter

    @Test("floats use the 'r' format: exponent when decpt <= -4 or > 16")
    func floats() {
        let cases: [(Double, String)] = [
            (1e16, "1e+16"), (1e-05, "1e-05"), (0.1, "0.1"), (.infinity, "inf"), (-.infinity, "-inf"),
            (.nan, "nan"), (-Double.nan, "nan"), (-0.0, "-0.0"), (0.0, "0.0"), (1.0, "1.0"),
            (123456789012345.0, "123456789012345.0"), (1.2345678901234567e+16, "1.2345678901234568e+16"),
            (1e15, "1000000000000000.0"), (9999999999999998.0, "9999999999999998.0"), (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"), (.leastNonzeroMagnitude, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1e100, "1e+100"), (-2.5, "-2.5"), (100.0, "100.0"), (1e22, "1e+22"),
        ]
        for v in PythonVersion.all {
            for (d, text) in cases { #expect(pythonRepr(.float(d), version: v) == text, "\(v) \(d)") }
        }
    }

    @Test("complex numbers: bare imaginary part only when the real part is +0.0")
    func complexNumbers() {
        let cases: [(Double, Double, String)] = [
            (0, 1, "1j"), (0, -1, "-1j"), (-0.0, -1, "(-0-1j)"), (.nan, .infinity, "(nan+infj)"), (0, 1e16, "1e+16j"),
            (0, 0, "0j"), (-0.0, 0, "(-0+0j)"), (1, -0.0, "(1-0j)"), (0, -0.0, "-0j"), (1.5, 2.25, "(1.5+2.25j)"),
            (-Double.nan, -Double.nan, "(nan+nanj)"), (.infinity, -.infinity, "(inf-infj)"),
            (1e16, 1e-5, "(1e+16+1e-05j)"),
        ]
        for v in PythonVersion.all {
            for (re, im, text) in cases {
                #expect(pythonRepr(.complex(real: re, imag: im), version: v) == text, "\(v) \(re) \(im)")
            }
        }
    }

    @Test("2.7 prints its long type with L, set types as list arguments, unicode with u and all non-ASCII escaped")
    func python27() {
        let v = PythonVersion.v2_7
        #expect(pythonRepr(.long(BigInt(5)), version: v) == "5L")
        #expect(pythonRepr(.long(-BigInt(1) << 64), version: v) == "-18446744073709551616L")
        #expect(pythonRepr(.int(-5), version: v) == "-5")
        #expect(pythonRepr(.frozenset([]), version: v) == "frozenset([])")
        #expect(pythonRepr(.set([.int(1), .int(2)]), version: v) == "set([1, 2])")
        #expect(
            pythonRepr(.str(PyString(codePoints: [0xE9, 0x1234, 0x1F600, 0xD800])), version: v)
                == #"u'\xe9\u1234\U0001f600\ud800'"#)
        #expect(pythonRepr(.bytes(Array("a'b".utf8)), version: v) == #""a'b""#)
        #expect(pythonRepr(.stopIteration, version: v) == "<type 'exceptions.StopIteration'>")
    }

    @Test("3.x: printable text as it is, sets with braces, bytes with b")
    func python3() {
        let v = PythonVersion.v3_13
        #expect(pythonRepr(.long(BigInt(1) << 64), version: v) == "18446744073709551616")
        #expect(pythonRepr(.frozenset([]), version: v) == "frozenset()")
        #expect(pythonRepr(.set([]), version: v) == "set()")
        #expect(pythonRepr(.frozenset([.int(1), .int(2)]), version: v) == "frozenset({1, 2})")
        #expect(
            pythonRepr(.str(PyString(codePoints: [0xE9, 0x1234, 0x1F600, 0xD800])), version: v)
                == "'\u{E9}\u{1234}\u{1F600}\\ud800'")
        #expect(pythonRepr(.bytes([0, 0x7F, 0x80, 0xFF, 0x22, 0x27]), version: v) == #"b'\x00\x7f\x80\xff"\''"#)
        #expect(pythonRepr(.tuple([.int(1)]), version: v) == "(1,)")
        #expect(pythonRepr(.tuple([]), version: v) == "()")
        #expect(pythonRepr(.ellipsis, version: v) == "Ellipsis")
        #expect(pythonRepr(.dict([PyDictEntry(key: .str("k"), value: .none)]), version: v) == "{'k': None}")
    }

    @Test("code objects print the fixed placeholder address; 2.7 cuts name and file name at 100 and 300 bytes")
    func codeObjects() {
        var c = CodeObject()
        c.name = .str("f")
        c.filename = .str("x.py")
        c.firstlineno = 3
        #expect(pythonRepr(.code(c), version: .v3_12) == "<code object f at 0x0, file \"x.py\", line 3>")
        c.firstlineno = 0
        #expect(pythonRepr(.code(c), version: .v3_12) == "<code object f at 0x0, file \"x.py\", line -1>")
        c.name = .bytes(Array(repeating: UInt8(ascii: "g"), count: 150))
        c.filename = .bytes(Array("ab\u{0}cd".utf8))
        #expect(
            pythonRepr(.code(c), version: .v2_7)
                == "<code object \(String(repeating: "g", count: 100)) at 0x0, file \"ab\", line -1>")
    }

    @Test("deep nesting needs no call stack")
    func deepNesting() {
        // Deeper than CPython's repr goes before RecursionError, and than MarshalReader.maxDepth (much
        // deeper values crash Swift itself when they are released, recursively).
        let depth = 5000
        var v = PyValue.tuple([])
        for _ in 0..<depth { v = .tuple([PyObject(v)]) }
        let want = String(repeating: "(", count: depth) + "()" + String(repeating: ",)", count: depth)
        #expect(pythonRepr(v, version: .v3_11) == want)
    }

    @Test("every release has its interpreter's Unicode table", arguments: PythonVersion.all)
    func unicodeTable(version: PythonVersion) {
        #expect(PyRepr(version: version).hasUnicodeTable, "run Scripts/unicode/dump_printable.py under \(version)")
    }

    @Test("ints beyond sys.int_info.default_max_str_digits: checkedRepr raises what repr() raises")
    func intLimit() throws {
        let big = PyValue.long(BigInt(10).power(4300))
        let ok = PyValue.tuple([PyObject(.long(-BigInt(10).power(4299)))])
        #expect(throws: PyReprError.self) { try PyRepr.of(.v3_11).checkedRepr(big) }
        #expect(throws: PyReprError.self) { try PyRepr.of(.v3_7).checkedRepr(.tuple([PyObject(big)])) }
        #expect(try PyRepr.of(.v3_6).checkedRepr(big).utf8.count == 4301)
        #expect(try PyRepr.of(.v2_7).checkedRepr(big).utf8.count == 4302)
        #expect(try PyRepr.of(.v3_13).checkedRepr(ok).utf8.count == 4304)
        do {
            _ = try PyRepr.of(.v3_12).checkedRepr(big)
        } catch {
            #expect(error.kind == .intTooLarge(digits: 4301, limit: 4300))
            #expect(error.description.hasPrefix("ValueError: Exceeds the limit (4300 digits) for integer"))
        }
    }

    // MARK: - Generated tables

    static let python3Available = (try? Interpreters.run(["python3", "--version"]).status) == 0

    @Test(
        "Scripts/unicode/generate.py --check: the generated tables are current",
        .enabled(if: python3Available, "no python3 on PATH: cannot run Scripts/unicode/generate.py --check"))
    func generatorCheck() throws {
        let script = Corpus.packageRoot + "/Scripts/unicode/generate.py"
        let result = try Interpreters.run(["python3", script, "--check"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test("Scripts/unicode/data matches what the interpreter dumps today", arguments: PythonVersion.all)
    func dataIsCurrent(version: PythonVersion) throws {
        try Self.requireInterpreter(version)
        let script = Corpus.packageRoot + "/Scripts/unicode/dump_printable.py"
        let out = try Interpreters.run([try #require(Interpreters.python(version)), script, "--stdout"])
        try #require(out.status == 0, "\(out.stderr)")
        guard !PyRepr(version: version).version.reprEscapesAllNonASCIIText else {
            #expect(out.stdout.contains("no table needed"))
            return
        }
        let data = try String(
            contentsOfFile: Corpus.packageRoot + "/Scripts/unicode/data/\(version).txt", encoding: .utf8)
        // The ranges and the Unicode version must agree; the patch release in the header may differ.
        func table(_ text: String) -> [Substring] {
            text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("python ") }
        }
        #expect(
            table(out.stdout) == table(data),
            "re-run Scripts/unicode/dump_printable.py under \(version), then generate.py")
    }

    // MARK: - Against the interpreters

    @Test("hand-picked tricky values print exactly as the interpreter's repr()", arguments: PythonVersion.all)
    func handPicked(version: PythonVersion) throws {
        try Self.requireInterpreter(version)
        let out = try Interpreters.runPython(version, Self.valuesScript)
        try #require(out.status == 0, "python \(version) exited \(out.status): \(out.stderr)")
        let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        try #require(lines.count >= 2)
        let loaded = try MarshalReader(version: version).loads(Hex.decode(String(lines[0])))
        let values = try #require(loaded.value.items)
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [Any], "repr list")
        try #require(values.count == expected.count, "\(values.count) values, \(expected.count) reprs")
        let repr = PyRepr.of(version)
        var mismatches = 0
        for (value, want) in zip(values, expected) {
            if mismatches < 30, !Self.matches(repr, value.value, want) {
                mismatches += 1
                Issue.record(
                    "\(version): \(value.value.description.prefix(200)): got \(Self.show(repr, value.value)), want \(String(describing: want).prefix(500))"
                )
            }
        }
        print("PyRepr \(version): \(values.count) hand-picked values compared, \(mismatches) mismatches")
    }

    @Test("every constant of every stdlib .pyc prints as the interpreter's repr()", arguments: PythonVersion.all)
    func corpusSweep(version: PythonVersion) throws {
        try Self.requireInterpreter(version)
        let files = try Self.requireCorpus(version)
        // The paths go through a file: fed through stdin, they would fill the pipe while the
        // interpreter's answers fill the other one.
        let list = NSTemporaryDirectory() + "pyrepr-sweep-\(version)-\(getpid()).txt"
        try Data((files.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: list))
        defer { try? FileManager.default.removeItem(atPath: list) }
        let out = try Interpreters.runPython(version, Self.sweepScript, args: [list])
        try #require(out.status == 0, "python \(version) exited \(out.status): \(out.stderr.suffix(2000))")
        let repr = PyRepr.of(version)
        var constants = 0
        var mismatches = 0
        var fileCount = 0
        for line in out.stdout.split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let path = try #require(record["f"] as? String)
            let expected = try #require(record["r"] as? [Any])
            fileCount += 1
            let pyc = try PycFile(bytes: try FileIO.read(path))
            var ours: [PyValue] = []
            Self.constants(of: try #require(pyc.code), into: &ours)
            guard ours.count == expected.count else {
                Issue.record("\(path): \(ours.count) constants, the interpreter walked \(expected.count)")
                mismatches += 1
                continue
            }
            constants += ours.count
            for (k, (value, want)) in zip(ours, expected).enumerated() where !Self.matches(repr, value, want) {
                mismatches += 1
                if mismatches <= 30 {
                    Issue.record(
                        "\(path) constant #\(k): got \(Self.show(repr, value)), want \(String(describing: want).prefix(500))"
                    )
                }
            }
        }
        #expect(fileCount == files.count, "the interpreter answered for \(fileCount) of \(files.count) files")
        #expect(mismatches == 0, "\(version): \(mismatches) mismatches")
        print("PyRepr \(version): \(fileCount) files, \(constants) constants compared, \(mismatches) mismatches")
    }

    // MARK: - Helpers

    /// Skips the case visibly when `version` has no interpreter.
    static func requireInterpreter(_ version: PythonVersion) throws {
        try Require.interpreter(version)
    }

    /// The corpus of `version`: a missing corpus skips visibly when the interpreter is missing too,
    /// and fails when it is installed.
    static func requireCorpus(_ version: PythonVersion) throws -> [String] {
        try Require.corpus(version)
    }

    /// Every constant of `code` and of its nested code objects, in the sweep script's order: each
    /// `co_consts` item, then (for a code object) its own constants, depth-first.
    static func constants(of code: CodeObject, into out: inout [PyValue]) {
        for c in code.constants {
            out.append(c.value)
            if case .code(let nested) = c.value { constants(of: nested, into: &out) }
        }
    }

    /// Whether our repr of `value` equals the interpreter's answer `want`: a repr string (compared
    /// with addresses and frozenset order normalized), or `["ValueError", message]`.
    static func matches(_ repr: PyRepr, _ value: PyValue, _ want: Any) -> Bool {
        if let text = want as? String {
            guard let ours = try? repr.checkedRepr(value) else { return false }
            return ours == text || normalize(ours) == normalize(text)
        }
        guard let pair = want as? [String], pair.count == 2 else { return false }
        do {
            _ = try repr.checkedRepr(value)
            return false
        } catch {
            return error.description == pair[0] + ": " + pair[1]
        }
    }

    static func show(_ repr: PyRepr, _ value: PyValue) -> String {
        do { return String(try repr.checkedRepr(value).prefix(500)) } catch { return error.description }
    }

    /// `dis_reference.py`'s normalization: ` at 0x…` becomes ` at 0x?`, frozenset elements are sorted.
    static func normalize(_ text: String) -> String {
        var b = Array(text.utf8)
        b = sortFrozensets(replaceAddresses(b))
        return String(decoding: b, as: UTF8.self)
    }

    static func replaceAddresses(_ b: [UInt8]) -> [UInt8] {
        let marker = Array(" at 0x".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        func isHex(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
        }
        while i < b.count {
            if b[i] == 0x20, i + marker.count < b.count, Array(b[i..<(i + marker.count)]) == marker,
                isHex(b[i + marker.count])
            {
                out += Array(" at 0x?".utf8)
                i += marker.count
                while i < b.count, isHex(b[i]) { i += 1 }
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    /// Index of the bracket closing the one at `open`, skipping string literals (`_matching`).
    static func matching(_ t: [UInt8], _ open: Int) -> Int? {
        let closer: UInt8 =
            t[open] == UInt8(ascii: "(")
            ? UInt8(ascii: ")") : t[open] == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")
        var depth = 0
        var quote: UInt8? = nil
        var i = open
        while i < t.count {
            let c = t[i]
            if let q = quote {
                if c == UInt8(ascii: "\\") { i += 1 } else if c == q { quote = nil }
            } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                quote = c
            } else if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                depth += 1
            } else if c == UInt8(ascii: ")") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return c == closer ? i : nil }
            }
            i += 1
        }
        return nil
    }

    /// `_split_top_level`: the comma-separated items of a run of reprs, stripped, empty ones dropped.
    static func splitTopLevel(_ t: [UInt8]) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var depth = 0
        var quote: UInt8? = nil
        var start = 0
        var i = 0
        func strip(_ s: ArraySlice<UInt8>) -> [UInt8] {
            var s = s
            while let f = s.first, f == 0x20 || f == 0x0A || f == 0x09 { s.removeFirst() }
            while let l = s.last, l == 0x20 || l == 0x0A || l == 0x09 { s.removeLast() }
            return Array(s)
        }
        while i < t.count {
            let c = t[i]
            if let q = quote {
                if c == UInt8(ascii: "\\") { i += 1 } else if c == q { quote = nil }
            } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                quote = c
            } else if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                depth += 1
            } else if c == UInt8(ascii: ")") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                depth -= 1
            } else if c == UInt8(ascii: ","), depth == 0 {
                parts.append(strip(t[start..<i]))
                start = i + 1
            }
            i += 1
        }
        parts.append(strip(t[start...]))
        return parts.filter { !$0.isEmpty }
    }

    /// `_sort_frozensets`: the elements inside every `frozenset(…)` sorted (UTF-8 byte order is
    /// code point order, Python's `sorted` of str).
    static func sortFrozensets(_ line: [UInt8]) -> [UInt8] {
        let key = Array("frozenset(".utf8)
        var out: [UInt8] = []
        var i = 0
        while true {
            var j: Int? = nil
            if i + key.count <= line.count {
                var k = i
                while k + key.count <= line.count {
                    if line[k] == key[0], Array(line[k..<(k + key.count)]) == key {
                        j = k
                        break
                    }
                    k += 1
                }
            }
            guard let j, j + 10 < line.count, line[j + 10] == UInt8(ascii: "[") || line[j + 10] == UInt8(ascii: "{"),
                let close = matching(line, j + 10)
            else {
                out += line[i...]
                return out
            }
            let inner = sortFrozensets(Array(line[(j + 11)..<close]))
            let items = splitTopLevel(inner).sorted { $0.lexicographicallyPrecedes($1) }
            out += line[i...(j + 10)]
            for (n, item) in items.enumerated() {
                if n > 0 { out += Array(", ".utf8) }
                out += item
            }
            out.append(line[close])
            i = close + 1
        }
    }

    // MARK: - Interpreter scripts (2.7-compatible)

    /// Marshals a list of tricky values; prints the marshal bytes in hex, then a JSON list with the
    /// repr of each value as `marshal.loads` gives it back (or `["ValueError", message]`).
    static let valuesScript = #"""
        import json, marshal, random, struct, sys
        PY2 = sys.version_info[0] == 2
        uchr = unichr if PY2 else chr
        nan = float('nan'); inf = float('inf')
        rng = random.Random(1234)
        def fbits(n):
            return struct.unpack('<d', struct.pack('<Q', n))[0]
        vals = [None, True, False, Ellipsis, StopIteration]
        ints = [0, 1, -1, 7, -7, 9, 10, 99, 100, 255, 256, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**32, 2**62, 2**63 - 1,
                -2**63 + 1, 2**63, -2**63, -2**63 - 1, 2**64 - 1, 2**64, -2**64, 10**18, 10**19, -10**19, 10**20, 10**100,
                -10**100, 3**200, 1 << 1000, -(1 << 1000), 10**4299, -(10**4299), 10**4300, -(10**4300), 1 << 15000]
        ints += [rng.randint(-2**70, 2**70) for _ in range(200)]
        vals += ints
        if PY2:
            vals += [long(0), long(1), long(-1), long(2**40), long(-2**62), long(2**63 - 1), int(-2**63), int(2**63 - 1)]
        floats = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 2.5, 1.1, 0.3, 2.675, 1.0 / 3, 2.0 / 3, 100.0, 1e100, 1e16, 1e15, 1e17,
                  1e22, 1e23, 1e-4, 1e-5, 0.0001234, 0.00001234, 1.5e-5, 123456789012345.0, 1234567890123456.7,
                  12345678901234567.0, 1.2345678901234567e+16, 9999999999999998.0, 9999999999999999.0, 1e16 - 2, 1e16 + 2,
                  5e-324, 1e-323, 2.2250738585072014e-308, 2.2250738585072009e-308, 1.7976931348623157e308, inf, -inf, nan,
                  -nan, fbits(0x7ff8000000000001), fbits(0xfff0000000000001), 2.0 ** 53, 2.0 ** 53 + 2, 9007199254740993.0,
                  4.35, 0.1 + 0.2, 1e-7, 1.5e300, -1.5e-300, 123.456, 1e21, 1e-10]
        floats += [10.0 ** e for e in range(-30, 31)] + [-(10.0 ** e) for e in range(-30, 31)]
        floats += [2.0 ** e for e in range(-1074, 1024, 7)]
        floats += [fbits(rng.getrandbits(64)) for _ in range(3000)]
        floats += [float(repr(round(rng.random() * 10 ** rng.randint(-25, 25), rng.randint(0, 17)))) for _ in range(1000)]
        floats += [rng.uniform(-1e6, 1e6) for _ in range(500)]
        vals += floats
        parts = [0.0, -0.0, 1.0, -1.0, 1.5, -2.5, 1e16, 1e-5, 123456789012345.0, inf, -inf, nan, -nan, 2.5e-300]
        vals += [complex(a, b) for a in parts for b in parts]
        vals += [complex(fbits(rng.getrandbits(64)), fbits(rng.getrandbits(64))) for _ in range(300)]
        vals += [b'', b"'", b'"', b'\'"', b'"\'', b'\\', b'abc\x00\x7f\x80\xff', b'\t\n\r\x0b\x0c\x1b', b'\\\'"x',
                 bytes(bytearray(range(256))), b'a' * 1000]
        texts = [u'', u'abc', u"'", u'"', u'\'"', u'"\'', u'\\', u'\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85', u'\x00\x7f\x80\x9f',
                 u'\xa0\xa1\xad\xe9\xff', u'\u0100\u0378\u2028\u2029\u200b\u200e\u3000\ufeff\uffff\ufffd\ufffe',
                 u'\U0001f600\U000e0001\U0010ffff\U000f0000\U00020000', u'\ud800', u'\udfff', u'a\ud83d\ude00b',
                 u'\ud83d', u'\ude00x', u'caf\xe9 \u4e2d\u6587 \u0645\u0631\u062d\u0628\u0627', u'\u00e9\'"', u'\u00e9"']
        # Every code point of planes 0-3 and 14, and a sample of the others, 256 to a string.
        cps = list(range(0x80, 0x40000)) + list(range(0xE0000, 0xE1000)) + list(range(0x40000, 0x110000, 251))
        cps += [0x10FFFF, 0xFFFFF, 0x10FFFE, 0x10FFFD]
        for i in range(0, len(cps), 256):
            texts.append(u''.join(uchr(c) for c in cps[i:i + 256]))
        vals += texts
        vals += [(), (1,), (1, 2), ((),), ((1,),), (None, True, 1.5, u'x', b'y'), [], [1], [1, u'a', (2,)], [[]],
                 set(), set([1]), set([1, 2, 3]), frozenset(), frozenset([1]), frozenset([3, 1, 2]), frozenset([u'a', u'b']),
                 frozenset([(1, 2), (3,)]), frozenset([b'x', 1.5, None]), {}, {1: 2}, {1: u'a', 2: (3,)},
                 ((1, u'a'), [frozenset([2])], {3: (1.5, None)}), (frozenset([u'x', u'y', u'z']),), ((((((),),),),),),
                 (1j, -0.0, 10**30, Ellipsis, StopIteration)]
        module = compile("def f():\n    return 1\n", "x.py", "exec")
        vals += [module, module.co_consts[0], (module.co_consts[0],)]
        vals.append(compile("def " + "g" * 150 + "(): pass", "f" * 400, "exec").co_consts[0])
        if not PY2:
            vals.append(compile(u"def \u00e9t\u00e9(): pass", u"caf\u00e9\U0001f600.py", "exec").co_consts[0])
        if hasattr(module, "replace"):
            vals.append(module.co_consts[0].replace(co_firstlineno=0))
        data = marshal.dumps(vals)
        out = []
        for v in marshal.loads(data):
            try:
                r = repr(v)
                if PY2:
                    r = r.decode('utf-8', 'replace')
                out.append(r)
            except ValueError as e:
                out.append(["ValueError", str(e)])
        sys.stdout.write((data.encode('hex') if PY2 else data.hex()) + "\n")
        sys.stdout.write(json.dumps(out) + "\n")
        """#

    /// Reads .pyc paths from the file named by its argument; prints one JSON line per file with the repr of every constant of
    /// every code object (each `co_consts` item, then a nested code object's own, depth-first).
    static let sweepScript = #"""
        import json, marshal, sys
        PY2 = sys.version_info[0] == 2
        HEADER = 8 if PY2 else (12 if sys.version_info[:2] < (3, 7) else 16)
        def walk(code, out):
            for c in code.co_consts:
                try:
                    r = repr(c)
                    if PY2:
                        r = r.decode('utf-8', 'replace')
                    out.append(r)
                except ValueError as e:
                    out.append(["ValueError", str(e)])
                if hasattr(c, 'co_code'):
                    walk(c, out)
        for line in open(sys.argv[1]):
            path = line.rstrip('\n')
            if not path:
                continue
            with open(path, 'rb') as f:
                data = f.read()
            out = []
            walk(marshal.loads(data[HEADER:]), out)
            sys.stdout.write(json.dumps({"f": path, "r": out}) + "\n")
        """#
}
