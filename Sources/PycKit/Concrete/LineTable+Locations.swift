/// The location table of 3.11–3.13 (formats.md §4.3, `Objects/locations.md`): a sequence of
/// entries, each covering 1–8 code units with one source position.
///
/// An entry starts with a byte `1 CCCC LLL` (bit 7, a 4-bit kind, length − 1) and continues with
/// bytes that never have bit 7 set:
///
/// | kind | meaning | following bytes |
/// |---|---|---|
/// | 0–9 | short: same line, col = kind·8 + (b >> 4), end col = col + (b & 15) | 1 |
/// | 10–12 | one line: line += kind − 10, raw col and end col | 2 |
/// | 13 | no columns: line += svarint, end line = line | svarint |
/// | 14 | long: line += svarint, end line = line + varint, col + 1, end col + 1 (0: none) | 4 varints |
/// | 15 | no location | — |
///
/// varints are 6-bit chunks, least significant first, 0x40 meaning "more"; an svarint holds
/// `v << 1` or `(−v << 1) | 1`. The running line carries over between entries.
public enum LocationTable {
    /// The form of one entry, with what its header byte's kind implies.
    public enum EntryKind: Sendable, Hashable {
        /// Kinds 0–9: the column's high bits (`col >> 3`) are the kind.
        case short(Int)
        /// Kinds 10–12: the line delta 0, 1 or 2.
        case oneLine(lineDelta: Int)
        /// Kind 13.
        case noColumn
        /// Kind 14.
        case long
        /// Kind 15.
        case none

        /// The 4-bit kind of the header byte.
        public var code: Int {
            switch self {
            case .short(let c): return c
            case .oneLine(let d): return 10 + d
            case .noColumn: return 13
            case .long: return 14
            case .none: return 15
            }
        }
    }

    /// One entry as stored: its form, its length in code units, and the position it gives.
    public struct Entry: Sendable, Hashable {
        public var kind: EntryKind
        public var codeUnits: Int
        public var position: SourcePosition
        /// Byte offset of the entry's header in the table.
        public var tableOffset: Int
    }

    /// A run of code units with one position, the unit `encode(runs:…)` writes from.
    public struct Run: Sendable, Hashable {
        public var position: SourcePosition
        public var codeUnits: Int

        public init(position: SourcePosition, codeUnits: Int) {
            self.position = position
            self.codeUnits = codeUnits
        }
    }

    // MARK: - Decoding

    /// `co_positions()`: one position per code unit. The entries must cover exactly
    /// `codeUnitCount` units.
    public static func decode(
        _ table: [UInt8], firstLine: Int, codeUnitCount: Int
    ) throws(LineTableError) -> [SourcePosition] {
        try checkFirstLine(firstLine)
        let count = max(codeUnitCount, 0)
        var failure: LineTableError? = nil
        // Every unit is written exactly once, so the array starts uninitialized; on an error it
        // keeps only the units written so far and is dropped.
        let out = table.withUnsafeBufferPointer { buffer in
            [SourcePosition](unsafeUninitializedCapacity: count) { positions, initialized in
                var cursor = LocationCursor(buffer, firstLine: firstLine)
                var unit = 0
                do throws(LineTableError) {
                    while true {
                        let start = cursor.offset
                        let entry: (code: Int, units: Int, position: SourcePosition)
                        if let e = cursor.nextEntry() {
                            entry = e
                        } else if let e = try cursor.next() {  // (throws: `nextEntry` reads every valid entry)
                            entry = (e.code, e.units, e.position)
                        } else {
                            break
                        }
                        let end = unit + entry.units
                        guard end <= count else {
                            throw LineTableError(.coverageMismatch(covered: end, expected: count), at: start)
                        }
                        (positions.baseAddress! + unit).initialize(repeating: entry.position, count: entry.units)
                        unit = end
                    }
                    if unit != count {
                        throw LineTableError(.coverageMismatch(covered: unit, expected: count), at: buffer.count)
                    }
                } catch {
                    failure = error
                }
                initialized = unit
            }
        }
        if let failure { throw failure }
        return out
    }

