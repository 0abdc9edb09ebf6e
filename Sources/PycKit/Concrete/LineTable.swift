/// A decoded line-number table in the form its format carries (formats.md §4):
/// logical `co_lnotab` entries (2.7–3.9), line ranges (3.10) or one source position per code
/// unit (3.11+).
///
/// `decode` and `encode` are inverse on every table CPython writes: decoding merges CPython's
/// split pairs back into one entry per line change, and encoding applies CPython's exact split
/// rules again (`Python/compile.c`, `assemble_lnotab` / `assemble_line_range` /
/// `write_location_info_entry`). The interpreter's own views — `dis.findlinestarts`,
/// `co_lines()`, `co_positions()` — are computed from the table bytes by `lineStarts(_:…)`,
/// `lines(_:…)` and `LocationTable.decode`.
///
/// Offsets are **bytes** of `co_code` everywhere except in `LocationTable`'s per-unit arrays and
/// instruction starts, which count **code units** (2 bytes).
public enum LineTable: Sendable, Equatable {
    /// 2.7–3.9: one entry per line change, offsets in bytes (`Lnotab`).
    case lnotab([LnotabEntry])
    /// 3.10: contiguous ranges from offset 0 to `len(co_code)`, in bytes (`LineTable310`).
    case ranges([LineRange])
    /// 3.11+: one position per code unit (`LocationTable`), as `co_positions()` yields them.
    case locations([SourcePosition])

    /// Decodes a code object's `co_lnotab` / `co_linetable` for `format`.
    ///
    /// `codeLength` is `len(co_code)` in bytes; the 3.10 and 3.11+ tables must cover exactly that
    /// many bytes. `co_lnotab` is not bounded, as CPython does not bound it: entries at exactly
    /// `len(co_code)` occur (21 in each of the 3.6 and 3.7 stdlib corpora, 7 in 3.8 and 3.9),
    /// none past it.
    public static func decode(
        _ table: [UInt8], format: LineTableFormat, firstLine: Int, codeLength: Int
    ) throws(LineTableError) -> LineTable {
        switch format {
        case .lnotab(let signed, _):
            return .lnotab(try Lnotab.decode(table, firstLine: firstLine, signedLineDelta: signed))
        case .linetable310:
            return .ranges(try LineTable310.decode(table, firstLine: firstLine, codeLength: codeLength))
        case .locations:
            return .locations(try LocationTable.decode(table, firstLine: firstLine, codeUnitCount: codeLength / 2))
        }
    }

    /// Encodes the table the way that version's compiler writes it.
    ///
    /// `instructionStarts` (code-unit indices of the first unit of each instruction, its
    /// `EXTENDED_ARG` prefixes included, ascending from 0) is required for a location table of a
    /// format with `oneEntryPerInstruction` (3.11) and ignored otherwise.
    public func encode(
        format: LineTableFormat, firstLine: Int, instructionStarts: [Int]? = nil
    ) throws(LineTableError) -> [UInt8] {
        switch (self, format) {
        case (.lnotab(let entries), .lnotab(let signed, _)):
            return try Lnotab.encode(entries, firstLine: firstLine, signedLineDelta: signed)
        case (.ranges(let ranges), .linetable310):
            return try LineTable310.encode(ranges, firstLine: firstLine)
        case (.locations(let positions), .locations(let perInstruction, _, _)):
            return try LocationTable.encode(
                positions, instructionStarts: instructionStarts, firstLine: firstLine,
                oneEntryPerInstruction: perInstruction)
        default:
            throw LineTableError(.formatMismatch, at: 0)
        }
    }

    /// What `dis.findlinestarts(code)` yields for that version: `(offset in bytes, line)` where
    /// `dis` starts a new source line. `line` is nil only for formats with
    /// `lineStartsReportNoLine` (3.13 prints those as `--`).
    public static func lineStarts(
        _ table: [UInt8], format: LineTableFormat, firstLine: Int, codeLength: Int
    ) throws(LineTableError) -> [LineStart] {
        switch format {
        case .lnotab(let signed, let stops):
            return try Lnotab.lineStarts(
                table, firstLine: firstLine, signedLineDelta: signed, stopAtCodeLength: stops ? codeLength : nil)
        case .linetable310:
            return try LineTable310.lineStarts(table, firstLine: firstLine)
        case .locations(_, let merge, let reportNoLine):
            return try LocationTable.lineStarts(
                table, firstLine: firstLine, mergeEqualLines: merge, reportNoLine: reportNoLine)
        }
    }

