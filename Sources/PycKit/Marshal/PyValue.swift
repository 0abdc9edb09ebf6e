import BigInt

/// A Python value as marshal stores it, plus how it was stored.
///
/// `value` is what the object means; `encoding` remembers the bytes that byte identity needs
/// (type code, FLAG_REF, back-references). Objects built in Swift have an empty encoding, and the
/// writer encodes them the way that version's CPython writes a fresh object.
/// Equality compares values only: two objects are equal when Python would call them equal and
/// identical in type (floats compare by bit pattern, so NaN equals NaN and -0.0 differs from 0.0).
public struct PyObject: Sendable, Equatable, CustomStringConvertible {
    public var value: PyValue
    public var encoding: MarshalEncoding

    public init(_ value: PyValue, encoding: MarshalEncoding = MarshalEncoding()) {
        self.value = value
        self.encoding = encoding
    }

    public static func == (a: PyObject, b: PyObject) -> Bool { a.value == b.value }

    public var description: String { value.description }

    // Convenience constructors for building values.
    public static let none = PyObject(.none)
    public static func int(_ v: Int) -> PyObject { PyObject(.int(Int64(v))) }
    public static func str(_ s: String, interned: Bool = false) -> PyObject {
        var e = MarshalEncoding()
        e.internedHint = interned
        return PyObject(.str(PyString(s)), encoding: e)
    }
    public static func bytes(_ b: [UInt8]) -> PyObject { PyObject(.bytes(b)) }
    public static func tuple(_ items: [PyObject]) -> PyObject { PyObject(.tuple(items)) }
}

/// The meaning of a marshalled object.
public enum PyValue: Sendable, Equatable, CustomStringConvertible {
    /// marshal's NULL (`0`): ends a dict; never a value of its own in a `.pyc`.
    case null
    case none
    case stopIteration
    case ellipsis
    case bool(Bool)
    /// A Python `int` that fits in 64 bits (2.7: the `int` type).
    case int(Int64)
    /// 2.7's `long` type (any size), or a 3.x `int` beyond 64 bits.
    indirect case long(BigInt)
    case float(Double)
    case complex(real: Double, imag: Double)
    /// 3.x `bytes`; 2.7 `str`.
    case bytes([UInt8])
    /// 3.x `str`; 2.7 `unicode`.
    case str(PyString)
    case tuple([PyObject])
    case list([PyObject])
    case dict([PyDictEntry])
    case set([PyObject])
    case frozenset([PyObject])
    indirect case code(CodeObject)

