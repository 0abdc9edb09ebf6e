/// `co_linetable` of 3.10 (formats.md §4.2, `Objects/lnotab_notes.txt` of 3.10): byte pairs
/// `(byte_delta: u8, line_delta: i8)`; each covers `[pos, pos + byte_delta)` bytes, its line
/// being the running line plus `line_delta`, or none when `line_delta` is −128 (the running
/// line then stays).
///
/// CPython's `assemble_line_range` (`Python/compile.c` of 3.10) writes one range as
/// 1. for a line delta beyond ±127: pairs `(0, 127)` or `(0, −127)` until the rest fits;
/// 2. `(254, delta)` then `(254, 0)` — `(254, −128)` without a line — while more than 254
///    bytes are left, then the last `(rest, …)` pair; an empty range writes nothing.
/// Line deltas are relative to the last range that had a line (`a_prevlineno`).
///
/// `decode` merges such runs back into one `LineRange` when, and only when, that range
/// re-encodes to exactly the pairs it came from; other pairs stand alone, so a zero-length pair
/// becomes an empty range (which `encode` writes back as one zero-length pair).
public enum LineTable310 {
    /// Decodes into logical ranges covering `[0, codeLength)` bytes (empty ranges possible only
    /// for tables CPython does not write).
    public static func decode(
        _ table: [UInt8], firstLine: Int, codeLength: Int
    ) throws(LineTableError) -> [LineRange] {
        try checkFirstLine(firstLine)
        return try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) -> [LineRange] in
            let pairs = try BytePairs(buffer)
            let n = pairs.count
            var out: [LineRange] = []
            out.reserveCapacity(n)
            var pos = 0
            var line = firstLine
            var i = 0
            while i < n {
                // 1. Line-delta prefix: (0, ±127)… followed by the first pair of the same sign.
                var lead = i
                var lineDelta = 0
                let d0 = pairs.signedSecond(i)
                if pairs.first(i) == 0 && (d0 == 127 || d0 == -127) {
                    var m = i
                    while m < n && pairs.first(m) == 0 && pairs.signedSecond(m) == d0 { m += 1 }
                    if m < n && pairs.first(m) >= 1 {
                        let r = pairs.signedSecond(m)
                        if d0 > 0 ? (r >= 1 && r <= 127) : (r <= -1 && r >= -127) {
                            lineDelta = d0 &* (m - i)
                            lead = m
                        }
                    }
                }
                // 2. The first pair of the range, then (254 | rest, 0 or −128) continuations.
                let d = pairs.signedSecond(lead)
                let rangeLine: Int?
                let continuation: Int
                if d == -128 {
                    rangeLine = nil
                    continuation = -128
                } else {
                    line &+= lineDelta &+ d
                    rangeLine = line
                    continuation = 0
                }
                var length = pairs.first(lead)
                var m = lead + 1
                if length == 254 {
                    while m < n {
                        let step = pairs.first(m)
                        guard step >= 1 && step <= 254 && pairs.signedSecond(m) == continuation else { break }
                        length += step
                        m += 1
                        if step < 254 { break }
                    }
                }
                out.append(LineRange(start: pos, end: pos + length, line: rangeLine))
                pos += length
                i = m
            }
            guard pos == codeLength else {
                throw LineTableError(.coverageMismatch(covered: pos, expected: codeLength), at: buffer.count)
            }
            return out
        }
    }

    /// Encodes contiguous ranges starting at byte 0 the way 3.10's compiler does. Offsets and
    /// lines must fit in 32 bits, as in CPython; `firstLine` too.
    public static func encode(_ ranges: [LineRange], firstLine: Int) throws(LineTableError) -> [UInt8] {
        try checkFirstLine(firstLine)
        var out: [UInt8] = []
        out.reserveCapacity(ranges.count * 2 + 8)
        var pos = 0
        var previousLine = firstLine
        @inline(__always) func pair(_ step: Int, _ delta: Int) {
            out.append(UInt8(step))
            out.append(UInt8(truncatingIfNeeded: delta))
        }
        for (index, r) in ranges.enumerated() {
            guard r.start == pos, r.end >= r.start else { throw LineTableError(.notContiguous, at: index) }
            guard r.end <= Int32.max, r.line.map({ Int32(exactly: $0) != nil }) ?? true else {
                throw LineTableError(.valueOutOfRange, at: index)
            }
            var length = r.end - r.start
            pos = r.end
            var delta: Int
            if let line = r.line {
                delta = line - previousLine
                previousLine = line
                while delta > 127 {
                    pair(0, 127)
                    delta -= 127
                }
                while delta < -127 {
                    pair(0, -127)
                    delta += 127
                }
            } else {
                delta = -128
            }
            while length > 254 {
                pair(254, delta)
                delta = r.line == nil ? -128 : 0
                length -= 254
            }
            pair(length, delta)
        }
        return out
    }

    /// `co_lines()` of 3.10 (`lineiter_next` in `Objects/codeobject.c`): one range per pair that
    /// covers at least one byte, not merged.
    public static func lines(_ table: [UInt8], firstLine: Int) throws(LineTableError) -> [LineRange] {
        try checkFirstLine(firstLine)
        return try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) -> [LineRange] in
            let pairs = try BytePairs(buffer)
            var out: [LineRange] = []
            out.reserveCapacity(pairs.count)
            var pos = 0
            var line = firstLine
            for i in 0..<pairs.count {
                let step = pairs.first(i)
                let d = pairs.signedSecond(i)
                if d != -128 { line &+= d }
                if step != 0 { out.append(LineRange(start: pos, end: pos + step, line: d == -128 ? nil : line)) }
                pos += step
            }
            return out
        }
    }

    /// What 3.10's `dis.findlinestarts` yields: the start of each `co_lines()` range whose line
    /// is not None and differs from the last one reported.
    public static func lineStarts(_ table: [UInt8], firstLine: Int) throws(LineTableError) -> [LineStart] {
        var out: [LineStart] = []
        try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) in
            try appendLineStarts(buffer, firstLine: firstLine, to: &out)
        }
        return out
    }

    /// `lineStarts` of a table in memory, appended to `out`: the walk of `lines`, without the ranges.
    static func appendLineStarts(
        _ buffer: UnsafeBufferPointer<UInt8>, firstLine: Int, to out: inout [LineStart]
    ) throws(LineTableError) {
        try checkFirstLine(firstLine)
        let pairs = try BytePairs(buffer)
        var last: Int? = nil
        var pos = 0
        var line = firstLine
        for i in 0..<pairs.count {
            let step = pairs.first(i)
            let d = pairs.signedSecond(i)
            if d != -128 { line &+= d }
            if step != 0 && d != -128 && line != last {
                out.append(LineStart(offset: pos, line: line))
                last = line
            }
            pos += step
        }
    }
}
