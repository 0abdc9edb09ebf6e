import BigInt

/// `repr()` of an unmarshalled constant, exactly as one CPython release prints it.
///
/// `pythonRepr(.float(1e16), version: .v3_11)` is `1e+16`; `pythonRepr(.long(5), version: .v2_7)`
/// is `5L`. This is what `dis` prints for `LOAD_CONST` and the other constant arguments
/// (`_get_const_info` in `Lib/dis.py`). Per-release differences are traits of `PythonVersion`
/// (`PythonVersion+Repr.swift`); the printable-character tables come from each interpreter's
/// Unicode database (`UnicodePrintable`).
public func pythonRepr(_ value: PyValue, version: PythonVersion) -> String {
    PyRepr.of(version).repr(value)
}

/// `repr()` for one release line, with its traits looked up once.
///
/// Differences from the interpreter, by design:
/// * Code objects print `PyRepr.codeObjectAddress` where CPython prints the object's address, which
///   changes from run to run; compare with ` at 0x[0-9a-f]+` normalized.
/// * Sets and frozensets print their elements in marshal order. CPython prints them in hash-table
///   order, which for strings follows the hash seed (`dis_reference.py` sorts them); dicts, which
///   never occur among code constants, print in marshal order too (2.7 would use hash order).
/// * Containers nest to any depth, where CPython's repr raises `RecursionError` near 1000 levels.
/// * An int beyond `PythonVersion.intMaxStrDigits` prints in full; `checkedRepr` raises what
///   CPython raises instead.
public struct PyRepr: Sendable {
    public let version: PythonVersion
    let traits: ReprTraits

    /// The address a code object's repr shows (`<code object f at 0x0, file "x.py", line 1>`).
    /// CPython prints the object's address (`%p`), different in every run; this fixed stand-in
    /// still matches ` at 0x[0-9a-f]+`, the pattern conformance checks normalize.
    public static let codeObjectAddress = codeObjectAddressText.description

    /// `codeObjectAddress` as the writer appends it.
    static let codeObjectAddressText: StaticString = "0x0"

    public init(version: PythonVersion) {
        self.version = version
        traits = ReprTraits(version)
    }

    /// The shared instance for a release.
    public static func of(_ version: PythonVersion) -> PyRepr {
        version.select(v2_7, v3_6, v3_7, v3_8, v3_9, v3_10, v3_11, v3_12, v3_13)
    }

    // One per release, each built on first use (`PythonVersion.select`).
    private static let v2_7 = PyRepr(version: .v2_7)
    private static let v3_6 = PyRepr(version: .v3_6)
    private static let v3_7 = PyRepr(version: .v3_7)
    private static let v3_8 = PyRepr(version: .v3_8)
    private static let v3_9 = PyRepr(version: .v3_9)
    private static let v3_10 = PyRepr(version: .v3_10)
    private static let v3_11 = PyRepr(version: .v3_11)
    private static let v3_12 = PyRepr(version: .v3_12)
    private static let v3_13 = PyRepr(version: .v3_13)

    /// Whether this release's `repr()` has a Unicode table for its text strings (always, for the
    /// releases PycKit knows; false would mean non-ASCII text is escaped wholesale).
    public var hasUnicodeTable: Bool { traits.escapesAllNonASCIIText || traits.printable != nil }