    /// `lineStarts(_:format:firstLine:codeLength:)` of a table in memory, appended to `out`
    /// (which keeps what was appended before an error).
    static func appendLineStarts(
        _ table: UnsafeBufferPointer<UInt8>, format: LineTableFormat, firstLine: Int, codeLength: Int,
        to out: inout [LineStart]
    ) throws(LineTableError) {
        switch format {
        case .lnotab(let signed, let stops):
            try Lnotab.appendLineStarts(
                table, firstLine: firstLine, signedLineDelta: signed, stopAtCodeLength: stops ? codeLength : nil,
                to: &out)
        case .linetable310:
            try LineTable310.appendLineStarts(table, firstLine: firstLine, to: &out)
        case .locations(_, let merge, let reportNoLine):
            try LocationTable.appendLineStarts(
                table, firstLine: firstLine, mergeEqualLines: merge, reportNoLine: reportNoLine, to: &out)
        }
    }

    /// `co_lines()` of that version: `(start, end, line)` in bytes. Before 3.10 CPython has no
    /// `co_lines()`; for `co_lnotab` this is PycKit's equivalent: one range per run of bytes with
    /// one line, ending at `codeLength`.
    public static func lines(
        _ table: [UInt8], format: LineTableFormat, firstLine: Int, codeLength: Int
    ) throws(LineTableError) -> [LineRange] {
        switch format {
        case .lnotab(let signed, _):
            let entries = try Lnotab.decode(table, firstLine: firstLine, signedLineDelta: signed)
            return Lnotab.lines(entries, firstLine: firstLine, codeLength: codeLength)
        case .linetable310:
            return try LineTable310.lines(table, firstLine: firstLine)
        case .locations(_, let merge, _):
            return try LocationTable.lines(table, firstLine: firstLine, mergeEqualLines: merge)
        }
    }
}

// MARK: - Shared value types

/// One logical `co_lnotab` entry: from byte `offset` on, the code belongs to `line`.
///
/// The table stores deltas; entries hold absolute values (the first delta is taken from offset 0
/// and `co_firstlineno`). Offsets never decrease; several entries may share an offset (a line
/// change with no bytes in between).
public struct LnotabEntry: Hashable, Sendable, CustomStringConvertible {
    /// Byte offset in `co_code` where the line starts.
    public var offset: Int
    /// The source line from `offset` on.
    public var line: Int

    public init(offset: Int, line: Int) {
        self.offset = offset
        self.line = line
    }

    public var description: String { "(\(offset), \(line))" }
}

/// A half-open byte range `[start, end)` of `co_code` and its line (nil: no line), as
/// `co_lines()` yields them.
public struct LineRange: Hashable, Sendable, CustomStringConvertible {
    public var start: Int
    public var end: Int
    public var line: Int?

    public init(start: Int, end: Int, line: Int?) {
        self.start = start
        self.end = end
        self.line = line
    }

    public var description: String { "(\(start), \(end), \(line.map(String.init) ?? "None"))" }
}

/// Where `dis` starts a source line: byte `offset` and its line (nil: "no line", 3.13's `--`).
public struct LineStart: Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var line: Int?

    public init(offset: Int, line: Int?) {
        self.offset = offset
        self.line = line
    }

    public var description: String { "(\(offset), \(line.map(String.init) ?? "None"))" }
}

/// The source span of one code unit (3.11+), as `co_positions()` yields it: each part is
/// optional. Columns are 0-based UTF-8 byte offsets, `endColumn` exclusive.
///
/// Stored like CPython stores it (`Objects/codeobject.c`): 32-bit values with −1 meaning
/// "none", so a decoded value of −1 reads as nil, exactly as `co_positions()` reports it.
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    var rawLine: Int32
    var rawEndLine: Int32
    var rawColumn: Int32
    var rawEndColumn: Int32

    /// No location at all (entry kind 15).
    public static let none = SourcePosition(rawLine: -1, rawEndLine: -1, rawColumn: -1, rawEndColumn: -1)

    @inline(__always)
    init(rawLine: Int32, rawEndLine: Int32, rawColumn: Int32, rawEndColumn: Int32) {
        self.rawLine = rawLine
        self.rawEndLine = rawEndLine
        self.rawColumn = rawColumn
        self.rawEndColumn = rawEndColumn
    }

    /// A position; values outside 32 bits are clamped to "none" (CPython cannot store them).
    public init(line: Int?, endLine: Int?, column: Int?, endColumn: Int?) {
        func raw(_ v: Int?) -> Int32 { v.flatMap { Int32(exactly: $0) } ?? -1 }
        self.init(rawLine: raw(line), rawEndLine: raw(endLine), rawColumn: raw(column), rawEndColumn: raw(endColumn))
    }

    public var line: Int? { rawLine == -1 ? nil : Int(rawLine) }
    public var endLine: Int? { rawEndLine == -1 ? nil : Int(rawEndLine) }
    public var column: Int? { rawColumn == -1 ? nil : Int(rawColumn) }
    public var endColumn: Int? { rawEndColumn == -1 ? nil : Int(rawEndColumn) }

    public var description: String {
        func s(_ v: Int?) -> String { v.map(String.init) ?? "None" }
        return "(\(s(line)), \(s(endLine)), \(s(column)), \(s(endColumn)))"
    }
}