    /// The entries as stored, in order (no coverage check).
    public static func entries(_ table: [UInt8], firstLine: Int) throws(LineTableError) -> [Entry] {
        try checkFirstLine(firstLine)
        return try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) -> [Entry] in
            var cursor = LocationCursor(buffer, firstLine: firstLine)
            var out: [Entry] = []
            while let e = try cursor.next() {
                let kind: EntryKind
                switch e.code {
                case 0...9: kind = .short(e.code)
                case 10...12: kind = .oneLine(lineDelta: e.code - 10)
                case 13: kind = .noColumn
                case 14: kind = .long
                default: kind = .none
                }
                out.append(Entry(kind: kind, codeUnits: e.units, position: e.position, tableOffset: e.offset))
            }
            return out
        }
    }

    /// `co_lines()`, in bytes. With `mergeEqualLines` (3.12+) consecutive entries with the same
    /// line merge into one range and only a line of −1 reads as None; otherwise (3.11) each entry
    /// is its own range and every negative line reads as None (`lineiter_next` of each version).
    public static func lines(
        _ table: [UInt8], firstLine: Int, mergeEqualLines: Bool
    ) throws(LineTableError) -> [LineRange] {
        try checkFirstLine(firstLine)
        return try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) -> [LineRange] in
            var ranges = LocationLineRanges(buffer, firstLine: firstLine, merge: mergeEqualLines)
            var out: [LineRange] = []
            while let r = try ranges.next() { out.append(r) }
            return out
        }
    }

    /// What `dis.findlinestarts` yields: the start of each `co_lines()` range whose line differs
    /// from the last one reported. Without `reportNoLine` (3.11, 3.12) ranges without a line are
    /// skipped; with it (3.13) they are reported too, with a nil line, and the first range always is.
    public static func lineStarts(
        _ table: [UInt8], firstLine: Int, mergeEqualLines: Bool, reportNoLine: Bool
    ) throws(LineTableError) -> [LineStart] {
        var out: [LineStart] = []
        try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) in
            try appendLineStarts(
                buffer, firstLine: firstLine, mergeEqualLines: mergeEqualLines, reportNoLine: reportNoLine, to: &out)
        }
        return out
    }

    /// `lineStarts` of a table in memory, appended to `out`: the walk of `LocationLineRanges`,
    /// keeping only each range's start and line.
    static func appendLineStarts(
        _ buffer: UnsafeBufferPointer<UInt8>, firstLine: Int, mergeEqualLines: Bool, reportNoLine: Bool,
        to out: inout [LineStart]
    ) throws(LineTableError) {
        try checkFirstLine(firstLine)
        // Starts are gathered in a small batch on the stack and appended to `out` a batch at a
        // time (`Array.append` checks the array's uniqueness on every call). (A literal size, at
        // most 1 KiB: the allocation is then on the stack.)
        try withUnsafeTemporaryAllocation(of: LineStart.self, capacity: 32) {
            (batch) throws(LineTableError) in
            try appendLineStarts(
                buffer, firstLine: firstLine, mergeEqualLines: mergeEqualLines, reportNoLine: reportNoLine,
                to: &out, batch: batch.baseAddress!, batchSize: batch.count)
        }
    }

    /// `appendLineStarts`, with room for `batchSize` starts at `batch`. On an error, the starts
    /// found before it are appended too.
    private static func appendLineStarts(
        _ buffer: UnsafeBufferPointer<UInt8>, firstLine: Int, mergeEqualLines: Bool, reportNoLine: Bool,
        to out: inout [LineStart], batch: UnsafeMutablePointer<LineStart>, batchSize: Int
    ) throws(LineTableError) {
        var cursor = LocationCursor(buffer, firstLine: firstLine)
        var held = 0
        defer { out.append(contentsOf: UnsafeBufferPointer(start: batch, count: held)) }
        // Lines as reported, with −1 for None (no range reports −1 as a line: 3.11 reads every
        // negative line as None, 3.12+ only −1); `Int.min` before the first report.
        var last = Int.min
        @inline(__always) func report(_ start: Int, _ line: Int) {
            if line == -1 && !reportNoLine { return }
            if line == last { return }
            if held == batchSize {
                out.append(contentsOf: UnsafeBufferPointer(start: batch, count: held))
                held = 0
            }
            (batch + held).initialize(to: LineStart(offset: start, line: line == -1 ? nil : line))
            held &+= 1
            last = line
        }
        var position = 0
        // The common entries are walked in a tight loop (`walkFastEntries`), a call per run of
        // them with one line, handled as its entries would be one by one; the loops below read
        // the others, one at a time, and end the walk. Entries (or runs) are handled alike on
        // either path, by their raw line: the running line, or −1 for kind 15 (no location).
        if mergeEqualLines {
            // 3.12+: equal consecutive raw lines (−1: none) merge into one range.
            var pendingStart = -1
            var pendingLine = 0
            @inline(__always) func entry(_ units: Int, _ raw: Int) {
                let start = position
                position &+= 2 &* units
                if pendingStart >= 0 && pendingLine == raw { return }
                if pendingStart >= 0 { report(pendingStart, pendingLine) }
                pendingStart = start
                pendingLine = raw
            }
            while true {
                cursor.walkFastEntries(entry)
                guard let e = try cursor.nextLine() else { break }
                entry(e.units, e.code == 15 ? -1 : cursor.line)
            }
            if pendingStart >= 0 { report(pendingStart, pendingLine) }
        } else {
            // The line reported for the last entry (−1: none); `Int.min` before the first.
            // Reporting the same line again changes nothing, so only changes are reported.
            var previous = Int.min
            @inline(__always) func entry(_ units: Int, _ raw: Int) {
                let line = raw < 0 ? -1 : raw
                if line != previous {
                    report(position, line)
                    previous = line
                }
                position &+= 2 &* units
            }
            while true {
                cursor.walkFastEntries(entry)
                guard let e = try cursor.nextLine() else { break }
                entry(e.units, e.code == 15 ? -1 : cursor.line)
            }
        }
    }

    // MARK: - Encoding

    /// Encodes per-unit positions as that version's compiler does.
    ///
    /// With `oneEntryPerInstruction` (3.11) each instruction — the units from one of
    /// `instructionStarts` (ascending code-unit indices, the first 0) to the next — gets its own
    /// entries, and all its units must share one position. Otherwise (3.12+) runs of equal
    /// consecutive positions share entries and `instructionStarts` is not needed. Runs longer
    /// than 8 units are split.
    public static func encode(
        _ positions: [SourcePosition], instructionStarts: [Int]?, firstLine: Int, oneEntryPerInstruction: Bool
    ) throws(LineTableError) -> [UInt8] {
        try checkFirstLine(firstLine)
        var storage: [UInt8] = []
        // At most one entry per code unit.
        return try LocationWriter.writing(entries: positions.count, firstLine: firstLine, storage: &storage) {
            (writer) throws(LineTableError) in
            try positions.withUnsafeBufferPointer { (p) throws(LineTableError) in
                let count = p.count
                if count == 0 { return }
                if oneEntryPerInstruction {
                    guard let starts = instructionStarts, starts.first == 0 else {
                        throw LineTableError(.invalidInstructionStarts, at: 0)
                    }
                    for (k, start) in starts.enumerated() {
                        let end = k + 1 < starts.count ? starts[k + 1] : count
                        guard start < end, end <= count else { throw LineTableError(.invalidInstructionStarts, at: k) }
                        let position = p[start]
                        for u in (start + 1)..<end where p[u] != position {
                            throw LineTableError(.invalidPosition, at: u)
                        }
                        try writer.write(position, units: end - start, index: start)
                    }
                } else {
                    var start = 0
                    while start < count {
                        let position = p[start]
                        var end = start + 1
                        while end < count && p[end] == position { end += 1 }
                        try writer.write(position, units: end - start, index: start)
                        start = end
                    }
                }
            }
        }
    }

    /// Encodes runs in order, each longer than 8 units split. A 3.11 assembler passes one run per
    /// instruction; a 3.12+ one passes `mergingEqualNeighbours` (or one run per instruction to
    /// `encode(_:instructionStarts:…)`), so that consecutive runs with equal positions share
    /// entries as `assemble_location_info` makes them. Empty runs write nothing.
    public static func encode(
        runs: [Run], firstLine: Int, mergingEqualNeighbours: Bool = false
    ) throws(LineTableError) -> [UInt8] {
        var storage: [UInt8] = []
        return try runs.withUnsafeBufferPointer { (runs) throws(LineTableError) in
            var units = 0
            for run in runs where run.codeUnits > 0 { units &+= run.codeUnits }
            return try encode(
                runCount: runs.count, codeUnits: units, firstLine: firstLine,
                mergingEqualNeighbours: mergingEqualNeighbours, storage: &storage
            ) { runs[$0] }
        }
    }

    /// ``encode(runs:firstLine:mergingEqualNeighbours:)`` over runs handed out by `run` (index in
    /// `0..<runCount`, in order), without an array of them. `codeUnits` bounds the units of all
    /// runs (it sizes the output: a bound too low is an error, never an overrun);
    /// `storage` is working memory the caller may keep for the next call. (Inlined, with `run`.)
    @inline(__always)
    static func encode(
        runCount: Int, codeUnits: Int, firstLine: Int, mergingEqualNeighbours: Bool, storage: inout [UInt8],
        run: (Int) -> Run
    ) throws(LineTableError) -> [UInt8] {
        try checkFirstLine(firstLine)
        // A run of n units takes ⌈n / 8⌉ ≤ n / 8 + 1 entries.
        let entries = runCount &+ codeUnits / 8 &+ 1
        guard codeUnits >= 0, entries > 0, entries <= Int.max / LocationWriter.maximumEntryBytes else {
            throw LineTableError(.invalidPosition, at: 0)
        }
        return try LocationWriter.writing(entries: entries, firstLine: firstLine, storage: &storage) {
            (w) throws(LineTableError) in
            // A local copy, which the loops keep in registers (`w` is behind a pointer).
            var writer = w
            defer { w = writer }
            guard mergingEqualNeighbours else {
                // Each run on its own. (When writing a run fails and the next run's units are
                // invalid, that is the error, as in the merging loop below, which checks a run's
                // units before it writes the run before it.)
                for index in 0..<runCount {
                    let r = run(index)
                    guard r.codeUnits >= 0, r.codeUnits <= Int32.max else {
                        throw LineTableError(.invalidPosition, at: index)
                    }
                    do throws(LineTableError) {
                        try writer.write(r.position, units: r.codeUnits, index: index)
                    } catch {
                        if index &+ 1 < runCount {
                            let next = run(index &+ 1).codeUnits
                            if next < 0 || next > Int32.max { throw LineTableError(.invalidPosition, at: index &+ 1) }
                        }
                        throw error
                    }
                }
                return
            }
            // Runs `first..<index` have one position and `units` units between them. (Their
            // position is read again from run `first`, not kept: the loop has few registers to
            // spare.) A first run with no location merges into none before it, which is empty.
            var first = 0
            var units = 0
            for index in 0..<runCount {
                let r = run(index)
                guard r.codeUnits >= 0, r.codeUnits <= Int32.max else {
                    throw LineTableError(.invalidPosition, at: index)
                }
                if index == 0 || r.position == run(first).position {
                    units += r.codeUnits
                    continue
                }
                try writer.write(run(first).position, units: units, index: first)
                first = index
                units = r.codeUnits
            }
            if runCount > 0 { try writer.write(run(first).position, units: units, index: first) }
        }
    }
}

