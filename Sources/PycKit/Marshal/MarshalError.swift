/// Why a marshal stream (or a `.pyc`) could not be read or written, and where.
///
/// `offset` is the absolute byte position in the input (in a `.pyc`, counted from the start of
/// the file) where the offending item begins.
public struct MarshalError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Fewer bytes left than the item needs.
        case truncated(expected: String, needed: Int, available: Int)
        /// A type byte that is not a marshal type code (or not one this version reads).
        case unknownType(UInt8)
        /// A negative or impossible length or count.
        case badLength(what: String, value: Int64)
        /// Objects nested deeper than CPython's limit of 2000.
        case tooDeep(limit: Int)
        /// `r n` / `R n` naming a slot that does not exist (yet).
        case invalidReference(index: Int64, tableSize: Int)
        /// A back-reference to an object still being read (a container that contains itself).
        case recursiveReference(index: Int64)
        /// A `long` with a zero top digit or a digit ≥ 2**15.
        case badLongDigits
        /// Text that is not UTF-8 (surrogates allowed).
        case invalidUTF8
        /// A text float that does not parse.
        case badFloatText(String)
        /// A code-object field of the wrong type.
        case badCodeField(field: String, expected: String)
        /// Bytes left over after the top-level object.
        case trailingBytes(count: Int)
        /// Something the writer cannot encode for this version.
        case unencodable(String)
    }

    public var kind: Kind
    public var offset: Int

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String {
        "offset \(offset): " + kindDescription
    }

    public var kindDescription: String {
        switch kind {
        case .truncated(let what, let needed, let available):
            return "truncated: expected \(what) (\(needed) byte\(needed == 1 ? "" : "s")), \(available) left"
        case .unknownType(let t):
            let ch = t >= 0x20 && t < 0x7F ? " '\(Character(Unicode.Scalar(t)))'" : ""
            return "unknown marshal type code 0x\(String(t, radix: 16))\(ch)"
        case .badLength(let what, let value): return "bad \(what): \(value)"
        case .tooDeep(let limit): return "objects nested deeper than \(limit) levels"
        case .invalidReference(let index, let size):
            return "invalid reference \(index): the reference table has \(size) entr\(size == 1 ? "y" : "ies")"
        case .recursiveReference(let index):
            return "reference \(index) points at an object that is still being read"
        case .badLongDigits: return "long integer with unnormalized or out-of-range digits"
        case .invalidUTF8: return "string is not valid UTF-8"
        case .badFloatText(let t): return "float text \(String(reflecting: t)) does not parse"
        case .badCodeField(let field, let expected): return "code object field \(field) is not \(expected)"
        case .trailingBytes(let n): return "\(n) bytes after the top-level object"
        case .unencodable(let what): return "cannot encode \(what)"
        }
    }
}