// MARK: - Errors

/// Why a line-number table could not be decoded or encoded, and where.
///
/// `offset` is the byte offset within the table where the offending entry (or byte) begins
/// when decoding. When encoding it is the index of the offending entry, range or run — for
/// per-unit positions, the code unit; for instruction starts, the index into them.
public struct LineTableError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A pair table (`co_lnotab`, 3.10 `co_linetable`) with an odd number of bytes.
        case oddLength
        /// An entry or varint cut off by the end of the table.
        case truncated
        /// A location entry whose first byte lacks bit 7.
        case missingEntryStart
        /// A byte inside a location entry with bit 7 set (only entries start that way).
        case entryStartInsideEntry
        /// A varint longer than 32 bits.
        case varintTooLong
        /// A line, column or offset outside the 32 bits CPython stores (`firstLine` included).
        case valueOutOfRange
        /// The table covers `covered` bytes (3.10) or code units (3.11+) — for an overrun, at
        /// least that many — where the code has `expected`.
        case coverageMismatch(covered: Int, expected: Int)
        /// Encoding: an entry's offset is below the previous one, or a range does not start
        /// where the previous one ended (or at 0), or ends before it starts.
        case notContiguous
        /// Encoding 2.7's unsigned `co_lnotab`: a line lower than the one before.
        case negativeLineDelta
        /// Encoding a location: an end line before the line, a column below −1, or a position
        /// that changes inside one instruction.
        case invalidPosition
        /// Encoding 3.11 locations without valid instruction starts (ascending, from 0, inside
        /// the code).
        case invalidInstructionStarts
        /// `LineTable.encode` called with a format of another kind than the table.
        case formatMismatch
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
        case .oddLength: what = "line table has an odd number of bytes"
        case .truncated: what = "line table entry is truncated"
        case .missingEntryStart: what = "location entry does not start with bit 7 set"
        case .entryStartInsideEntry: what = "byte with bit 7 set inside a location entry"
        case .varintTooLong: what = "varint longer than 32 bits"
        case .valueOutOfRange: what = "line or column outside 32 bits"
        case .coverageMismatch(let covered, let expected):
            what = "line table covers \(covered), the code has \(expected)"
        case .notContiguous: what = "entries are not in order or ranges not contiguous"
        case .negativeLineDelta: what = "line decreases, which this version's co_lnotab cannot store"
        case .invalidPosition: what = "invalid source position"
        case .invalidInstructionStarts: what = "instruction starts missing or invalid"
        case .formatMismatch: what = "table kind does not match the version's line table format"
        }
        return "line table offset \(offset): \(what)"
    }
}

/// Throws unless `firstLine` fits in 32 bits, as `co_firstlineno` does; every codec checks it
/// first, so its own arithmetic cannot overflow.
@inline(__always)
func checkFirstLine(_ firstLine: Int) throws(LineTableError) {
    guard Int32(exactly: firstLine) != nil else { throw LineTableError(.valueOutOfRange, at: 0) }
}

// MARK: - Pair access

/// Reads byte pairs of a pair table (`co_lnotab`, 3.10 `co_linetable`) without bounds checks
/// past the one check of the pair count.
struct BytePairs {
    let base: UnsafeBufferPointer<UInt8>
    /// Number of whole pairs.
    let count: Int

    init(_ base: UnsafeBufferPointer<UInt8>) throws(LineTableError) {
        guard base.count & 1 == 0 else { throw LineTableError(.oddLength, at: base.count - 1) }
        self.base = base
        self.count = base.count >> 1
    }

    /// First byte of pair `i` (address or byte delta), unsigned.
    @inline(__always) func first(_ i: Int) -> Int { Int(base[2 &* i]) }
    /// Second byte of pair `i`, unsigned.
    @inline(__always) func second(_ i: Int) -> Int { Int(base[2 &* i &+ 1]) }
    /// Second byte of pair `i` as a signed byte.
    @inline(__always) func signedSecond(_ i: Int) -> Int { Int(Int8(bitPattern: base[2 &* i &+ 1])) }
}