    public static func == (a: PyValue, b: PyValue) -> Bool {
        switch (a, b) {
        case (.null, .null), (.none, .none), (.stopIteration, .stopIteration), (.ellipsis, .ellipsis): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.long(x), .long(y)): return x == y
        case let (.float(x), .float(y)): return x.bitPattern == y.bitPattern
        case let (.complex(xr, xi), .complex(yr, yi)):
            return xr.bitPattern == yr.bitPattern && xi.bitPattern == yi.bitPattern
        case let (.bytes(x), .bytes(y)): return x == y
        case let (.str(x), .str(y)): return x == y
        case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)), let (.set(x), .set(y)),
            let (.frozenset(x), .frozenset(y)):
            return x == y
        case let (.dict(x), .dict(y)): return x == y
        case let (.code(x), .code(y)): return x == y
        default: return false
        }
    }

    /// The integer value of `.int` or `.long`.
    public var integer: BigInt? {
        switch self {
        case .int(let v): return BigInt(v)
        case .long(let v): return v
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// The text of a `.str`, or of a `.bytes` decoded as UTF-8 (2.7 identifiers are `str` bytes).
    public var text: String? {
        switch self {
        case .str(let s): return s.string
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// Items of a tuple, list, set or frozenset.
    public var items: [PyObject]? {
        switch self {
        case .tuple(let x), .list(let x), .set(let x), .frozenset(let x): return x
        default: return nil
        }
    }

    public var codeObject: CodeObject? {
        if case .code(let c) = self { return c }
        return nil
    }

    /// A short debugging description, not Python's `repr`.
    public var description: String {
        switch self {
        case .null: return "NULL"
        case .none: return "None"
        case .stopIteration: return "StopIteration"
        case .ellipsis: return "Ellipsis"
        case .bool(let b): return b ? "True" : "False"
        case .int(let v): return String(v)
        case .long(let v): return String(v) + "L"
        case .float(let d): return String(d)
        case .complex(let r, let i): return "complex(\(r), \(i))"
        case .bytes(let b): return "bytes(\(b.count))"
        case .str(let s): return String(reflecting: s.string)
        case .tuple(let x): return "(" + x.map(\.description).joined(separator: ", ") + (x.count == 1 ? ",)" : ")")
        case .list(let x): return "[" + x.map(\.description).joined(separator: ", ") + "]"
        case .set(let x): return "set(\(x.count))"
        case .frozenset(let x): return "frozenset(\(x.count))"
        case .dict(let x): return "dict(\(x.count))"
        case .code(let c): return "<code \(c.name.value.text ?? "?")>"
        }
    }
}

/// One key/value pair of a marshalled dict, in stream order.
public struct PyDictEntry: Sendable, Equatable {
    public var key: PyObject
    public var value: PyObject
    public init(key: PyObject, value: PyObject) {
        self.key = key
        self.value = value
    }
}

/// A Python `str` (2.7: `unicode`) kept as the UTF-8 bytes marshal stores, with surrogate code
/// points encoded as CPython's `surrogatepass` does, so lone surrogates survive a round trip.
public struct PyString: Sendable, Hashable, CustomStringConvertible {
    /// The UTF-8 (`surrogatepass`) bytes.
    public let utf8: [UInt8]
    /// Whether every byte is ASCII (marshal's `a`/`z` forms then apply); computed once.
    public let isASCII: Bool

    public init(utf8: [UInt8]) {
        self.utf8 = utf8
        self.isASCII = utf8.allSatisfy { $0 < 0x80 }
    }

    init(utf8: [UInt8], isASCII: Bool) {
        self.utf8 = utf8
        self.isASCII = isASCII
    }

    /// A string from Latin-1 bytes (what marshal's `a`/`z` forms hold: CPython reads them as
    /// one-byte-kind strings, so a byte ≥ 0x80 is the code point of the same value).
    init(latin1 bytes: [UInt8]) {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            self.init(utf8: bytes, isASCII: true)
        } else {
            self.init(codePoints: bytes.map { UInt32($0) })
        }
    }

    public init(_ string: String) { self.init(utf8: Array(string.utf8)) }

    /// The text as a Swift string; a lone surrogate becomes U+FFFD.
    public var string: String { String(decoding: utf8, as: UTF8.self) }

    public var description: String { string }


    /// The code points, surrogates included (decoding the `surrogatepass` form).
    public var codePoints: [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        let b = utf8
        while i < b.count {
            let c = UInt32(b[i])
            if c < 0x80 {
                out.append(c)
                i += 1
            } else if c < 0xE0, i + 1 < b.count {
                out.append((c & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F))
                i += 2
            } else if c < 0xF0, i + 2 < b.count {
                out.append((c & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F))
                i += 3
            } else if i + 3 < b.count {
                out.append(
                    (c & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6
                        | UInt32(b[i + 3] & 0x3F))
                i += 4
            } else {
                out.append(0xFFFD)
                i += 1
            }
        }
        return out
    }

    /// Builds a string from code points, encoding surrogates the `surrogatepass` way.
    public init(codePoints: [UInt32]) {
        var b: [UInt8] = []
        for c in codePoints {
            switch c {
            case ..<0x80: b.append(UInt8(c))
            case ..<0x800: b += [UInt8(0xC0 | c >> 6), UInt8(0x80 | c & 0x3F)]
            case ..<0x10000: b += [UInt8(0xE0 | c >> 12), UInt8(0x80 | c >> 6 & 0x3F), UInt8(0x80 | c & 0x3F)]
            default:
                b += [UInt8(0xF0 | c >> 18 & 0x07), UInt8(0x80 | c >> 12 & 0x3F), UInt8(0x80 | c >> 6 & 0x3F),
                      UInt8(0x80 | c & 0x3F)]
            }
        }
        self.init(utf8: b)
    }
}

/// How one object was marshalled: what byte identity needs beyond the value.
///
/// `Python/marshal.c`: FLAG_REF follows the writer's reference counts, and each string keeps the
/// form it was written in, so neither can be derived from the value.
public struct MarshalEncoding: Sendable, Hashable {
    /// The type code as read, without FLAG_REF; 0 for an object built in Swift, which lets the
    /// writer choose the form that version's CPython would use.
    public var typeCode: UInt8 = 0
    var bits: UInt8 = 0
    /// The slot this object took in the reader's reference table (3.x FLAG_REF slots, 2.7
    /// string-table entries), or the slot a back-reference pointed at; -1 when none.
    public var slot: Int32 = -1

    public init() {}

    init(typeCode: UInt8, flagged: Bool, slot: Int32) {
        self.typeCode = typeCode
        self.slot = slot
        if flagged { bits |= 1 }
    }

    /// Whether the type byte carried FLAG_REF (0x80).
    public var isFlagged: Bool {
        get { bits & 1 != 0 }
        set { bits = newValue ? bits | 1 : bits & ~1 }
    }

    /// Whether this occurrence was a back-reference (`r n`, or 2.7's `R n`) to an earlier object.
    public var isBackReference: Bool {
        get { bits & 2 != 0 }
        set { bits = newValue ? bits | 2 : bits & ~2 }
    }

    /// For a string built in Swift: encode it as interned (identifiers, names).
    public var internedHint: Bool {
        get { bits & 4 != 0 }
        set { bits = newValue ? bits | 4 : bits & ~4 }
    }
}