    /// `repr(value)`.
    public func repr(_ value: PyValue) -> String {
        var w = ReprWriter(traits: traits)
        w.value(value, depth: 0)
        return w.out.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// `repr(object.value)`.
    public func repr(_ object: PyObject) -> String { repr(object.value) }

    /// Appends `repr(value)` as UTF-8 to `out`. Lone surrogates inside a code object's name (the
    /// only place a repr keeps them unescaped) are written the `surrogatepass` way; 2.7 code-object
    /// names and file names are copied as the raw bytes CPython prints.
    public func write(_ value: PyValue, to out: inout [UInt8]) {
        write(some: value, to: &out)
    }

    /// `write(_:to:)` for any value the writer can walk.
    func write<V: ReprValue>(some value: V, to out: inout [UInt8]) {
        var w = ReprWriter(traits: traits)
        w.value(value, depth: 0)
        w.out.withUnsafeBytes { out.append(contentsOf: $0) }
    }

    /// `write(_:to:)` for any value the writer can walk, straight into a `ByteWriter`.
    func write<V: ReprValue>(some value: V, to out: inout ByteWriter) {
        var w = ReprWriter(traits: traits, out: out)
        w.value(value, depth: 0)
        out = w.finish()
    }

    /// `repr(value)`, or the error the interpreter's `repr()` raises for it: an int with more than
    /// `PythonVersion.intMaxStrDigits` decimal digits (the only error a marshalled constant can
    /// provoke, short of nesting deep enough for `RecursionError`).
    public func checkedRepr(_ value: PyValue) throws(PyReprError) -> String {
        if let limit = version.intMaxStrDigits, let digits = oversizedInt(in: value, limit: limit) {
            throw PyReprError(
                kind: .intTooLarge(digits: digits, limit: limit), message: version.intMaxStrDigitsMessage ?? "")
        }
        return repr(value)
    }

    /// The digit count of the first integer in `value` with more than `limit` decimal digits.
    func oversizedInt(in value: PyValue, limit: Int) -> Int? {
        switch value {
        case .long, .tuple, .list, .set, .frozenset, .dict: break
        default: return nil
        }
        var stack: [PyValue] = [value]
        while let v = stack.popLast() {
            switch v {
            case .long(let b):
                // A w-bit magnitude has at most ⌊w·log10 2⌋ + 1 digits; write only those that may pass.
                if Double(b.magnitude.bitWidth) * 0.30103 + 1 > Double(limit) {
                    var w = ReprWriter(traits: traits)
                    w.bigInt(b)
                    let digits = w.out.count - (w.out.withUnsafeBytes { $0.first } == UInt8(ascii: "-") ? 1 : 0)
                    if digits > limit { return digits }
                }
            case .tuple(let x), .list(let x), .set(let x), .frozenset(let x):
                stack.append(contentsOf: x.lazy.map(\.value))
            case .dict(let x):
                for e in x {
                    stack.append(e.key.value)
                    stack.append(e.value.value)
                }
            default: break
            }
        }
        return nil
    }
}

/// What `repr()` raises for a value (`PyRepr.checkedRepr`).
public struct PyReprError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// An int with more decimal digits than `sys.get_int_max_str_digits()` allows.
        case intTooLarge(digits: Int, limit: Int)
    }

    public var kind: Kind
    /// The exception's message, as the interpreter words it.
    public var message: String

    /// `ValueError: …`, as a traceback's last line shows it.
    public var description: String { "ValueError: " + message }
}

// MARK: - Writer

/// A release's repr traits, looked up once and shared by reference (one retain per repr).
final class ReprTraits: Sendable {
    let printable: UnicodePrintable?
    let escapesAllNonASCIIText: Bool
    let setStyle: PythonVersion.SetReprStyle
    let textPrefix: StaticString
    let bytesPrefix: StaticString
    let longSuffix: [UInt8]
    let stopIteration: [UInt8]
    let codeText: PythonVersion.CodeReprText

    init(_ version: PythonVersion) {
        escapesAllNonASCIIText = version.reprEscapesAllNonASCIIText
        // A 3.x release without a dumped table (a new release before `Scripts/unicode` ran) escapes
        // all non-ASCII text rather than guess; the tests require a table for every release.
        printable = escapesAllNonASCIIText ? nil : UnicodePrintable.table(unicodeVersion: version.unicodeDataVersion)
        setStyle = version.setReprStyle
        textPrefix = version.textReprPrefix
        bytesPrefix = version.bytesReprPrefix
        longSuffix = Array(version.longReprSuffix.utf8)
        stopIteration = Array(version.stopIterationRepr.utf8)
        codeText = version.codeReprText
    }
}

/// What a container is, for `repr`: the text around its items depends on it.
enum ReprContainerKind {
    case tuple, list, set, frozenset, dict
}

