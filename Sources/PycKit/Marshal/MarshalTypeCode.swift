/// marshal's one-byte type codes (`Python/marshal.c`), without FLAG_REF.
enum MarshalType {
    static let flagRef: UInt8 = 0x80
    static let null: UInt8 = 0x30  // '0'
    static let none: UInt8 = 0x4E  // 'N'
    static let `false`: UInt8 = 0x46  // 'F'
    static let `true`: UInt8 = 0x54  // 'T'
    static let stopIteration: UInt8 = 0x53  // 'S'
    static let ellipsis: UInt8 = 0x2E  // '.'
    static let int: UInt8 = 0x69  // 'i'
    static let int64: UInt8 = 0x49  // 'I'
    static let long: UInt8 = 0x6C  // 'l'
    static let floatText: UInt8 = 0x66  // 'f'
    static let floatBinary: UInt8 = 0x67  // 'g'
    static let complexText: UInt8 = 0x78  // 'x'
    static let complexBinary: UInt8 = 0x79  // 'y'
    static let string: UInt8 = 0x73  // 's'
    static let interned: UInt8 = 0x74  // 't'
    static let stringRef: UInt8 = 0x52  // 'R'
    static let unicode: UInt8 = 0x75  // 'u'
    static let ascii: UInt8 = 0x61  // 'a'
    static let asciiInterned: UInt8 = 0x41  // 'A'
    static let shortASCII: UInt8 = 0x7A  // 'z'
    static let shortASCIIInterned: UInt8 = 0x5A  // 'Z'
    static let tuple: UInt8 = 0x28  // '('
    static let smallTuple: UInt8 = 0x29  // ')'
    static let list: UInt8 = 0x5B  // '['
    static let dict: UInt8 = 0x7B  // '{'
    static let set: UInt8 = 0x3C  // '<'
    static let frozenset: UInt8 = 0x3E  // '>'
    static let code: UInt8 = 0x63  // 'c'
    static let ref: UInt8 = 0x72  // 'r'
    static let unknown: UInt8 = 0x3F  // '?'

    /// Whether a string form marks the string as interned.
    static func isInterned(_ t: UInt8) -> Bool { t == interned || t == asciiInterned || t == shortASCIIInterned }
}

/// Validates UTF-8 as CPython's decoder with `surrogatepass` accepts it: shortest forms only,
/// code points up to U+10FFFF, encoded surrogates (U+D800–U+DFFF) allowed. Returns nil for
/// invalid text, else whether it is all ASCII.
func validateSurrogatePassUTF8(_ b: UnsafeRawBufferPointer) -> Bool? {
    var i = 0
    var ascii = true
    let n = b.count
    while i < n {
        let c = b[i]
        if c < 0x80 {
            i += 1
            continue
        }
        ascii = false
        @inline(__always) func cont(_ k: Int) -> Bool { i + k < n && b[i + k] & 0xC0 == 0x80 }
        if c >= 0xC2 && c <= 0xDF {
            guard cont(1) else { return nil }
            i += 2
        } else if c >= 0xE0 && c <= 0xEF {
            guard cont(1), cont(2) else { return nil }
            if c == 0xE0 && b[i + 1] < 0xA0 { return nil }
            i += 3
        } else if c >= 0xF0 && c <= 0xF4 {
            guard cont(1), cont(2), cont(3) else { return nil }
            if c == 0xF0 && b[i + 1] < 0x90 { return nil }
            if c == 0xF4 && b[i + 1] > 0x8F { return nil }
            i += 4
        } else {
            return nil
        }
    }
    return ascii
}
