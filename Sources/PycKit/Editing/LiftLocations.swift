/// 3.11+ location-table entries as the lifter reads them: each entry's length in code units and its
/// position (`Objects/locations.md`), well-formed entries only. Anything irregular — a byte out of
/// place, a value outside 32 bits, an over-long varint — stops the reader with ``irregular`` set; the
/// lifter then decodes the table with ``LocationTable/decode(_:firstLine:codeUnitCount:)``, which
/// reports the exact error. (`LocationCursor.next()` with its checks, inlined into the lifter's loop.)
struct LiftLocationReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0
    /// The running line (`computed_line`).
    private var line: Int
    /// Whether the reader stopped at an entry it does not accept.
    private(set) var irregular = false

    init(_ bytes: UnsafeBufferPointer<UInt8>, firstLine: Int) {
        self.bytes = bytes
        self.line = firstLine
    }

    /// The next entry; nil at the end of the table or at an irregular entry.
    @inline(__always)
    mutating func next() -> (units: Int, position: SourcePosition)? {
        guard offset < bytes.count else { return nil }
        let head = bytes[offset]
        let code = Int(head >> 3) & 15
        var o = offset + 1
        let position: SourcePosition
        if head & 0x80 == 0 {
            irregular = true
            return nil
        } else if code < 10 {
            // Short form: the line stays, one byte of columns.
            guard o < bytes.count, bytes[o] & 0x80 == 0, let l = Int32(exactly: line) else {
                irregular = true
                return nil
            }
            let b = Int32(bytes[o])
            o += 1
            let column = Int32(code << 3) | b >> 4
            position = SourcePosition(rawLine: l, rawEndLine: l, rawColumn: column, rawEndColumn: column + (b & 15))
        } else if code < 13 {
            // One-line form: the line moves by 0–2, two bytes of columns.
            guard o + 1 < bytes.count, (bytes[o] | bytes[o + 1]) & 0x80 == 0,
                let l = Int32(exactly: line + code - 10)
            else {
                irregular = true
                return nil
            }
            line += code - 10
            position = SourcePosition(
                rawLine: l, rawEndLine: l, rawColumn: Int32(bytes[o]), rawEndColumn: Int32(bytes[o + 1]))
            o += 2
        } else if code == 15 {
            position = .none
        } else {
            // No-column form (13) and long form (14): a signed line delta first.
            guard let delta = varint(&o), let l = Int32(exactly: line + (delta & 1 != 0 ? -(delta >> 1) : delta >> 1))
            else {
                irregular = true
                return nil
            }
            line = Int(l)
            if code == 13 {
                position = SourcePosition(rawLine: l, rawEndLine: l, rawColumn: -1, rawEndColumn: -1)
            } else {
                guard let endDelta = varint(&o), let endLine = Int32(exactly: line + endDelta),
                    let column = varint(&o), let endColumn = varint(&o)
                else {
                    irregular = true
                    return nil
                }
                position = SourcePosition(
                    rawLine: l, rawEndLine: endLine, rawColumn: Int32(column - 1), rawEndColumn: Int32(endColumn - 1))
            }
        }
        offset = o
        return (Int(head & 7) + 1, position)
    }

    /// An unsigned varint at `o` (6 bits a byte, least significant first, at most 31 bits), or nil.
    @inline(__always)
    private func varint(_ o: inout Int) -> Int? {
        var value = 0
        var shift = 0
        while true {
            guard o < bytes.count, bytes[o] & 0x80 == 0 else { return nil }
            let b = Int(bytes[o])
            o += 1
            value |= (b & 63) << shift
            if b & 64 == 0 { break }
            shift += 6
            guard shift < 32 else { return nil }
        }
        return value <= Int(Int32.max) ? value : nil
    }
}
