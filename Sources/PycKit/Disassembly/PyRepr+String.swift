// MARK: - Strings, bytes and code objects

private let hexDigits: StaticString = "0123456789abcdef"

extension ReprWriter {
    /// The quote a repr uses: `"` when the text holds `'` and no `"`, else `'` (3.x `unicode_repr`,
    /// `bytes_repr`; 2.7 `string_repr`, `unicodeescape_string`). Both are ASCII, so scanning UTF-8
    /// bytes finds them.
    private static func quote(for p: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var single = false
        for b in p {
            if b == UInt8(ascii: "\"") { return UInt8(ascii: "'") }
            if b == UInt8(ascii: "'") { single = true }
        }
        return single ? UInt8(ascii: "\"") : UInt8(ascii: "'")
    }

    /// Whether an ASCII byte stands for itself inside quotes: printable, not the quote, not `\\`.
    @inline(__always)
    private static func isPlain(_ b: UInt8, quote: UInt8) -> Bool {
        b >= 0x20 && b < 0x7F && b != quote && b != UInt8(ascii: "\\")
    }

    /// Whether every byte is printable ASCII other than `'` and `\`: text that a repr in single
    /// quotes copies as it is.
    private static func isPlainWithSingleQuotes(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = p.baseAddress else { return true }
        return plainEnd(base, from: 0, to: p.count, quote: UInt8(ascii: "'")) == p.count
    }