// MARK: - Cursor

/// Walks location entries, keeping the running line; checks every byte. `next()` reads every
/// form and names what is wrong with a bad entry; the other readers take the common forms in line
/// (`commonEntry`) and leave the rest to it.
struct LocationCursor {
    let base: UnsafeBufferPointer<UInt8>
    var offset = 0
    /// The running line (`computed_line`).
    var line: Int

    struct RawEntry {
        var code: Int
        var units: Int
        var position: SourcePosition
        /// Table offset of the header byte.
        var offset: Int
    }

    /// A cursor at the start of `base`. `firstLine` must be in 32 bits (`checkFirstLine`): the
    /// readers keep the running line there.
    init(_ base: UnsafeBufferPointer<UInt8>, firstLine: Int) {
        assert(Int32(exactly: firstLine) != nil)
        self.base = base
        self.line = firstLine
    }

    @inline(__always)
    private mutating func byte(_ entry: Int) throws(LineTableError) -> Int {
        guard offset < base.count else { throw LineTableError(.truncated, at: entry) }
        let b = base[offset]
        guard b & 0x80 == 0 else { throw LineTableError(.entryStartInsideEntry, at: offset) }
        offset += 1
        return Int(b)
    }

    /// An unsigned varint, 6 bits a byte, least significant first; at most 31 bits.
    @inline(__always)
    private mutating func varint(_ entry: Int) throws(LineTableError) -> Int {
        var b = try byte(entry)
        var value = b & 63
        var shift = 0
        while b & 64 != 0 {
            shift += 6
            b = try byte(entry)
            guard shift < 32 else { throw LineTableError(.varintTooLong, at: entry) }
            value |= (b & 63) << shift
        }
        guard value <= Int(Int32.max) else { throw LineTableError(.varintTooLong, at: entry) }
        return value
    }

