/// What `repr()` prints differently between releases: the traits `PyRepr` reads.
extension PythonVersion {
    /// How `repr()` writes a set or frozenset.
    public enum SetReprStyle: Sendable, Equatable {
        /// 2.7: `set([1, 2])`, `set([])`, `frozenset([1, 2])`, `frozenset([])`.
        case listArgument
        /// 3.x: `{1, 2}`, `set()`, `frozenset({1, 2})`, `frozenset()`.
        case braces
    }

    /// `set_repr` in `Objects/setobject.c`: 2.7 wraps a list, 3.x prints braces.
    public var setReprStyle: SetReprStyle { major == 2 ? .listArgument : .braces }

    /// The prefix of a text string's repr: `u` for 2.7's `unicode`, none for 3.x's `str`.
    public var textReprPrefix: StaticString { major == 2 ? "u" : "" }

    /// The prefix of a byte string's repr: none for 2.7's `str`, `b` for 3.x's `bytes`.
    public var bytesReprPrefix: StaticString { major == 2 ? "" : "b" }

    /// Whether the repr of a text string escapes every non-ASCII code point (2.7's
    /// `unicodeescape_string`) rather than only the non-printable ones (3.x `unicode_repr`, which
    /// asks the interpreter's Unicode database through `Py_UNICODE_ISPRINTABLE`).
    public var reprEscapesAllNonASCIIText: Bool { major == 2 }

    /// `unicodedata.unidata_version` of the release's interpreter: the database `str.isprintable()`
    /// and so `repr()` follow (`Scripts/unicode/data/X.Y.txt` were dumped from these).
    public var unicodeDataVersion: String {
        switch (major, minor) {
        case (2, _): return "5.2.0"
        case (3, 6): return "9.0.0"
        case (3, 7): return "11.0.0"
        case (3, 8): return "12.1.0"
        case (3, 9), (3, 10): return "13.0.0"
        case (3, 11): return "14.0.0"
        case (3, 12): return "15.0.0"
        default: return "15.1.0"
        }
    }

    /// The suffix of the repr of a `long`: `L` in 2.7, whose `long` is a type of its own
    /// (`long_repr` in `Objects/longobject.c`); 3.x has one `int` type and no suffix.
    public var longReprSuffix: String { major == 2 ? "L" : "" }

    /// `repr(StopIteration)`, the object marshal's `S` stands for.
    public var stopIterationRepr: String {
        major == 2 ? "<type 'exceptions.StopIteration'>" : "<class 'StopIteration'>"
    }

    /// The most decimal digits `repr()` of an int may have before it raises `ValueError`
    /// (`sys.int_info.default_max_str_digits`, CVE-2020-10735), or nil for no limit.
    ///
    /// 3.11 introduced the limit and it was backported to 3.7.14, 3.8.14, 3.9.14 and 3.10.7; the
    /// interpreters PycKit is checked against (3.7.16 … 3.10.13) all have it. 2.7 and 3.6 never did.
    public var intMaxStrDigits: Int? { major == 2 || minor == 6 ? nil : 4300 }

    /// The `ValueError` message `repr()` raises for an int beyond `intMaxStrDigits`.
    public var intMaxStrDigitsMessage: String? {
        guard let limit = intMaxStrDigits else { return nil }
        let unit = minor >= 11 ? " digits" : ""
        return "Exceeds the limit (\(limit)\(unit)) for integer string conversion; "
            + "use sys.set_int_max_str_digits() to increase the limit"
    }

    /// How a code object's repr shows its name and file name.
    public enum CodeReprText: Sendable, Equatable {
        /// 2.7 `code_repr`: `%.100s` and `%.300s` of the `str` bytes (cut at the first NUL, then
        /// to at most 100 / 300 bytes); `???` when the field is not a `str`.
        case truncatedBytes(name: Int, filename: Int)
        /// 3.x `code_repr`: `%U`, the whole text; `file ???` when the file name is not a `str`.
        case fullText
    }

    /// `code_repr` in `Objects/codeobject.c`.
    public var codeReprText: CodeReprText { major == 2 ? .truncatedBytes(name: 100, filename: 300) : .fullText }
}
