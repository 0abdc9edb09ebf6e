import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// Malformed and hostile marshal data: every input gives a value or a typed error naming an
/// offset inside the input, never a trap; the errors are the ones the checks promise, and
/// CPython rejects (or accepts) the same inputs.
@Suite("hostile marshal input")
struct HostileInputTests {

    // MARK: - Truncated and mutated corpus files

    @Test("a corpus file cut at any offset throws .truncated inside the file", arguments: PythonVersion.all)
    func truncatedFiles(_ version: PythonVersion) throws {
        let bySize = try Self.corpusBySize(version)
        // Every offset of a ~1 KB file with a nested code object; 160 random offsets (and the
        // whole header) of the first file of 20 KB or more.
        let withNestedCode = bySize.lazy.filter { $0.size >= 1000 }.compactMap { f -> (String, [UInt8])? in
            guard let b = try? FileIO.read(f.path), (try? PycFile(bytes: b))?.code?.nestedCode.isEmpty == false else {
                return nil
            }
            return (f.path, b)
        }
        let small = try #require(withNestedCode.first)
        let bigPath = try #require(bySize.first { $0.size >= 20_000 } ?? bySize.last).path
        let big = (bigPath, try FileIO.read(bigPath))
        var rng = SplitMix(seed: 0x7275_6e63 &+ UInt64(version.minor))
        let bigCuts = Array(0..<32) + (0..<160).map { _ in Int(rng.next() % UInt64(big.1.count)) } + [big.1.count - 1]
        for (path, bytes, cuts) in [(small.0, small.1, Array(0..<small.1.count)), (big.0, big.1, bigCuts)] {
            var failures = 0
            for cut in cuts where failures < 5 {
                do {
                    _ = try PycFile(bytes: Array(bytes[..<cut]))
                    Issue.record("\(path) cut at \(cut) of \(bytes.count): decoded without error")
                    failures += 1
                } catch {
                    guard case .marshal(let e) = error, case .truncated = e.kind, (0...cut).contains(e.offset) else {
                        Issue.record("\(path) cut at \(cut): expected .truncated within the prefix, got \(error)")
                        failures += 1
                        continue
                    }
                }
            }
        }
    }

    @Test("corpus files with random bytes flipped decode or throw, never trap", arguments: PythonVersion.all)
    func randomByteFlips(_ version: PythonVersion) throws {
        let picked = try Self.corpusSample(version, count: 4, sizes: 2_000...12_000)
        var rng = SplitMix(seed: 0xF11B_5EED &+ UInt64(version.major * 100 + version.minor))
        let mutants = 150
        var decoded = 0
        var threw = 0
        for bytes in picked {
            for _ in 0..<mutants {
                let m = Self.mutated(bytes, from: 0, rng: &rng)
                do {
                    let pyc = try PycFile(bytes: m)
                    decoded += 1
                    _ = try? pyc.serialized()
                    // The editing layers take the same input without trapping: lift, assemble, verify.
                    if let code = pyc.code {
                        if let lifted = try? version.lift(code) { _ = try? version.assemble(lifted) }
                        _ = version.verify(code)
                    }
                } catch {
                    threw += 1
                    #expect((0...m.count).contains(error.offset), "\(error) outside the \(m.count)-byte input")
                }
            }
        }
        #expect(decoded + threw == picked.count * mutants)
        print("\(version): \(picked.count) files × \(mutants) mutants: \(decoded) decoded, \(threw) threw")
    }