    @inline(__always)
    private mutating func signedVarint(_ entry: Int) throws(LineTableError) -> Int {
        let v = try varint(entry)
        return v & 1 != 0 ? -(v >> 1) : v >> 1
    }

    @inline(__always)
    private func raw(_ v: Int, _ entry: Int) throws(LineTableError) -> Int32 {
        guard let r = Int32(exactly: v) else { throw LineTableError(.valueOutOfRange, at: entry) }
        return r
    }

    /// What ``commonEntry(_:count:at:head:line:)`` reads: the entry's length in bytes, the running
    /// line after it and the position it gives.
    struct CommonEntry {
        var length: Int
        var line: Int
        var position: SourcePosition
    }

    /// The entry at `off` (header byte `head`, running line `line`) when it is of a form most
    /// entries take and `next()` accepts it; nil for any other entry, which `next()` reads (or
    /// rejects, naming the error). The common forms: short (kinds 0–9, two bytes) keeps the line,
    /// which is always in 32 bits here (`firstLine` is checked, and every entry that moves the line
    /// checks it), so only its byte needs checking; one-line (kinds 10–12, three bytes) moves it by
    /// 0–2; long (kind 14) with four one-byte varints (line delta, end-line delta, columns + 1).
    /// (Inlined: a caller that needs no position drops the work of building it.)
    @inline(__always)
    static func commonEntry(
        _ p: UnsafePointer<UInt8>, count n: Int, at off: Int, head: UInt8, line: Int
    ) -> CommonEntry? {
        guard head & 0x80 != 0 else { return nil }
        let code = Int(head >> 3) & 15
        if code < 10 {
            guard off &+ 1 < n else { return nil }
            let b = p[off &+ 1]
            guard b & 0x80 == 0 else { return nil }
            let l = Int32(truncatingIfNeeded: line)
            let column = Int32(truncatingIfNeeded: code << 3) | Int32(b >> 4)
            return CommonEntry(
                length: 2, line: line,
                position: SourcePosition(rawLine: l, rawEndLine: l, rawColumn: column, rawEndColumn: column + Int32(b & 15)))
        } else if code < 13 {
            let l = line &+ code &- 10
            guard l <= Int(Int32.max), off &+ 2 < n else { return nil }
            let b1 = p[off &+ 1]
            let b2 = p[off &+ 2]
            guard (b1 | b2) & 0x80 == 0 else { return nil }
            let l32 = Int32(truncatingIfNeeded: l)
            return CommonEntry(
                length: 3, line: l,
                position: SourcePosition(rawLine: l32, rawEndLine: l32, rawColumn: Int32(b1), rawEndColumn: Int32(b2)))
        } else if code == 14 && off &+ 4 < n {
            let b1 = p[off &+ 1]
            let b2 = p[off &+ 2]
            let b3 = p[off &+ 3]
            let b4 = p[off &+ 4]
            guard (b1 | b2 | b3 | b4) & 0xC0 == 0 else { return nil }
            let v = Int(b1)
            let l = line &+ (v & 1 != 0 ? -(v >> 1) : v >> 1)
            guard let l32 = Int32(exactly: l), let end = Int32(exactly: l &+ Int(b2)) else { return nil }
            return CommonEntry(
                length: 5, line: l,
                position: SourcePosition(
                    rawLine: l32, rawEndLine: end, rawColumn: Int32(b3) &- 1, rawEndColumn: Int32(b4) &- 1))
        }
        return nil
    }