    /// The end of the run of plain bytes (`isPlain`) from `i` (up to `n`). Eight bytes a step
    /// (the exact has-byte tests of "Bit Twiddling Hacks": less than 0x20, greater than 0x7E,
    /// equal to the quote or `\`), then one at a time.
    @inline(__always)
    private static func plainEnd(_ base: UnsafePointer<UInt8>, from i: Int, to n: Int, quote: UInt8) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = UInt64(quote) &* ones
        var j = i
        while j + 8 <= n {
            let w = UnsafeRawPointer(base + j).loadUnaligned(as: UInt64.self)
            let below = (w &- 0x20 &* ones) & ~w & highs
            let above = ((w &+ ones) | w) & highs
            let q = w ^ quotes
            let b = w ^ (0x5C &* ones)
            let quote = (q &- ones) & ~q & highs
            let backslash = (b &- ones) & ~b & highs
            if below | above | quote | backslash != 0 { break }
            j += 8
        }
        while j < n && isPlain(base[j], quote: quote) { j += 1 }
        return j
    }

    /// One byte that is not plain: `\\`, the quote escaped, `\t` `\n` `\r`, else `\xNN` (control
    /// characters, DEL, and for byte strings every byte ≥ 0x80). Every release agrees on these.
    private mutating func escape(byte b: UInt8, quote: UInt8) {
        switch b {
        case UInt8(ascii: "\\"), quote:
            out.append(UInt8(ascii: "\\"))
            out.append(b)
        case UInt8(ascii: "\t"): append("\\t")
        case UInt8(ascii: "\n"): append("\\n")
        case UInt8(ascii: "\r"): append("\\r")
        default: hexEscape(UInt32(b), letter: UInt8(ascii: "x"), width: 2)
        }
    }

    /// `\xNN`, `\uNNNN` or `\UNNNNNNNN`, lower-case hex.
    private mutating func hexEscape(_ c: UInt32, letter: UInt8, width: Int) {
        out.append(UInt8(ascii: "\\"))
        out.append(letter)
        hexDigits.withUTF8Buffer { h in
            var shift = (width - 1) * 4
            while shift >= 0 {
                out.append(h[Int((c >> UInt32(shift)) & 0xF)])
                shift -= 4
            }
        }
    }

    private mutating func escape(codePoint c: UInt32) {
        if c <= 0xFF {
            hexEscape(c, letter: UInt8(ascii: "x"), width: 2)
        } else if c <= 0xFFFF {
            hexEscape(c, letter: UInt8(ascii: "u"), width: 4)
        } else {
            hexEscape(c, letter: UInt8(ascii: "U"), width: 8)
        }
    }

    /// 3.x `bytes` (`b'…'`) or 2.7 `str` (`'…'`): every byte ≥ 0x80 as `\xNN`.
    mutating func bytes(_ p: UnsafeBufferPointer<UInt8>) {
        out.append(traits.bytesPrefix)
        do {
            let q = Self.quote(for: p)
            out.append(q)
            var run = 0  // start of the pending run of plain bytes
            for i in 0..<p.count where !Self.isPlain(p[i], quote: q) {
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i])) }
                escape(byte: p[i], quote: q)
                run = i + 1
            }
            if run < p.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run...])) }
            out.append(q)
        }
    }

    /// 3.x `str` or 2.7 `unicode` (`u'…'`). 3.x writes printable code points as they are and
    /// escapes the rest (`\xNN` up to U+00FF, `\uNNNN`, `\UNNNNNNNN`); lone surrogates are never
    /// printable. 2.7 escapes every non-ASCII code point the same way.
    mutating func text(_ p: UnsafeBufferPointer<UInt8>) {
        out.append(traits.textPrefix)
        if Self.isPlainWithSingleQuotes(p) {
            // No `'`, so `'` quotes it; nothing to escape.
            out.append(UInt8(ascii: "'"))
            if let base = p.baseAddress { out.append(base, count: p.count) }
            out.append(UInt8(ascii: "'"))
            return
        }
        let table = traits.printable
        guard let base = p.baseAddress else { return }  // never: text without bytes is plain
        do {
            let q = Self.quote(for: p)
            out.append(q)
            let n = p.count
            var run = 0  // start of the pending run of bytes written as they are
            var i = 0
            while i < n {
                let lead = p[i]
                if lead < 0x80 {
                    if Self.isPlain(lead, quote: q) {
                        i = Self.plainEnd(base, from: i + 1, to: n, quote: q)
                        continue
                    }
                    if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i])) }
                    escape(byte: lead, quote: q)
                    i += 1
                    run = i
                    continue
                }
                // Decode one sequence of the surrogatepass UTF-8 PyString keeps.
                var c: UInt32 = 0xFFFD
                var length = 1
                if lead >= 0xC0 && lead < 0xE0 && i + 1 < n {
                    c = UInt32(lead & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F)
                    length = 2
                } else if lead >= 0xE0 && lead < 0xF0 && i + 2 < n {
                    c = UInt32(lead & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F)
                    length = 3
                } else if lead >= 0xF0 && i + 3 < n {
                    c =
                        UInt32(lead & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                        | UInt32(p[i + 3] & 0x3F)
                    length = 4
                }
                if length > 1, let table, table.isPrintable(c) {
                    i += length
                    continue
                }
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i])) }
                if length == 1, let table, table.isPrintable(c) {
                    // Not UTF-8 (the reader never builds such a string): U+FFFD, as decoding would give.
                    out.append(contentsOf: [0xEF, 0xBF, 0xBD] as [UInt8])
                } else {
                    escape(codePoint: c)
                }
                i += length
                run = i
            }
            if run < n { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run...])) }
            out.append(q)
        }
    }

    /// `code_repr` (`Objects/codeobject.c`): `<code object NAME at ADDRESS, file "FILE", line N>`,
    /// with `PyRepr.codeObjectAddress` for the address and line -1 when `co_firstlineno` is 0.
    mutating func code<V: ReprValue>(name: V, filename: V, firstlineno: Int32) {
        append("<code object ")
        switch traits.codeText {
        case .truncatedBytes(let nameLimit, let fileLimit):
            // 2.7: `%.100s` / `%.300s` of the `str` bytes, `???` for anything else.
            cString(name, limit: nameLimit)
            append(" at ")
            append(PyRepr.codeObjectAddressText)
            append(", file \"")
            cString(filename, limit: fileLimit)
            append("\", line ")
        case .fullText:
            rawText(name)
            append(" at ")
            append(PyRepr.codeObjectAddressText)
            filename.withStringBytes { isText, b in
                if isText == true {
                    append(", file \"")
                    out.append(contentsOf: b)
                    append("\", line ")
                } else {
                    append(", file ???, line ")
                }
            }
        }
        int(Int64(firstlineno != 0 ? firstlineno : -1))
        out.append(UInt8(ascii: ">"))
    }

    /// 2.7's `%.Ns` of a `str` field: its bytes up to the first NUL, at most `limit` of them.
    private mutating func cString<V: ReprValue>(_ v: V, limit: Int) {
        v.withStringBytes { isText, b in
            guard isText == false else {
                append("???")
                return
            }
            var k = 0
            while k < b.count && k < limit && b[k] != 0 { k += 1 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[..<k]))
        }
    }

    /// 3.x's `%U` of a name: the text unescaped.
    private mutating func rawText<V: ReprValue>(_ v: V) {
        let done = v.withStringBytes { isText, b in
            guard isText != nil else { return false }
            out.append(contentsOf: b)
            return true
        }
        if !done { v.writeScalarRepr(to: &self) }
    }
}