/// A value `ReprWriter` can print: a `PyValue`, or an object seen in place in marshal bytes
/// (`MarshalIndex.Value`). The writer walks containers itself, so both print alike.
protocol ReprValue {
    /// The kind and item count of a container (a dict counts its pairs), nil for a scalar.
    var reprContainer: (kind: ReprContainerKind, count: Int)? { get }
    /// Item `i` of a sequence; for a dict, key `i / 2` (even `i`) or its value (odd `i`).
    func reprItem(_ i: Int) -> Self
    /// Writes a scalar's repr.
    func writeScalarRepr(to w: inout ReprWriter)
    /// The UTF-8 of a `str` (`true`) or the bytes of a `bytes` (`false`), nil for anything else:
    /// what a code object's name and file name print from.
    func withStringBytes<R>(_ body: (_ isText: Bool?, UnsafeBufferPointer<UInt8>) -> R) -> R
}

extension PyValue: ReprValue {
    var reprContainer: (kind: ReprContainerKind, count: Int)? {
        switch self {
        case .tuple(let x): return (.tuple, x.count)
        case .list(let x): return (.list, x.count)
        case .set(let x): return (.set, x.count)
        case .frozenset(let x): return (.frozenset, x.count)
        case .dict(let x): return (.dict, x.count)
        default: return nil
        }
    }

    func reprItem(_ i: Int) -> PyValue {
        switch self {
        case .tuple(let x), .list(let x), .set(let x), .frozenset(let x): return x[i].value
        case .dict(let x): return i & 1 == 0 ? x[i >> 1].key.value : x[i >> 1].value.value
        default: return .null
        }
    }

    func writeScalarRepr(to w: inout ReprWriter) { w.scalar(self) }

    func withStringBytes<R>(_ body: (Bool?, UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch self {
        case .str(let s): return s.utf8.withUnsafeBufferPointer { body(true, $0) }
        case .bytes(let b): return b.withUnsafeBufferPointer { body(false, $0) }
        default: return body(nil, UnsafeBufferPointer(start: nil, count: 0))
        }
    }
}

/// Builds one repr into a byte buffer.
struct ReprWriter: ~Copyable {
    let traits: ReprTraits
    var out: ByteWriter

    init(traits: ReprTraits) {
        self.traits = traits
        out = ByteWriter(capacity: 32)
    }

    /// A writer that appends to `out`; `finish()` gives it back.
    init(traits: ReprTraits, out: consuming ByteWriter) {
        self.traits = traits
        self.out = out
    }

    consuming func finish() -> ByteWriter { out }

    /// Containers nested deeper than this continue on an explicit stack instead of the call stack.
    static let recursionDepth = 64

    @inline(__always) mutating func append(_ s: StaticString) {
        out.append(s.utf8Start, count: s.utf8CodeUnitCount)
    }

    /// The text around a container's items: what opens it, what closes it.
    private func brackets(_ kind: ReprContainerKind, count: Int) -> (open: StaticString, close: StaticString) {
        switch kind {
        case .tuple: return count == 0 ? ("()", "") : ("(", count == 1 ? ",)" : ")")
        case .list: return ("[", "]")
        case .dict: return ("{", "}")
        case .set:
            switch traits.setStyle {
            case .listArgument: return ("set([", "])")
            case .braces: return count == 0 ? ("set()", "") : ("{", "}")
            }
        case .frozenset:
            switch traits.setStyle {
            case .listArgument: return ("frozenset([", "])")
            case .braces: return count == 0 ? ("frozenset()", "") : ("frozenset({", "})")
            }
        }
    }

    /// Writes `v`: scalars directly, containers recursively up to `recursionDepth`, then on a stack.
    mutating func value<V: ReprValue>(_ v: V, depth: Int) {
        guard let (kind, count) = v.reprContainer else { return v.writeScalarRepr(to: &self) }
        if depth >= Self.recursionDepth { return deepValue(v) }
        let (open, close) = brackets(kind, count: count)
        append(open)
        if kind == .dict {
            for i in 0..<count {
                if i > 0 { append(", ") }
                value(v.reprItem(2 * i), depth: depth + 1)
                append(": ")
                value(v.reprItem(2 * i + 1), depth: depth + 1)
            }
        } else {
            for i in 0..<count {
                if i > 0 { append(", ") }
                value(v.reprItem(i), depth: depth + 1)
            }
        }
        append(close)
    }

    /// A step of the deep container walk.
    private enum Step<V> {
        case value(V)
        case literal(StaticString)
    }