    /// The entry at `off` (header byte `head`, running line `line`) when `next()` accepts it, in
    /// any form; nil for an entry it rejects. The one non-throwing reader of entries: the common
    /// forms in line (`commonEntry`, and kind 15), the others in `rareEntry`.
    @inline(__always)
    static func entry(
        _ p: UnsafePointer<UInt8>, count n: Int, at off: Int, head: UInt8, line: Int
    ) -> CommonEntry? {
        if let entry = commonEntry(p, count: n, at: off, head: head, line: line) { return entry }
        if head >= 0xF8 { return CommonEntry(length: 1, line: line, position: .none) }  // kind 15: the header alone
        return rareEntry(p, count: n, at: off, head: head, line: line)
    }

    /// `entry` of what `commonEntry` turns down: no location (kind 15), no columns (kind 13), the
    /// long form (kind 14) with longer varints, and every entry `next()` rejects (nil). (A short or
    /// one-line entry that `commonEntry` turns down is one of those.)
    @inline(never)
    static func rareEntry(
        _ p: UnsafePointer<UInt8>, count n: Int, at off: Int, head: UInt8, line: Int
    ) -> CommonEntry? {
        rareEntryInline(p, count: n, at: off, head: head, line: line)
    }

    /// `rareEntry`, for an outlined caller to inline.
    @inline(__always)
    private static func rareEntryInline(
        _ p: UnsafePointer<UInt8>, count n: Int, at off: Int, head: UInt8, line: Int
    ) -> CommonEntry? {
        guard head & 0x80 != 0 else { return nil }
        let code = Int(head >> 3) & 15
        if code == 15 { return CommonEntry(length: 1, line: line, position: .none) }
        guard code >= 13 else { return nil }
        var o = off &+ 1
        // A varint as `next()` reads it (6 bits a byte, least significant first, at most 31 bits).
        func varint() -> Int? {
            var value = 0
            var shift = 0
            while true {
                guard o < n else { return nil }
                let b = Int(p[o])
                guard b & 0x80 == 0 else { return nil }
                o &+= 1
                value |= (b & 63) << shift
                if b & 64 == 0 { break }
                shift &+= 6
                guard shift < 32 else { return nil }
            }
            return value <= Int(Int32.max) ? value : nil
        }
        guard let v = varint() else { return nil }
        let l = line &+ (v & 1 != 0 ? -(v >> 1) : v >> 1)
        guard let l32 = Int32(exactly: l) else { return nil }
        if code == 13 {
            return CommonEntry(
                length: o &- off, line: l,
                position: SourcePosition(rawLine: l32, rawEndLine: l32, rawColumn: -1, rawEndColumn: -1))
        }
        guard let endDelta = varint(), let end = Int32(exactly: l &+ endDelta), let column = varint(),
            let endColumn = varint()
        else { return nil }
        return CommonEntry(
            length: o &- off, line: l,
            position: SourcePosition(
                rawLine: l32, rawEndLine: end, rawColumn: Int32(column &- 1), rawEndColumn: Int32(endColumn &- 1)))
    }

