/// One entry of a 3.11+ exception table (formats.md §5, `Objects/exception_handling_notes.txt`):
/// when an instruction in `[start, end)` raises, the interpreter pops the stack to `depth`,
/// pushes the raising instruction's offset if `lasti`, pushes the exception and jumps to
/// `target`.
///
/// `start`, `end` and `target` count **code units** (2 bytes), as the table stores them; the
/// `…Offset` properties give bytes, as `dis._parse_exception_table` reports them.
public struct ExceptionTableEntry: Hashable, Sendable, CustomStringConvertible {
    /// First covered code unit.
    public var start: Int
    /// One past the last covered code unit.
    public var end: Int
    /// Code unit of the handler.
    public var target: Int
    /// Stack depth to pop down to.
    public var depth: Int
    /// Whether the raising instruction's offset is pushed before the exception.
    public var lasti: Bool

    public init(start: Int, end: Int, target: Int, depth: Int, lasti: Bool) {
        self.start = start
        self.end = end
        self.target = target
        self.depth = depth
        self.lasti = lasti
    }

    /// `start` in bytes.
    public var startOffset: Int { start * 2 }
    /// `end` in bytes (exclusive; `dis` prints `endOffset - 2`).
    public var endOffset: Int { end * 2 }
    /// `target` in bytes.
    public var targetOffset: Int { target * 2 }

    public var description: String {
        "\(startOffset) to \(endOffset) -> \(targetOffset) [\(depth)]\(lasti ? " lasti" : "")"
    }
}

/// Why an exception table could not be decoded or encoded, and where: the byte offset in the
/// table where the offending entry starts (decoding), or the index of the entry (encoding).
public struct ExceptionTableError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The table ends inside an entry (a varint or one of the four fields is missing).
        case truncated
        /// An entry's first byte lacks bit 7.
        case missingEntryStart
        /// A byte other than an entry's first has bit 7 set.
        case entryStartInsideEntry
        /// A value longer than 31 bits.
        case varintTooLong
        /// An entry covering no code unit (`size` 0), or, encoding, `end` before `start`.
        case emptyRange
        /// An entry reaching past the code, or a target outside it (checked when the code size is
        /// given).
        case outOfRange
        /// Encoding: a negative start, target or depth.
        case negativeValue
    }

    public var kind: Kind
    public var offset: Int

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch kind {
        case .truncated: what = "entry is truncated"
        case .missingEntryStart: what = "entry does not start with bit 7 set"
        case .entryStartInsideEntry: what = "byte with bit 7 set inside an entry"
        case .varintTooLong: what = "value longer than 31 bits"
        case .emptyRange: what = "entry covers no code"
        case .outOfRange: what = "entry reaches outside the code"
        case .negativeValue: what = "negative value"
        }
        return "exception table offset \(offset): \(what)"
    }
}

/// The 3.11+ `co_exceptiontable` codec (formats.md §5): per entry the varints `start`, `size`,
/// `target`, `depth << 1 | lasti`; a varint is 6-bit chunks **most significant first** with 0x40
/// meaning "more", and 0x80 is set on an entry's first byte only (`Python/assemble.c`,
/// `assemble_emit_exception_table_entry`).
public enum ExceptionTable {
    /// Decodes every entry. With `codeUnitCount`, entries must lie inside the code and targets
    /// point into it.
    public static func decode(
        _ table: [UInt8], codeUnitCount: Int? = nil
    ) throws(ExceptionTableError) -> [ExceptionTableEntry] {
        if table.isEmpty { return [] }  // most code objects: nothing to set up
        return try table.withUnsafeBufferPointer { (b) throws(ExceptionTableError) -> [ExceptionTableEntry] in
            var out: [ExceptionTableEntry] = []
            var i = 0
            let n = b.count
            out.reserveCapacity(n / 4)  // an entry takes at least four bytes

            /// One varint; `entry` is where the entry began (for errors).
            @inline(__always) func varint(_ entry: Int, first: Bool) throws(ExceptionTableError) -> Int {
                guard i < n else { throw ExceptionTableError(.truncated, at: entry) }
                var byte = b[i]
                if !first && byte & 0x80 != 0 { throw ExceptionTableError(.entryStartInsideEntry, at: i) }
                i += 1
                var value = Int(byte & 63)
                while byte & 64 != 0 {
                    guard i < n else { throw ExceptionTableError(.truncated, at: entry) }
                    byte = b[i]
                    guard byte & 0x80 == 0 else { throw ExceptionTableError(.entryStartInsideEntry, at: i) }
                    i += 1
                    guard value <= Int(Int32.max) >> 6 else { throw ExceptionTableError(.varintTooLong, at: entry) }
                    value = value << 6 | Int(byte & 63)
                }
                return value
            }

            while i < n {
                let entry = i
                guard b[i] & 0x80 != 0 else { throw ExceptionTableError(.missingEntryStart, at: entry) }
                let start = try varint(entry, first: true)
                let size = try varint(entry, first: false)
                let target = try varint(entry, first: false)
                let depthLasti = try varint(entry, first: false)
                guard size > 0 else { throw ExceptionTableError(.emptyRange, at: entry) }
                let end = start + size
                if let units = codeUnitCount, end > units || target >= units {
                    throw ExceptionTableError(.outOfRange, at: entry)
                }
                out.append(
                    ExceptionTableEntry(
                        start: start, end: end, target: target, depth: depthLasti >> 1, lasti: depthLasti & 1 != 0))
            }
            return out
        }
    }

    /// Encodes entries in the order given, as CPython writes them.
    public static func encode(_ entries: [ExceptionTableEntry]) throws(ExceptionTableError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 5)
        @inline(__always) func varint(_ value: Int, first: Bool) {
            var shift = 0
            while value >> shift >= 64 { shift += 6 }
            var mark: UInt8 = first ? 0x80 : 0
            while shift > 0 {
                out.append(mark | 0x40 | UInt8((value >> shift) & 63))
                mark = 0
                shift -= 6
            }
            out.append(mark | UInt8(value & 63))
        }
        for (index, e) in entries.enumerated() {
            guard e.start >= 0, e.target >= 0, e.depth >= 0 else {
                throw ExceptionTableError(.negativeValue, at: index)
            }
            guard e.end > e.start else { throw ExceptionTableError(.emptyRange, at: index) }
            let limit = Int(Int32.max)
            guard e.end <= limit, e.target <= limit, e.depth <= limit >> 1 else {
                throw ExceptionTableError(.varintTooLong, at: index)
            }
            varint(e.start, first: true)
            varint(e.end - e.start, first: false)
            varint(e.target, first: false)
            varint(e.depth << 1 | (e.lasti ? 1 : 0), first: false)
        }
        return out
    }
}
