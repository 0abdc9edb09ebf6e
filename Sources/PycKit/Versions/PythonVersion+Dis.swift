/// How each version's `dis` prints a code object (formats.md §7; each release's `Lib/dis.py`).
public struct DisStyle: Sendable, Equatable {
    /// Line layout.
    public enum Layout: Sendable, Equatable {
        /// 2.7: `print a,` fields, no right-strip (no-argument opnames keep their padding).
        case printStatement
        /// 3.6–3.12: fields joined by spaces and right-stripped, offsets shown, `>>` markers.
        case fields
        /// 3.13: `L<n>:` label column, no offsets, `--` for "no line".
        case labels
    }

    public var layout: Layout
    /// Whether the line-number and offset columns widen past 3 / 4 characters for large values
    /// (3.7+); before, `%3d` simply overflows.
    public var adaptiveWidths: Bool
    /// Whether the line column disappears when the code has no line starts (3.10+ `bool(linestarts)`).
    public var omitsLineColumnWithoutLines: Bool
    /// Whether jump targets are found with the raw 16-bit argument, ignoring EXTENDED_ARG (2.7 `findlabels`).
    public var labelsIgnoreExtendedArg: Bool
    /// Whether a folded argument after EXTENDED_ARG is a Python 2 `long` (printed with an `L`).
    public var extendedArgumentIsLong: Bool
    /// Whether absolute jumps get a `to N` description (3.10+; before they show only the number).
    public var absoluteJumpsShowTarget: Bool
    /// Whether relative jumps get a `to N` description (2.7 prints it too).
    public var relativeJumpsShowTarget: Bool
    /// Whether only LOAD_CONST's constant is shown among `hasconst` opcodes (3.11, where KW_NAMES shows nothing).
    public var constDescriptionOnlyForLoadConst: Bool
    /// How `LOAD_GLOBAL`'s low bit is shown: nil (no bit, ≤3.10), "NULL + x" (3.11/3.12), "x + NULL" (3.13).
    public var nullBitStyle: NullBitStyle?
    /// Whether `LOAD_ATTR` / `LOAD_SUPER_ATTR` carry a method bit (3.12+).
    public var attributeMethodBit: Bool
    /// Bits `COMPARE_OP`'s argument is shifted by before indexing `cmp_op` (0, 4 in 3.12, 5 in 3.13).
    public var compareShift: Int
    /// Whether `COMPARE_OP` bit 16 prints as `bool(op)` (3.13).
    public var compareBoolBit: Bool
    /// Whether `MAKE_FUNCTION` shows its flag names (3.8–3.12).
    public var makeFunctionShowsFlags: Bool
    /// Whether relative jump targets count the jump's inline caches (3.12+; 3.11's `dis` omits them,
    /// which never matters because no 3.11 jump has caches).
    public var jumpTargetsCountCaches: Bool
    /// Whether an `ExceptionTable:` section follows the instructions (3.11+).
    public var printsExceptionTable: Bool
    /// Whether locals and cell/free variables are indexed in `co_localsplusnames` (3.11+) rather
    /// than `co_varnames` / `co_cellvars + co_freevars`.
    public var usesLocalsPlus: Bool

    public enum NullBitStyle: Sendable, Equatable {
        case prefix
        case suffix
    }
}

extension PythonVersion {
    /// The `dis` layout and argument-description rules of this version.
    public var disStyle: DisStyle {
        let v = (major, minor)
        return DisStyle(
            layout: major == 2 ? .printStatement : (v >= (3, 13) ? .labels : .fields),
            adaptiveWidths: v >= (3, 7),
            omitsLineColumnWithoutLines: v >= (3, 10),
            labelsIgnoreExtendedArg: major == 2,
            extendedArgumentIsLong: major == 2,
            absoluteJumpsShowTarget: v >= (3, 10),
            relativeJumpsShowTarget: true,
            constDescriptionOnlyForLoadConst: v == (3, 11),
            nullBitStyle: v >= (3, 13) ? .suffix : (v >= (3, 11) ? .prefix : nil),
            attributeMethodBit: v >= (3, 12),
            compareShift: v >= (3, 13) ? 5 : (v == (3, 12) ? 4 : 0),
            compareBoolBit: v >= (3, 13),
            makeFunctionShowsFlags: v >= (3, 8) && v <= (3, 12),
            jumpTargetsCountCaches: v >= (3, 12),
            printsExceptionTable: v >= (3, 11),
            usesLocalsPlus: v >= (3, 11)
        )
    }
}