    /// `next()` without the error: the next entry, or nil at the end of the table or at an entry
    /// `next()` rejects (the cursor then stays before it, so that `next()` can name the error).
    @inline(__always)
    mutating func nextEntry() -> (code: Int, units: Int, position: SourcePosition)? {
        guard offset < base.count, let p = base.baseAddress else { return nil }
        let head = p[offset]
        guard let entry = Self.entry(p, count: base.count, at: offset, head: head, line: line) else { return nil }
        offset &+= entry.length
        line = entry.line
        return (Int(head >> 3) & 15, Int(head & 7) &+ 1, entry.position)
    }

    /// `next()` without the columns: the entry's kind and length. The running line advances and
    /// the same tables fail the same way (`next()` names the error).
    @inline(__always)
    mutating func nextLine() throws(LineTableError) -> (code: Int, units: Int)? {
        guard offset < base.count, let p = base.baseAddress else { return nil }
        let head = p[offset]
        guard let entry = Self.commonEntry(p, count: base.count, at: offset, head: head, line: line) else {
            return try nextLineRare()
        }
        offset &+= entry.length
        line = entry.line
        return (Int(head >> 3) & 15, Int(head & 7) &+ 1)
    }

    /// `nextLine` of the forms `commonEntry` turns down: `entry` (outlined, so that the line walks
    /// stay small), or `next()` for the error. Called inside the table.
    @inline(never)
    private mutating func nextLineRare() throws(LineTableError) -> (code: Int, units: Int)? {
        guard let p = base.baseAddress else { return nil }
        let head = p[offset]
        if head >= 0xF8 {
            offset &+= 1  // kind 15, no location: the header alone
        } else if let entry = Self.rareEntryInline(p, count: base.count, at: offset, head: head, line: line) {
            offset &+= entry.length
            line = entry.line
        } else {
            guard let e = try next() else { return nil }  // (throws: `entry` reads every valid entry)
            return (e.code, e.units)
        }
        return (Int(head >> 3) & 15, Int(head & 7) &+ 1)
    }

    /// Reads entries from the current offset for as long as they are of `commonEntry`'s forms,
    /// calling `body` with the code units and the running line of each run of such entries that
    /// leave the line the same (never −1 or "no line": those forms all give a line); stops at the
    /// end or at any other entry, which `nextLine` then reads.
    @inline(__always)
    mutating func walkFastEntries(_ body: (_ units: Int, _ line: Int) -> Void) {
        guard let p = base.baseAddress else { return }
        let n = base.count
        var off = offset
        var l = line
        var runUnits = 0
        while off < n {
            let head = p[off]
            guard let entry = Self.commonEntry(p, count: n, at: off, head: head, line: l) else { break }
            if entry.line != l && runUnits > 0 {
                body(runUnits, l)
                runUnits = 0
            }
            runUnits &+= Int(head & 7) &+ 1
            off &+= entry.length
            l = entry.line
        }
        if runUnits > 0 { body(runUnits, l) }
        offset = off
        line = l
    }