    @Test(
        "mutated corpus files: the in-place listing equals the listing of the decoded tree",
        arguments: PythonVersion.all)
    func inPlaceListingMatchesTree(_ version: PythonVersion) throws {
        // `pyckit dis` lists a file in place in its bytes (`Disassembler.listing(pyc:into:)`),
        // and through `PycFile` when that declines. Both must print the same text and report
        // the same problems for any input the in-place reader takes; it must take no input
        // the tree reader refuses, and neither may trap.
        let picked = try Self.corpusSample(version, count: 6, sizes: 1_000...16_000)
        var rng = SplitMix(seed: 0xD15A_55ED &+ UInt64(version.major * 100 + version.minor))
        let mutants = 120
        let buffer = ListingBuffer()
        var inPlace = 0
        var withProblems = 0
        for bytes in picked {
            for _ in 0..<mutants {
                // Past the 16-byte header (8 bytes in 2.7), where the code objects are.
                let m = Self.mutated(bytes, from: 8, rng: &rng)
                buffer.removeAll()
                guard let problems = Disassembler.listing(pyc: m, into: buffer) else { continue }
                inPlace += 1
                if !problems.isEmpty { withProblems += 1 }
                let file: PycFile
                do {
                    file = try PycFile(bytes: m)
                } catch {
                    Issue.record("listed in place, but PycFile refuses it: \(error)")
                    continue
                }
                guard let code = file.code else {
                    Issue.record("listed in place, but the top-level object is not code")
                    continue
                }
                let tree = Disassembler(version: file.version).listing(code)
                let inPlaceText = buffer.bytes
                if inPlaceText != tree.text {
                    Issue.record("in-place and tree listings differ: \(Self.firstDifferentLine(inPlaceText, tree.text))")
                }
                #expect(problems == tree.problems)
            }
        }
        // Most mutants still decode; some of those have problems to report.
        #expect(inPlace > picked.count * mutants / 4)
        #expect(withProblems > 0)
        print("\(version): \(picked.count * mutants) mutants, \(inPlace) listed in place, \(withProblems) with problems")
    }

