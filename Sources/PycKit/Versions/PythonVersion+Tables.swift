/// How a release line encodes its line-number table and how its `dis` and code-object views
/// read it (formats.md §4). The codecs live in `Concrete/LineTable*.swift`; this is the data
/// they are driven by.
public enum LineTableFormat: Sendable, Hashable {
    /// `co_lnotab` (2.7–3.9): `(addr_delta, line_delta)` byte pairs, offsets in bytes.
    ///
    /// - `signedLineDelta`: the line delta is a signed byte split at 127/−128 (3.6+), not an
    ///   unsigned one split at 255 (2.7) (`Python/compile.c`, `assemble_lnotab`).
    /// - `lineStartsStopAtCodeEnd`: `dis.findlinestarts` stops at the first address at or past
    ///   `len(co_code)` without reporting it (3.8, 3.9).
    case lnotab(signedLineDelta: Bool, lineStartsStopAtCodeEnd: Bool)

    /// `co_linetable` of 3.10: `(byte_delta, line_delta)` pairs, −128 meaning "no line"
    /// (`Objects/lnotab_notes.txt` of 3.10).
    case linetable310

    /// The location table of 3.11+ (`Objects/locations.md`), per code unit.
    ///
    /// - `oneEntryPerInstruction`: the compiler writes at least one entry per instruction
    ///   (3.11); from 3.12 consecutive instructions with identical positions share entries.
    /// - `linesMergeEqualLines`: `co_lines()` merges consecutive entries with the same line
    ///   (3.12+); 3.11 yields one range per entry.
    /// - `lineStartsReportNoLine`: `dis.findlinestarts` also reports a change to "no line"
    ///   (3.13, printed as `--`); earlier versions skip ranges without a line.
    case locations(oneEntryPerInstruction: Bool, linesMergeEqualLines: Bool, lineStartsReportNoLine: Bool)
}

extension PythonVersion {
    /// The line-number table format of this release line (formats.md §4).
    public var lineTableFormat: LineTableFormat {
        switch (major, minor) {
        case (2, _): return .lnotab(signedLineDelta: false, lineStartsStopAtCodeEnd: false)
        case (3, 6), (3, 7): return .lnotab(signedLineDelta: true, lineStartsStopAtCodeEnd: false)
        case (3, 8), (3, 9): return .lnotab(signedLineDelta: true, lineStartsStopAtCodeEnd: true)
        case (3, 10): return .linetable310
        case (3, 11):
            return .locations(oneEntryPerInstruction: true, linesMergeEqualLines: false, lineStartsReportNoLine: false)
        case (3, 12):
            return .locations(oneEntryPerInstruction: false, linesMergeEqualLines: true, lineStartsReportNoLine: false)
        default:
            return .locations(oneEntryPerInstruction: false, linesMergeEqualLines: true, lineStartsReportNoLine: true)
        }
    }

    /// Whether code objects carry `co_exceptiontable` (3.11+, formats.md §5); earlier releases
    /// use `SETUP_*` block instructions instead.
    public var hasExceptionTable: Bool { (major, minor) >= (3, 11) }
}
