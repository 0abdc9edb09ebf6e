/// `co_lnotab` of 2.7–3.9 (formats.md §4.1): byte pairs `(addr_delta, line_delta)`, starting
/// from offset 0 and `co_firstlineno`; the line delta is unsigned in 2.7 and a signed byte
/// from 3.6.
///
/// CPython's `assemble_lnotab` (`Python/compile.c`) writes one logical entry as
/// 1. `addr_delta // 255` pairs `(255, 0)` when `addr_delta > 255`, leaving `addr_delta % 255`;
/// 2. when the line delta does not fit (3.6+: outside −128…127; 2.7: above 255), the pair
///    `(addr, k)` and `|delta| // |k| − 1` pairs `(0, k)` with k = 127, −128 (3.6+) or 255 (2.7);
/// 3. always one last pair with what is left — `(0, 0)` when the delta is an exact multiple.
///
/// `decode` merges such runs back into one `LnotabEntry` when, and only when, that entry
/// re-encodes to exactly the pairs it came from; any other pair stands alone (every single pair
/// is its own canonical encoding). So `encode(decode(t)) == t` for every table, CPython's or not.
public enum Lnotab {
    /// Decodes a `co_lnotab` into logical entries (absolute offsets and lines).
    public static func decode(
        _ table: [UInt8], firstLine: Int, signedLineDelta signed: Bool
    ) throws(LineTableError) -> [LnotabEntry] {
        try checkFirstLine(firstLine)
        return try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) -> [LnotabEntry] in
            let pairs = try BytePairs(buffer)
            let n = pairs.count
            var out: [LnotabEntry] = []
            out.reserveCapacity(n)
            // The split constant as a raw byte (continuation pairs repeat it) and as a value.
            @inline(__always) func delta(_ i: Int) -> Int { signed ? pairs.signedSecond(i) : pairs.second(i) }
            var offset = 0
            var line = firstLine
            var i = 0
            while i < n {
                // 1. A run of (255, 0) address splits, then the pair carrying the remainder.
                var lead = i
                var addr = pairs.first(i)
                var run = i
                while run < n && pairs.first(run) == 255 && pairs.second(run) == 0 { run += 1 }
                let splits = run - i
                if splits > 0 && run < n {
                    let rest = pairs.first(run)
                    // CPython splits only addr > 255, and leaves a remainder below 255.
                    if rest <= 254 && (splits >= 2 || rest >= 1) {
                        lead = run
                        addr = 255 &* splits &+ rest
                    }
                }
                // 2. The line part starts at `lead`: (addr, d), maybe followed by (0, k)… (0, r).
                var lineDelta = delta(lead)
                var next = lead + 1
                let k = signed ? (lineDelta == 127 || lineDelta == -128 ? lineDelta : 0) : (lineDelta == 255 ? 255 : 0)
                if k != 0 {
                    let kByte = pairs.second(lead)
                    var m = lead + 1
                    while m < n && pairs.first(m) == 0 && pairs.second(m) == kByte { m += 1 }
                    if m < n && pairs.first(m) == 0 {
                        let r = delta(m)
                        let chunks = m - lead
                        let remainderFits = k > 0 ? (r >= 0 && r < k) : (r > k && r <= 0)
                        // A split happens only when one pair cannot hold the delta.
                        if remainderFits && (chunks >= 2 || r != 0) {
                            lineDelta = k &* chunks &+ r
                            next = m + 1
                        }
                    }
                }
                offset &+= addr
                line &+= lineDelta
                out.append(LnotabEntry(offset: offset, line: line))
                i = next
            }
            return out
        }
    }

    /// Encodes logical entries with CPython's split rules.
    ///
    /// Offsets must not decrease; for 2.7 (`signedLineDelta: false`) lines must not either.
    /// Offsets and lines must fit in 32 bits, as in CPython; `firstLine` too.
    /// Every entry is written, even one that changes neither offset nor line (CPython writes
    /// none such; `decode` yields one only for a table that holds it).
    public static func encode(
        _ entries: [LnotabEntry], firstLine: Int, signedLineDelta signed: Bool
    ) throws(LineTableError) -> [UInt8] {
        try checkFirstLine(firstLine)
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 2 + 8)
        var offset = 0
        var line = firstLine
        for (index, e) in entries.enumerated() {
            guard e.offset >= offset else { throw LineTableError(.notContiguous, at: index) }
            // CPython keeps offsets and lines in C ints.
            guard e.offset <= Int32.max, Int32(exactly: e.line) != nil else {
                throw LineTableError(.valueOutOfRange, at: index)
            }
            var addr = e.offset - offset
            let lineDelta = e.line - line
            guard signed || lineDelta >= 0 else { throw LineTableError(.negativeLineDelta, at: index) }
            offset = e.offset
            line = e.line
            if addr > 255 {
                let n = addr / 255
                for _ in 0..<n {
                    out.append(255)
                    out.append(0)
                }
                addr -= n * 255
            }
            var d = lineDelta
            let k: Int
            let chunks: Int
            if signed {
                if d > 127 {
                    k = 127
                    chunks = d / 127
                } else if d < -128 {
                    k = -128
                    chunks = -d / 128
                } else {
                    k = 0
                    chunks = 0
                }
            } else if d > 255 {
                k = 255
                chunks = d / 255
            } else {
                k = 0
                chunks = 0
            }
            if chunks > 0 {
                let kByte = UInt8(truncatingIfNeeded: k)
                out.append(UInt8(addr))
                out.append(kByte)
                addr = 0
                for _ in 1..<chunks {
                    out.append(0)
                    out.append(kByte)
                }
                d -= k * chunks
            }
            out.append(UInt8(addr))
            out.append(UInt8(truncatingIfNeeded: d))
        }
        return out
    }

    /// What `dis.findlinestarts` yields (2.7–3.9 `Lib/dis.py`): at each nonzero address step,
    /// the line reached so far if it differs from the last one reported, then the final line.
    ///
    /// With `stopAtCodeLength` (3.8, 3.9), the walk ends silently at the first address at or past
    /// that many bytes.
    public static func lineStarts(
        _ table: [UInt8], firstLine: Int, signedLineDelta signed: Bool, stopAtCodeLength: Int?
    ) throws(LineTableError) -> [LineStart] {
        var out: [LineStart] = []
        try table.withUnsafeBufferPointer { (buffer) throws(LineTableError) in
            try appendLineStarts(
                buffer, firstLine: firstLine, signedLineDelta: signed, stopAtCodeLength: stopAtCodeLength, to: &out)
        }
        return out
    }

    /// `lineStarts` of a table in memory, appended to `out`.
    static func appendLineStarts(
        _ buffer: UnsafeBufferPointer<UInt8>, firstLine: Int, signedLineDelta signed: Bool, stopAtCodeLength: Int?,
        to out: inout [LineStart]
    ) throws(LineTableError) {
        try checkFirstLine(firstLine)
        let pairs = try BytePairs(buffer)
        var last: Int? = nil
        var line = firstLine
        var addr = 0
        let limit = stopAtCodeLength ?? Int.max
        for i in 0..<pairs.count {
            let step = pairs.first(i)
            if step != 0 {
                if line != last {
                    out.append(LineStart(offset: addr, line: line))
                    last = line
                }
                addr += step
                if addr >= limit { return }
            }
            line &+= signed ? pairs.signedSecond(i) : pairs.second(i)
        }
        if line != last { out.append(LineStart(offset: addr, line: line)) }
    }

    /// Ranges of bytes with one line each, from logical entries: PycKit's `co_lines()` for
    /// versions before 3.10. Where several entries share an offset the last one counts; empty
    /// ranges are left out, neighbours with the same line merged, and the last range ends at
    /// `codeLength` (entries at or past it are ignored).
    public static func lines(_ entries: [LnotabEntry], firstLine: Int, codeLength: Int) -> [LineRange] {
        var out: [LineRange] = []
        var start = 0
        var line = firstLine
        func close(_ end: Int) {
            guard end > start else { return }
            if let last = out.last, last.line == line, last.end == start {
                out[out.count - 1].end = end
            } else {
                out.append(LineRange(start: start, end: end, line: line))
            }
            start = end
        }
        for e in entries {
            if e.offset >= codeLength { break }
            close(e.offset)
            line = e.line
        }
        close(codeLength)
        return out
    }
}