    /// The next entry, or nil at the end of the table. Reads every form with every check and
    /// names what is wrong with a bad entry; the other readers (`entry`) come here only for that.
    mutating func next() throws(LineTableError) -> RawEntry? {
        guard offset < base.count else { return nil }
        let start = offset
        let head = base[offset]
        guard head & 0x80 != 0 else { throw LineTableError(.missingEntryStart, at: start) }
        offset += 1
        let code = Int(head >> 3) & 15
        let units = Int(head & 7) + 1
        let position: SourcePosition
        switch code {
        case 15:
            position = .none
        case 14:
            line += try signedVarint(start)
            let l = try raw(line, start)
            let endLine = try raw(line + (try varint(start)), start)
            let column = Int32(try varint(start) - 1)
            let endColumn = Int32(try varint(start) - 1)
            position = SourcePosition(rawLine: l, rawEndLine: endLine, rawColumn: column, rawEndColumn: endColumn)
        case 13:
            line += try signedVarint(start)
            let l = try raw(line, start)
            position = SourcePosition(rawLine: l, rawEndLine: l, rawColumn: -1, rawEndColumn: -1)
        case 10, 11, 12:
            line += code - 10
            let l = try raw(line, start)
            let column = Int32(try byte(start))
            let endColumn = Int32(try byte(start))
            position = SourcePosition(rawLine: l, rawEndLine: l, rawColumn: column, rawEndColumn: endColumn)
        default:
            let b = try byte(start)
            let l = try raw(line, start)
            let column = Int32(code << 3 | b >> 4)
            position = SourcePosition(
                rawLine: l, rawEndLine: l, rawColumn: column, rawEndColumn: column + Int32(b & 15))
        }
        return RawEntry(code: code, units: units, position: position, offset: start)
    }
}

/// `co_lines()` ranges over a location table, one at a time (see `LocationTable.lines`).
struct LocationLineRanges {
    var cursor: LocationCursor
    let merge: Bool
    var position = 0
    /// The range being merged and its raw line (−1: none), 3.12+.
    var pending: LineRange? = nil
    var pendingLine = 0

    init(_ base: UnsafeBufferPointer<UInt8>, firstLine: Int, merge: Bool) {
        cursor = LocationCursor(base, firstLine: firstLine)
        self.merge = merge
    }

    mutating func next() throws(LineTableError) -> LineRange? {
        while let e = try cursor.nextLine() {
            let start = position
            position += 2 * e.units
            let raw = e.code == 15 ? -1 : cursor.line
            guard merge else { return LineRange(start: start, end: position, line: raw < 0 ? nil : raw) }
            if pending != nil && pendingLine == raw {
                pending!.end = position
                continue
            }
            let done = pending
            pending = LineRange(start: start, end: position, line: raw == -1 ? nil : raw)
            pendingLine = raw
            if done != nil { return done }
        }
        defer { pending = nil }
        return pending
    }
}

// MARK: - Writer

/// Writes location entries with the compiler's form choice (`write_location_info_entry` in
/// `Python/compile.c` of 3.11, `Python/assemble.c` of 3.12+).
struct LocationWriter {
    /// The most bytes one entry takes: the header and four varints of values below 2^34 (6 each).
    static let maximumEntryBytes = 25
    /// Where the next byte goes; room for `entriesLeft` more entries.
    private var out: UnsafeMutablePointer<UInt8>
    private var entriesLeft: Int
    /// The line the table has reached (`a_lineno`).
    var line: Int

    private init(_ buffer: UnsafeMutablePointer<UInt8>, entries: Int, firstLine: Int) {
        out = buffer
        entriesLeft = entries
        line = firstLine
    }

    /// Runs `body` with a writer that has room for `entries` entries in `storage` (grown when
    /// short, kept for reuse), and returns the bytes written. Writing more entries throws.
    @inline(__always)
    static func writing(
        entries: Int, firstLine: Int, storage: inout [UInt8],
        _ body: (inout LocationWriter) throws(LineTableError) -> Void
    ) throws(LineTableError) -> [UInt8] {
        let capacity = max(entries, 1) * maximumEntryBytes
        if storage.count < capacity {
            storage = [UInt8](unsafeUninitializedCapacity: capacity) { _, count in count = capacity }
        }
        return try storage.withUnsafeMutableBufferPointer { (buffer) throws(LineTableError) -> [UInt8] in
            guard let base = buffer.baseAddress else { return [] }
            var writer = LocationWriter(base, entries: entries, firstLine: firstLine)
            try body(&writer)
            return Array(UnsafeBufferPointer(start: base, count: writer.out - base))
        }
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        out.pointee = byte
        out += 1
    }

    @inline(__always)
    private mutating func varint(_ value: Int) {
        var v = value
        while v >= 64 {
            append(UInt8(64 | (v & 63)))
            v >>= 6
        }
        append(UInt8(v))
    }

    @inline(__always)
    private mutating func signedVarint(_ value: Int) {
        varint(value < 0 ? (-value) << 1 | 1 : value << 1)
    }

