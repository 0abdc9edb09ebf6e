// MARK: - Floats and complex numbers

extension ReprWriter {
    /// `PyOS_double_to_string(d, 'r', 0, flags)` (`Python/pystrtod.c`, `format_float_short`): the
    /// shortest digits that round-trip, in exponent form when the decimal point position `decpt`
    /// (value = 0.DIGITS × 10^decpt) is ≤ -4 or > 16, else positional.
    ///
    /// `addDotZero` (`Py_DTSF_ADD_DOT_0`, float repr) appends `.0` to an integral positional form;
    /// `alwaysSign` (`Py_DTSF_SIGN`, a complex number's imaginary part) writes `+` for
    /// non-negative values, NaN included. NaN prints `nan` whatever its sign bit.
    ///
    /// The digits come from Swift's `description`, which is also shortest-round-trip and picks the
    /// closest such digit string, as David Gay's `dtoa` mode 0 does; only the layout is redone.
    mutating func float(_ d: Double, addDotZero: Bool, alwaysSign: Bool) {
        if d.isNaN {
            if alwaysSign { out.append(UInt8(ascii: "+")) }
            append("nan")
            return
        }
        if d.sign == .minus {
            out.append(UInt8(ascii: "-"))
        } else if alwaysSign {
            out.append(UInt8(ascii: "+"))
        }
        if d.isInfinite {
            append("inf")
            return
        }
        var text = d.magnitude.description
        text.withUTF8 { s in layOut(s, addDotZero: addDotZero) }
    }

    /// Re-lays Swift's `description` of a finite non-negative double (`123.45`, `1e-05`,
    /// `1.2345e+16`, `0.0001`) the way `format_float_short` does.
    private mutating func layOut(_ s: UnsafeBufferPointer<UInt8>, addDotZero: Bool) {
        // Split into mantissa [0, mantissaEnd) with an optional dot, and a decimal exponent.
        var mantissaEnd = s.count
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissaEnd = e
            var i = e + 1
            var negative = false
            if i < s.count, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
                negative = s[i] == UInt8(ascii: "-")
                i += 1
            }
            while i < s.count {
                exponent = exponent * 10 + Int(s[i] &- 0x30)
                i += 1
            }
            if negative { exponent = -exponent }
        }
        let dot = s[..<mantissaEnd].firstIndex(of: UInt8(ascii: ".")) ?? mantissaEnd
        // Digit k of the mantissa without its dot lives at s[k] before the dot, s[k + 1] after it.
        let digitCount = mantissaEnd - (dot < mantissaEnd ? 1 : 0)
        @inline(__always) func digit(_ k: Int) -> UInt8 { s[k < dot ? k : k + 1] }
        var first = 0
        while first < digitCount, digit(first) == UInt8(ascii: "0") { first += 1 }
        var end = digitCount
        while end > first, digit(end - 1) == UInt8(ascii: "0") { end -= 1 }
        let n = end - first
        if n == 0 {
            // Zero: dtoa gives "0" with decpt 1.
            append(addDotZero ? "0.0" : "0")
            return
        }
        let decpt = dot - first + exponent
        if decpt <= -4 || decpt > 16 {
            out.append(digit(first))
            if n > 1 {
                out.append(UInt8(ascii: "."))
                for k in (first + 1)..<end { out.append(digit(k)) }
            }
            var e = decpt - 1
            out.append(UInt8(ascii: "e"))
            if e < 0 {
                out.append(UInt8(ascii: "-"))
                e = -e
            } else {
                out.append(UInt8(ascii: "+"))
            }
            if e < 10 { out.append(UInt8(ascii: "0")) }
            unsigned(UInt64(e))
        } else if decpt <= 0 {
            append("0.")
            for _ in 0..<(-decpt) { out.append(UInt8(ascii: "0")) }
            for k in first..<end { out.append(digit(k)) }
        } else if decpt >= n {
            for k in first..<end { out.append(digit(k)) }
            for _ in 0..<(decpt - n) { out.append(UInt8(ascii: "0")) }
            if addDotZero { append(".0") }
        } else {
            for k in first..<(first + decpt) { out.append(digit(k)) }
            out.append(UInt8(ascii: "."))
            for k in (first + decpt)..<end { out.append(digit(k)) }
        }
    }

    /// `complex_repr` (`Objects/complexobject.c`, the same in 2.7 and 3.x): `IMAGj` when the real
    /// part is +0.0, else `(REAL±IMAGj)`; both parts use the `'r'` format without `.0`.
    mutating func complex(real: Double, imag: Double) {
        if real == 0 && real.sign == .plus {
            float(imag, addDotZero: false, alwaysSign: false)
            out.append(UInt8(ascii: "j"))
        } else {
            out.append(UInt8(ascii: "("))
            float(real, addDotZero: false, alwaysSign: false)
            float(imag, addDotZero: false, alwaysSign: true)
            append("j)")
        }
    }
}
