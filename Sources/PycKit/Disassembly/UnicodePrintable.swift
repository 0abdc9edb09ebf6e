/// Which code points one interpreter's `str.isprintable()` accepts, as its Unicode database says.
///
/// `repr()` of a 3.x `str` escapes exactly the code points for which `Py_UNICODE_ISPRINTABLE` is
/// false (`Objects/unicodectype.c`: categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the
/// space). The tables are dumped from each interpreter by `Scripts/unicode/dump_printable.py` and
/// rendered into `Generated/` by `Scripts/unicode/generate.py`; Swift's own Unicode data is
/// deliberately not used, since it follows a different Unicode version.
struct UnicodePrintable: Sendable {
    /// `unicodedata.unidata_version` of the interpreters the table was dumped from.
    let unicodeVersion: String
    /// Ascending starts and ends (exclusive) of the non-printable ranges, alternating: a code point
    /// is non-printable when an odd number of boundaries are ≤ it.
    let boundaries: [UInt32]

    /// Whether `repr()` writes the code point as it is.
    func isPrintable(_ c: UInt32) -> Bool {
        if c < 0x7F { return c >= 0x20 }
        // Count the boundaries ≤ c: the first index whose boundary is > c.
        var lo = 0
        var hi = boundaries.count
        boundaries.withUnsafeBufferPointer { b in
            while lo < hi {
                let mid = (lo &+ hi) >> 1
                if b[mid] <= c { lo = mid &+ 1 } else { hi = mid }
            }
        }
        return lo & 1 == 0
    }
}