    /// Writes `units` code units with one position, in entries of at most 8.
    @inline(__always)
    mutating func write(_ p: SourcePosition, units: Int, index: Int) throws(LineTableError) {
        if units > 8 {
            self = try afterSplitWrite(p, units: units, index: index)
        } else if units > 0 {
            try entry(p, units: units, index: index)
        }
    }

    /// `write` of more than 8 units (rare), returning the writer after it.
    @inline(never)
    private func afterSplitWrite(_ p: SourcePosition, units: Int, index: Int) throws(LineTableError) -> LocationWriter {
        var w = self
        var left = units
        while left > 8 {
            try w.entry(p, units: 8, index: index)
            left -= 8
        }
        try w.entry(p, units: left, index: index)
        return w
    }

    /// One entry of 1–8 units. The two forms most entries take — short (the line stays, columns
    /// below 80 and less than 16 apart) and one-line (the line moves by 0–2, columns below 128) —
    /// are written here, with the tests of `entryInAnyForm` that choose them; it writes the rest.
    @inline(__always)
    private mutating func entry(_ p: SourcePosition, units: Int, index: Int) throws(LineTableError) {
        guard entriesLeft > 0 else { throw LineTableError(.invalidPosition, at: index) }
        let l = Int(p.rawLine)
        if l >= 0 && Int(p.rawEndLine) == l {
            let column = Int(p.rawColumn)
            let endColumn = Int(p.rawEndColumn)
            let delta = l &- line
            let head = 0x80 | (units &- 1)
            // (Negative values read as unsigned are large: one test checks both bounds.)
            if delta == 0 && UInt(bitPattern: column) < 80 && UInt(bitPattern: endColumn &- column) < 16 {
                entriesLeft &-= 1
                out[0] = UInt8(truncatingIfNeeded: head | (column >> 3) << 3)
                out[1] = UInt8(truncatingIfNeeded: (column & 7) << 4 | (endColumn &- column))
                out += 2
                return
            }
            if UInt(bitPattern: delta) < 3 && UInt(bitPattern: column) < 128 && UInt(bitPattern: endColumn) < 128 {
                entriesLeft &-= 1
                out[0] = UInt8(truncatingIfNeeded: head | (10 &+ delta) << 3)
                out[1] = UInt8(truncatingIfNeeded: column)
                out[2] = UInt8(truncatingIfNeeded: endColumn)
                out += 3
                line = l
                return
            }
        }
        self = try afterEntryInOtherForm(p, units: units, index: index)
    }

    /// `entry` for the positions it does not write itself: no location (kind 15), no columns
    /// (kind 13), the long form (kind 14), or an invalid position (an error). Returns the writer
    /// after the entry (a value in and out, so that the caller's writer can stay in registers).
    @inline(never)
    private func afterEntryInOtherForm(
        _ p: SourcePosition, units: Int, index: Int
    ) throws(LineTableError) -> LocationWriter {
        var w = self
        try w.entryInAnyForm(p, units: units, index: index)
        return w
    }

    /// One entry of 1–8 units in the form the compiler chooses for it.
    @inline(__always)
    private mutating func entryInAnyForm(_ p: SourcePosition, units: Int, index: Int) throws(LineTableError) {
        entriesLeft -= 1
        let head = UInt8(0x80 | (units - 1))
        let l = Int(p.rawLine)
        guard l >= 0 else {
            append(head | 15 << 3)
            return
        }
        let delta = l - line
        let column = Int(p.rawColumn)
        let endColumn = Int(p.rawEndColumn)
        let endLine = Int(p.rawEndLine)
        guard column >= -1, endColumn >= -1 else { throw LineTableError(.invalidPosition, at: index) }
        if column < 0 || endColumn < 0 {
            if endLine == l || endLine == -1 {
                append(head | 13 << 3)
                signedVarint(delta)
                line = l
                return
            }
        } else if endLine == l {
            if delta == 0 && column < 80 && endColumn - column < 16 && endColumn >= column {
                append(head | UInt8(column >> 3) << 3)
                append(UInt8((column & 7) << 4 | (endColumn - column)))
                return
            }
            if delta >= 0 && delta < 3 && column < 128 && endColumn < 128 {
                append(head | UInt8(10 + delta) << 3)
                append(UInt8(column))
                append(UInt8(endColumn))
                line = l
                return
            }
        }
        guard endLine >= l else { throw LineTableError(.invalidPosition, at: index) }
        append(head | 14 << 3)
        signedVarint(delta)
        varint(endLine - l)
        varint(column + 1)
        varint(endColumn + 1)
        line = l
    }
}