    /// `value` for deep nesting: the same output, with an explicit stack instead of recursion.
    private mutating func deepValue<V: ReprValue>(_ root: V) {
        var stack: [Step<V>] = [.value(root)]
        while let step = stack.popLast() {
            switch step {
            case .literal(let s):
                append(s)
            case .value(let v):
                guard let (kind, count) = v.reprContainer else {
                    v.writeScalarRepr(to: &self)
                    continue
                }
                let (open, close) = brackets(kind, count: count)
                append(open)
                stack.append(.literal(close))
                if kind == .dict {
                    for i in stride(from: count - 1, through: 0, by: -1) {
                        stack.append(.value(v.reprItem(2 * i + 1)))
                        stack.append(.literal(": "))
                        stack.append(.value(v.reprItem(2 * i)))
                        if i > 0 { stack.append(.literal(", ")) }
                    }
                } else {
                    for i in stride(from: count - 1, through: 0, by: -1) {
                        stack.append(.value(v.reprItem(i)))
                        if i > 0 { stack.append(.literal(", ")) }
                    }
                }
            }
        }
    }

    mutating func scalar(_ v: PyValue) {
        switch v {
        case .null: append("NULL")
        case .none: append("None")
        case .ellipsis: append("Ellipsis")
        case .stopIteration: out.append(contentsOf: traits.stopIteration)
        case .bool(let b): b ? append("True") : append("False")
        case .int(let n): int(n)
        case .long(let b):
            bigInt(b)
            out.append(contentsOf: traits.longSuffix)
        case .float(let d): float(d, addDotZero: true, alwaysSign: false)
        case .complex(let re, let im): complex(real: re, imag: im)
        case .bytes(let b): b.withUnsafeBufferPointer { bytes($0) }
        case .str(let s): s.utf8.withUnsafeBufferPointer { text($0) }
        case .code(let c):
            // Only these fields: binding the whole CodeObject would retain every one of them.
            code(name: c.name.value, filename: c.filename.value, firstlineno: c.firstlineno)
        case .tuple, .list, .dict, .set, .frozenset: value(v, depth: Self.recursionDepth)
        }
    }

    // MARK: Integers

    /// `long_to_decimal_string`: an optional `-`, then the digits.
    mutating func int(_ n: Int64) {
        out.appendDecimal(Int(n))
    }

    /// `m` in decimal, with at least `minimumDigits` digits (leading zeros).
    mutating func unsigned(_ m: UInt64, minimumDigits: Int = 1) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 20 digits at most, as 24 bytes
        var count = 0
        var rest = m
        withUnsafeMutableBytes(of: &digits) { buf in
            while rest > 0 || count < minimumDigits {
                let (q, r) = rest.quotientAndRemainder(dividingBy: 10)
                buf[23 - count] = 0x30 &+ UInt8(truncatingIfNeeded: r)
                count += 1
                rest = q
            }
            out.append(buf.baseAddress! + (24 - count), count: count)
        }
    }

    /// A big integer in decimal: schoolbook division of its 64-bit words by 10^19, 19 digits a step.
    mutating func bigInt(_ b: BigInt) {
        if b.sign == .minus && !b.isZero { out.append(UInt8(ascii: "-")) }
        var words = Array(b.magnitude.words)
        while words.last == 0 { words.removeLast() }
        if words.count <= 1 {
            unsigned(UInt64(words.first ?? 0))
            return
        }
        let base: UInt = 10_000_000_000_000_000_000
        var chunks: [UInt] = []  // base 10^19 digits, least significant first
        chunks.reserveCapacity(words.count + words.count / 5 + 1)
        while !words.isEmpty {
            var rest: UInt = 0
            for i in words.indices.reversed() {
                (words[i], rest) = base.dividingFullWidth((high: rest, low: words[i]))
            }
            chunks.append(rest)
            while words.last == 0 { words.removeLast() }
        }
        unsigned(UInt64(chunks[chunks.count - 1]))
        for chunk in chunks.dropLast().reversed() {
            // Each lower chunk is exactly 19 digits, leading zeros included.
            unsigned(UInt64(chunk), minimumDigits: 19)
        }
    }
}
