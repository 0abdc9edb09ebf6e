/// A CPython release line (2.7, 3.6 … 3.13) and everything about its formats that differs from the
/// others: the one place where PycKit asks "which version?".
///
/// Code outside `Versions/` reads these traits; it never compares version numbers itself.
public struct PythonVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init?(major: Int, minor: Int) {
        guard Self.all.contains(where: { $0.major == major && $0.minor == minor }) else { return nil }
        self.major = major
        self.minor = minor
    }

    private init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let v2_7 = PythonVersion(2, 7)
    public static let v3_6 = PythonVersion(3, 6)
    public static let v3_7 = PythonVersion(3, 7)
    public static let v3_8 = PythonVersion(3, 8)
    public static let v3_9 = PythonVersion(3, 9)
    public static let v3_10 = PythonVersion(3, 10)
    public static let v3_11 = PythonVersion(3, 11)
    public static let v3_12 = PythonVersion(3, 12)
    public static let v3_13 = PythonVersion(3, 13)

    /// Every release line PycKit reads and writes, oldest first.
    public static let all: [PythonVersion] = [
        .v2_7, .v3_6, .v3_7, .v3_8, .v3_9, .v3_10, .v3_11, .v3_12, .v3_13,
    ]

    /// This release's value among one per release, oldest first as in `all`. Only the chosen
    /// argument is evaluated, so passing `static let`s builds each release's tables on first use.
    @inline(__always)
    func select<T>(
        _ v2_7: @autoclosure () -> T, _ v3_6: @autoclosure () -> T, _ v3_7: @autoclosure () -> T,
        _ v3_8: @autoclosure () -> T, _ v3_9: @autoclosure () -> T, _ v3_10: @autoclosure () -> T,
        _ v3_11: @autoclosure () -> T, _ v3_12: @autoclosure () -> T, _ v3_13: @autoclosure () -> T
    ) -> T {
        switch (major, minor) {
        case (2, _): return v2_7()
        case (3, 6): return v3_6()
        case (3, 7): return v3_7()
        case (3, 8): return v3_8()
        case (3, 9): return v3_9()
        case (3, 10): return v3_10()
        case (3, 11): return v3_11()
        case (3, 12): return v3_12()
        default: return v3_13()
        }
    }

    /// "3.11".
    public var description: String { "\(major).\(minor)" }

    /// Parses "3.11" or "2.7".
    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]) else { return nil }
        self.init(major: a, minor: b)
    }

    public static func < (a: PythonVersion, b: PythonVersion) -> Bool {
        (a.major, a.minor) < (b.major, b.minor)
    }

    // MARK: - Magic numbers

    /// Every magic number this release line produced, alphas and betas included
    /// (`Lib/importlib/_bootstrap_external.py`; 2.7's from `Python/import.c`).
    public var magicRange: ClosedRange<UInt16> {
        switch (major, minor) {
        case (2, 7): return 62171...62211
        case (3, 6): return 3360...3379
        case (3, 7): return 3390...3394
        case (3, 8): return 3400...3413
        case (3, 9): return 3420...3425
        case (3, 10): return 3430...3439
        case (3, 11): return 3450...3495
        case (3, 12): return 3500...3531
        default: return 3550...3571
        }
    }

    /// The magic number of the final release, which `py_compile` of that release writes.
    public var magic: UInt16 { magicRange.upperBound }

    /// The release line that wrote a file with this magic number, or nil for an unknown magic.
    public static func forMagic(_ magic: UInt16) -> PythonVersion? {
        all.first { $0.magicRange.contains(magic) }
    }

    /// Human-readable list of the accepted magic ranges, for error messages.
    public static var knownMagicsDescription: String {
        all.map { "\($0) \($0.magicRange.lowerBound)–\($0.magicRange.upperBound)" }.joined(separator: ", ")
    }

    // MARK: - .pyc header

    /// The header layout a file with `magic` uses. PEP 552's flags word arrived in 3.7a4 (magic
    /// 3392); earlier 3.x files carry mtime and source size, 2.7 files only the mtime.
    public func headerLayout(magic: UInt16) -> PycHeader.Layout {
        if major == 2 { return .mtime }
        if magic < 3392 { return .mtimeAndSize }
        return .flags
    }

    // MARK: - marshal

    /// `marshal.version` of this release: 2 for 2.7 (binary floats, no FLAG_REF), 4 for 3.x.
    public var marshalVersion: Int { major == 2 ? 2 : 4 }

    /// Whether back-references are 2.7's string table (`t` appends, `R n` refers) rather than
    /// 3.x's FLAG_REF slots with `r n`.
    public var usesStringTable: Bool { major == 2 }

    /// Whether marshal's `s` is a text `str` (2.7) rather than `bytes` (3.x).
    var marshalsBytesAsStr: Bool { major == 2 }

    /// Whether `l` always means the separate `long` type (2.7) rather than an `int` too large for
    /// 32 bits (3.x).
    public var hasSeparateLongType: Bool { major == 2 }

    /// From 3.11 marshal gives every interned `str` a ref slot even when its reference count is 1
    /// (`w_ref` in `Python/marshal.c`).
    var flagsEveryInternedString: Bool { (major, minor) >= (3, 11) }

    /// Field order of a marshalled code object (formats.md §2.4).
    public var codeLayout: [CodeObject.Field] {
        switch (major, minor) {
        case (2, _):
            return [.argcount, .nlocals, .stacksize, .flags, .code, .consts, .names, .varnames, .freevars,
                    .cellvars, .filename, .name, .firstlineno, .linetable]
        case (3, 6), (3, 7):
            return [.argcount, .kwonlyargcount, .nlocals, .stacksize, .flags, .code, .consts, .names, .varnames,
                    .freevars, .cellvars, .filename, .name, .firstlineno, .linetable]
        case (3, 8), (3, 9), (3, 10):
            return [.argcount, .posonlyargcount, .kwonlyargcount, .nlocals, .stacksize, .flags, .code, .consts,
                    .names, .varnames, .freevars, .cellvars, .filename, .name, .firstlineno, .linetable]
        default:
            return [.argcount, .posonlyargcount, .kwonlyargcount, .stacksize, .flags, .code, .consts, .names,
                    .localsplusnames, .localspluskinds, .filename, .name, .qualname, .firstlineno, .linetable,
                    .exceptiontable]
        }
    }

    /// Name of the line-table field as the version's code object calls it.
    public var lineTableFieldName: String {
        (major, minor) >= (3, 10) ? "co_linetable" : "co_lnotab"
    }
}