    /// The first line where two listings differ, both versions of it.
    static func firstDifferentLine(_ a: [UInt8], _ b: [UInt8]) -> String {
        let x = a.split(separator: 0x0A, omittingEmptySubsequences: false)
        let y = b.split(separator: 0x0A, omittingEmptySubsequences: false)
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? String(decoding: x[i], as: UTF8.self) : "<end>"
            let r = i < y.count ? String(decoding: y[i], as: UTF8.self) : "<end>"
            if l != r { return "line \(i + 1): \(l.debugDescription) vs \(r.debugDescription)" }
        }
        return "none"
    }

    /// The bytes of `count` corpus files of `version` spread over those whose size is in `sizes`.
    static func corpusSample(_ version: PythonVersion, count: Int, sizes: ClosedRange<Int>) throws -> [[UInt8]] {
        let files = try corpusBySize(version).filter { sizes.contains($0.size) }
        try #require(files.count >= count)
        return try (0..<count).map { try FileIO.read(files[$0 * files.count / count].path) }
    }

    /// `bytes` with one to three bytes at `from` or after it flipped in one bit or replaced.
    static func mutated(_ bytes: [UInt8], from start: Int, rng: inout SplitMix) -> [UInt8] {
        var m = bytes
        for _ in 0..<(1 + rng.next() % 3) {
            let i = start + Int(rng.next() % UInt64(m.count - start))
            m[i] = rng.next() % 2 == 0 ? m[i] ^ UInt8(1 << (rng.next() % 8)) : UInt8(truncatingIfNeeded: rng.next())
        }
        return m
    }

    /// The corpus files of `version` with their sizes, smallest first.
    static func corpusBySize(_ version: PythonVersion) throws -> [(path: String, size: Int)] {
        try MarshalTestKit.requireCorpus(version).map { path in
            (path, (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }.sorted { $0.size < $1.size }
    }

    // MARK: - Malformed streams, one per error kind

    @Test(
        "malformed streams throw the promised error at the promised offset, and CPython rejects them too",
        arguments: PythonVersion.all)
    func malformedStreams(_ version: PythonVersion) throws {
        let cases = Self.malformed(version)
        for c in cases {
            do {
                let obj = try MarshalReader(version: version).loads(c.bytes)
                Issue.record("\(version) \(c.name): decoded \(obj) from \(Hex.encode(c.bytes))")
            } catch {
                #expect(c.kind.matches(error.kind), "\(version) \(c.name): expected \(c.kind), got \(error)")
                #expect(error.offset == c.offset, "\(version) \(c.name): offset of \(error)")
            }
        }
        guard Interpreters.python(version) != nil else {
            print("\(version): CPython cross-check \(Interpreters.missingMessage(version))")
            return
        }
        let verdicts = try MarshalTestKit.cpythonLoads(version, cases.map(\.bytes))
        for (c, verdict) in zip(cases, verdicts) {
            #expect(verdict.hasPrefix("err"), "\(version) \(c.name): CPython's marshal.loads accepted it: \(verdict)")
        }
    }

    struct Malformed {
        var name: String
        var bytes: [UInt8]
        fileprivate var kind: KindPattern
        var offset: Int
    }

    static func malformed(_ v: PythonVersion) -> [Malformed] {
        let py2 = v.usesStringTable
        let max = Int32.max
        var cases: [Malformed] = []
        func add(_ name: String, _ bytes: [UInt8], _ kind: KindPattern, at offset: Int) {
            cases.append(Malformed(name: name, bytes: bytes, kind: kind, offset: offset))
        }
        // Lengths: huge → .truncated at the length field (nothing is allocated), negative → .badLength.
        let lengthCodes: [Character] =
            py2 ? ["s", "t", "u", "(", "[", "<", ">"] : ["s", "t", "u", "a", "A", "(", "[", "<", ">"]
        for code in lengthCodes {
            add(
                "\(code) length 0x7fffffff", [ascii(code)] + le32(max) + Array("abc".utf8),
                .truncated(needed: Int(max)), at: 1)
            add("\(code) length -1", [ascii(code)] + le32(-1) + Array("abc".utf8), .badLength(-1), at: 1)
            add("\(code) length INT_MIN", [ascii(code)] + le32(Int32.min), .badLength(Int64(Int32.min)), at: 1)
        }
        add(
            "huge length inside a list", Array("[".utf8) + le32(1) + Array("s".utf8) + le32(max - 1),
            .truncated(needed: Int(max - 1)), at: 6)
        // Long digit counts: the digits are checked before anything is read.
        add("l with 0x7fffffff digits", Array("l".utf8) + le32(max) + [1, 0], .truncated(needed: 2 * Int(max)), at: 5)
        add(
            "l with -0x7fffffff digits", Array("l".utf8) + le32(-max) + [1, 0], .truncated(needed: 2 * Int(max)), at: 5)
        add("l with INT_MIN digits", Array("l".utf8) + le32(Int32.min), .truncated(needed: 1 << 32), at: 5)
        if !py2 {
            add("z length 255, 3 bytes", [ascii("z"), 255] + Array("abc".utf8), .truncated(needed: 255), at: 2)
            add(") with 200 items, 1 present", [ascii(")"), 200, ascii("N")], .truncated(needed: 1), at: 3)
        }
        // Unnormalized longs and out-of-range digits.
        add("long with top digit 0", Array("l".utf8) + le32(2) + [1, 0, 0, 0], .badLongDigits, at: 1)
        add("negative long with top digit 0", Array("l".utf8) + le32(-2) + [1, 0, 0, 0], .badLongDigits, at: 1)
        add("long digit 0x8000", Array("l".utf8) + le32(1) + [0x00, 0x80], .badLongDigits, at: 1)
        add("long digit 0xffff below the top", Array("l".utf8) + le32(2) + [0xFF, 0xFF, 1, 0], .badLongDigits, at: 1)
        // References past the table, negative, and into an object still being read.
        if py2 {
            let oneEntry = Array("(".utf8) + le32(2) + Array("t".utf8) + le32(1) + Array("a".utf8)
            add("R 5 with one table entry", oneEntry + Array("R".utf8) + le32(5), .invalidReference(5, 1), at: 11)
            add("R -1", oneEntry + Array("R".utf8) + le32(-1), .invalidReference(-1, 1), at: 11)
            add("R 0 with an empty table", Array("R".utf8) + le32(0), .invalidReference(0, 0), at: 0)
        } else {
            let oneEntry = [ascii(")"), 2, ascii("i") | 0x80] + le32(1)
            add("r 5 with one table entry", oneEntry + Array("r".utf8) + le32(5), .invalidReference(5, 1), at: 7)
            add("r -1", oneEntry + Array("r".utf8) + le32(-1), .invalidReference(-1, 1), at: 7)
            add("r 0 with an empty table", Array("r".utf8) + le32(0), .invalidReference(0, 0), at: 0)
            // CPython registers a frozenset only once it is complete: "invalid reference".
            add(
                "frozenset containing itself", [ascii(">") | 0x80] + le32(1) + Array("r".utf8) + le32(0),
                .recursiveReference(0), at: 5)
        }
        // Unknown type codes.
        var unknown: [UInt8] = [ascii("?"), 0x01, 0x00, 0xFF, ascii("!")]
        unknown +=
            py2
            ? [
                ascii("i") | 0x80, ascii("N") | 0x80, ascii("z"), ascii("Z"), ascii("a"), ascii("A"), ascii(")"),
                ascii("r"),
            ]
            : [ascii("?") | 0x80, ascii("R")]
        for b in unknown { add("type code 0x\(String(b, radix: 16))", [b] + le32(0), .unknownType(b), at: 0) }
        add(
            "unknown type inside a list", Array("[".utf8) + le32(2) + Array("N".utf8) + [ascii("?")],
            .unknownType(ascii("?")), at: 6)
        // Text that is not UTF-8 (surrogates are allowed: see `acceptedOddities`).
        let badUTF8: [(String, [UInt8])] = [
            ("bad continuation", [0xC3, 0x28]), ("overlong NUL", [0xC0, 0x80]),
            ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("cut sequence", [0x61, 0xE2, 0x82]), ("lone continuation", [0x80]), ("0xff", [0xFF]),
        ]
        for (name, text) in badUTF8 {
            add("u: \(name)", Array("u".utf8) + le32(Int32(text.count)) + text, .invalidUTF8, at: 5)
            if !py2 { add("t: \(name)", Array("t".utf8) + le32(Int32(text.count)) + text, .invalidUTF8, at: 5) }
        }
        return cases
    }

    /// Inputs CPython accepts that look odd: PycKit reads them to the same value.
    @Test("odd but valid streams decode to CPython's value", arguments: PythonVersion.all)
    func acceptedOddities(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        var cases: [(String, [UInt8], PyValue)] = [
            (
                "encoded lone surrogate", Array("u".utf8) + le32(3) + [0xED, 0xA0, 0x80],
                .str(PyString(codePoints: [0xD800]))
            ),
            (
                "surrogate pair kept as two code points",
                Array("u".utf8) + le32(6) + [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80],
                .str(PyString(codePoints: [0xD83D, 0xDE00]))
            ),
        ]
        if !version.usesStringTable {
            // CPython reads the ASCII forms as Latin-1 (one-byte kind), whatever the bytes.
            cases += [
                ("z with a byte >= 0x80", [ascii("z"), 1, 0xE9], .str(PyString("é"))),
                ("a with bytes >= 0x80", Array("a".utf8) + le32(2) + [0xE9, 0xFF], .str(PyString("éÿ"))),
                ("Z with a byte >= 0x80", [ascii("Z"), 2, 0x41, 0xE9], .str(PyString("Aé"))),
                // FLAG_REF on a singleton takes no slot.
                ("flagged None", [ascii("N") | 0x80], .none),
                (
                    "flagged None then r 0",
                    [ascii(")"), 3, ascii("N") | 0x80, ascii("z") | 0x80, 1, 0x41] + Array("r".utf8)
                        + le32(0), .tuple([.none, .str("A"), .str("A")])
                ),
                // 2.7's int64 form.
                ("I", Array("I".utf8) + [0, 0, 0, 0, 0, 1, 0, 0], .int(1 << 40)),
            ]
        }
        let verdicts = try MarshalTestKit.cpythonLoads(
            version, cases.map(\.1), compareWith: cases.map { pyLiteral($0.2) })
        for ((name, bytes, expected), verdict) in zip(cases, verdicts) {
            #expect(verdict == "ok equal", "\(version) \(name): CPython says \(verdict)")
            do {
                let obj = try MarshalReader(version: version).loads(bytes)
                #expect(obj.value == expected, "\(version) \(name): decoded \(obj.value)")
                // Whatever form the writer picks, it must read back as the same value.
                let again = try MarshalWriter(version: version).dumps(obj)
                #expect(
                    try MarshalReader(version: version).loads(again).value == expected, "\(version) \(name): rewrite")
            } catch {
                Issue.record("\(version) \(name): \(error)")
            }
        }
    }

    /// A list that contains itself: CPython builds the cycle, a `PyValue` cannot hold one, so
    /// PycKit refuses it with `.recursiveReference` (a deliberate difference).
    @Test("a container referring to itself is refused with .recursiveReference")
    func selfContainingContainers() throws {
        for version in PythonVersion.all where !version.usesStringTable {
            for type in ["[", "<"] {
                let bytes = [ascii(Character(type)) | 0x80] + le32(1) + Array("r".utf8) + le32(0)
                #expect(throws: MarshalError(.recursiveReference(index: 0), at: 5)) {
                    try MarshalReader(version: version).loads(bytes)
                }
            }
            let tuple: [UInt8] = [ascii(")") | 0x80, 1] + Array("r".utf8) + le32(0)
            #expect(throws: MarshalError(.recursiveReference(index: 0), at: 2)) {
                try MarshalReader(version: version).loads(tuple)
            }
        }
    }

    // MARK: - Nesting depth

    @Test("100,000 nested tuples throw .tooDeep at the 2001st level", arguments: PythonVersion.all)
    func hundredThousandTuples(_ version: PythonVersion) throws {
        let unit = Self.tupleOfOne(version)
        let bytes = Array([[UInt8]](repeating: unit, count: 100_000).joined()) + Array("N".utf8)
        let header = PycHeader(version: version).serialized()
        let results = onLargeStack {
            (
                Result { () throws(MarshalError) in try MarshalReader(version: version).loads(bytes) },
                Result { () throws(PycError) in try PycFile(bytes: header + bytes) }
            )
        }
        #expect(throws: MarshalError(.tooDeep(limit: 2000), at: 2000 * unit.count)) { try results.0.get() }
        // In a file the offset counts the header too.
        #expect(throws: PycError.marshal(MarshalError(.tooDeep(limit: 2000), at: header.count + 2000 * unit.count))) {
            try results.1.get()
        }
    }

    @Test(
        "the nesting limit is CPython's: the deepest input it loads loads, one more level is .tooDeep",
        arguments: PythonVersion.all)
    func nestingLimitMatchesCPython(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        // The deepest tuple and list nests CPython loads and dumps, and its dumps of that list.
        let script = #"""
            import marshal, sys, binascii
            tup = b"(\x01\x00\x00\x00" if sys.version_info[0] == 2 else b")\x01"
            def loads_ok(b):
                try: marshal.loads(b); return True
                except ValueError: return False
            def deepest(unit):
                k = 1900
                while loads_ok(unit * (k + 1) + b"N"): k += 1
                assert loads_ok(unit * k + b"N")
                return k
            def nest(k):
                x = None
                for i in range(k): x = [x]
                return x
            def dumps_ok(k):
                try: marshal.dumps(nest(k)); return True
                except ValueError: return False
            w = 1900
            while dumps_ok(w + 1): w += 1
            x = nest(w)
            print("%d %d %d %s" % (deepest(tup), deepest(b"[\x01\x00\x00\x00"), w,
                                   binascii.hexlify(marshal.dumps(x)).decode("ascii")))
            """#
        let fields = try MarshalTestKit.python(version, script).split(separator: " ")
        try #require(fields.count == 4)
        let (tuples, lists, written) = (Int(fields[0])!, Int(fields[1])!, Int(fields[2])!)
        let cpythonDump = Hex.decode(String(fields[3]).trimmingCharacters(in: .whitespacesAndNewlines))
        for (unit, deepest) in [(Self.tupleOfOne(version), tuples), (Array("[".utf8) + le32(1), lists)] {
            let ok = Array([[UInt8]](repeating: unit, count: deepest).joined()) + Array("N".utf8)
            let over = unit + ok
            let results = onLargeStack {
                (
                    Result { () throws(MarshalError) in try MarshalReader(version: version).loads(ok) },
                    Result { () throws(MarshalError) in try MarshalReader(version: version).loads(over) }
                )
            }
            #expect(throws: Never.self, "\(version): \(deepest) levels, which CPython loads") { try results.0.get() }
            #expect(throws: MarshalError(.tooDeep(limit: 2000), at: (deepest + 1) * unit.count)) { try results.1.get() }
        }
        // Writing: the deepest list CPython dumps gives CPython's bytes; one more level fails.
        var nested = PyObject.none
        for _ in 0..<written { nested = PyObject(.list([nested])) }
        let deeper = PyObject(.list([nested]))
        let deepest = nested
        let writes = onLargeStack {
            (
                Result { () throws(MarshalError) in try MarshalWriter(version: version).dumps(deepest) },
                Result { () throws(MarshalError) in try MarshalWriter(version: version).dumps(deeper) }
            )
        }
        #expect(try writes.0.get() == cpythonDump, "\(version): \(written)-deep list")
        #expect(throws: MarshalError.self, "\(version): \(written + 1)-deep list") { try writes.1.get() }
    }

    /// The reader and writer recurse once per nesting level; 1999 levels (the most CPython
    /// accepts) need several MiB of stack. They run shallow input on the caller's stack and move
    /// anything nested deeper than `LargeStack.shallowDepth` onto a large-stack thread themselves,
    /// so even a 512 KiB thread (a secondary thread's default) reads and writes 1999 levels.
    @Test(arguments: PythonVersion.all)
    func deepNestingOnASmallStack(_ version: PythonVersion) throws {
        let unit = Self.tupleOfOne(version)
        let bytes = Array([[UInt8]](repeating: unit, count: 1999).joined()) + Array("N".utf8)
        let outcome = onSmallStack { () -> Result<Int, MarshalError> in
            Result { () throws(MarshalError) in
                let obj = try MarshalReader(version: version).loads(bytes)
                return try MarshalWriter(version: version).dumps(obj).count
            }
        }
        #expect(try outcome.get() == bytes.count)
    }

    /// Runs `body` on a thread with a 512 KiB stack and waits for it.
    func onSmallStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        onThread(stackSize: 512 << 10, body)
    }

    static func tupleOfOne(_ version: PythonVersion) -> [UInt8] {
        version.usesStringTable ? Array("(".utf8) + le32(1) : [ascii(")"), 1]
    }
}

// MARK: - Helpers

/// A pattern over `MarshalError.Kind` that ignores the descriptive strings.
private enum KindPattern: CustomStringConvertible {
    case truncated(needed: Int)
    case badLength(Int64)
    case invalidReference(Int64, Int)
    case recursiveReference(Int64)
    case unknownType(UInt8)
    case badLongDigits
    case invalidUTF8

    func matches(_ kind: MarshalError.Kind) -> Bool {
        switch (self, kind) {
        case (.truncated(let n), .truncated(_, let needed, _)): return n == needed
        case (.badLength(let n), .badLength(_, let value)): return n == value
        case (.invalidReference(let i, let size), .invalidReference(let index, let tableSize)):
            return i == index && size == tableSize
        case (.recursiveReference(let i), .recursiveReference(let index)): return i == index
        case (.unknownType(let t), .unknownType(let u)): return t == u
        case (.badLongDigits, .badLongDigits), (.invalidUTF8, .invalidUTF8): return true
        default: return false
        }
    }

    var description: String {
        switch self {
        case .truncated(let n): return ".truncated(needed: \(n))"
        case .badLength(let n): return ".badLength(\(n))"
        case .invalidReference(let i, let s): return ".invalidReference(\(i), tableSize: \(s))"
        case .recursiveReference(let i): return ".recursiveReference(\(i))"
        case .unknownType(let t): return ".unknownType(0x\(String(t, radix: 16)))"
        case .badLongDigits: return ".badLongDigits"
        case .invalidUTF8: return ".invalidUTF8"
        }
    }
}

extension MarshalTestKit {
    /// Runs CPython's `marshal.loads` on each input: "ok", "ok equal"/"ok differs" when a Python
    /// literal to compare with is given, or "err <exception type>".
    static func cpythonLoads(_ version: PythonVersion, _ inputs: [[UInt8]], compareWith literals: [String]? = nil)
        throws -> [String]
    {
        let script = #"""
            import marshal, sys, binascii
            lines = sys.stdin.read().split("\n")
            for line in lines:
                if not line: continue
                parts = line.split(" ", 1)
                try:
                    v = marshal.loads(binascii.unhexlify(parts[0]))
                except Exception as e:
                    print("err " + type(e).__name__); continue
                if len(parts) == 1: print("ok"); continue
                want = eval(parts[1])
                same = type(v) == type(want) and v == want
                print("ok equal" if same else "ok differs: " + repr(v))
            """#
        var input = ""
        for (i, b) in inputs.enumerated() {
            input += Hex.encode(b) + (literals.map { " " + $0[i] } ?? "") + "\n"
        }
        // CPython allocates what a length field announces before reading the items (a tuple of
        // 0x7fffffff slots, then a dealloc that touches them all), so cap its address space:
        // such inputs then end in MemoryError instead of exhausting the machine.
        guard let python = Interpreters.python(version) else {
            throw TestSupportError(Interpreters.missingMessage(version))
        }
        let out = try Interpreters.run(
            ["/bin/sh", "-c", "ulimit -v 1048576 && exec \"$0\" -c \"$1\"", python, script], stdin: Array(input.utf8))
        guard out.status == 0 else { throw TestSupportError("python \(version): \(out.stderr)") }
        let verdicts = out.stdout.split(separator: "\n").map(String.init)
        guard verdicts.count == inputs.count else { throw TestSupportError("python \(version): \(out.stdout)") }
        return verdicts
    }
}

/// A Python expression (2.7 and 3.x) for the simple values `acceptedOddities` uses.
private func pyLiteral(_ v: PyValue) -> String {
    switch v {
    case .none: return "None"
    case .int(let i): return "\(i)"
    case .str(let s): return "u\"" + s.codePoints.map { String(format: "\\U%08x", $0) }.joined() + "\""
    case .tuple(let items): return "(" + items.map { pyLiteral($0.value) + "," }.joined() + ")"
    default: return "None"
    }
}

/// Runs `body` on a thread with a 64 MiB stack (as the CLI does) and waits for it.
private func onLargeStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    onThread(stackSize: 64 << 20, body)
}

private func le32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
private func ascii(_ c: Character) -> UInt8 { c.asciiValue! }
