/// What lowering a snippet and finding a function's entry need to know per version: the call
/// convention, how a callable gets its NULL or `self` slot, how locals are loaded, and which
/// instructions form the prologue. Decided here, once per version, from the opcode table and
/// the facts below (each confirmed with that version's `dis` on `a.b(x, k=1)`, `g(x)`, `f2(x)`).
public struct InjectTraits: Sendable {
    /// How a call passes its arguments.
    public enum CallConvention: Sendable, Equatable {
        /// 2.7: positional values, then `name, value` pairs; `CALL_FUNCTION npos | nkw << 8`.
        case packedKeywords
        /// 3.6–3.10: positional values, keyword values, a constant tuple of the keyword names;
        /// `CALL_FUNCTION n` or `CALL_FUNCTION_KW n` (n counts all values).
        case keywordNamesOnStack
        /// 3.11: `KW_NAMES consti` (names tuple by constant index), `PRECALL n`, `CALL n`.
        case kwNamesPrecall
        /// 3.12: `KW_NAMES consti`, `CALL n`.
        case kwNamesCall
        /// 3.13: the names tuple pushed by `LOAD_CONST`; `CALL_KW n` (or `CALL n` without keywords).
        case callKeywords
    }

    /// How `obj.name(...)` loads the callable.
    public enum MethodLoad: Sendable, Equatable {
        /// 2.7, 3.6: `LOAD_ATTR`, a plain call.
        case attribute
        /// 3.7–3.10: `LOAD_METHOD` + `CALL_METHOD`, only without keyword arguments.
        case loadMethodWithoutKeywords
        /// 3.11: `LOAD_METHOD`, any call.
        case loadMethod
        /// 3.12+: `LOAD_ATTR` with the method bit, any call.
        case attributeMethodBit
    }

    /// Where a callable that is not a method or a global gets the NULL the call expects.
    public enum NullSlot: Sendable, Equatable {
        /// ≤3.10: calls take no NULL.
        case none
        /// 3.11, 3.12: `PUSH_NULL` before the callable.
        case pushBefore
        /// 3.13: `PUSH_NULL` after the callable.
        case pushAfter
    }

    public let call: CallConvention
    public let method: MethodLoad
    public let null: NullSlot
    /// 3.11+: `LOAD_GLOBAL` pushes the NULL itself (its low argument bit).
    public let globalPushesNull: Bool
    /// The opcode name for loading a local that may be unbound: `LOAD_FAST` up to 3.11 (which
    /// raises `UnboundLocalError`), `LOAD_FAST_CHECK` from 3.12 (plain `LOAD_FAST` trusts the
    /// compiler there).
    public let loadLocal: String
    /// Opcode names that may precede the body (3.11+: `MAKE_CELL`, `COPY_FREE_VARS`,
    /// `RETURN_GENERATOR`, `POP_TOP`, `RESUME`; 3.10: a generator's `GEN_START`).
    public let prologue: Set<String>
    /// The prologue instruction after which the body starts (3.11+ `RESUME`, 3.10 `GEN_START`).
    public let prologueEnd: Set<String>
    /// 2.7: a plain string literal is a byte string (`str`); only `u"…"` is text.
    public let plainStringsAreBytes: Bool
}

extension PythonVersion {
    /// The lowering and entry-point traits of this version.
    public var injectTraits: InjectTraits {
        switch (major, minor) {
        case (2, _):
            return InjectTraits(
                call: .packedKeywords, method: .attribute, null: .none, globalPushesNull: false, loadLocal: "LOAD_FAST",
                prologue: [], prologueEnd: [], plainStringsAreBytes: true)
        case (3, 6):
            return InjectTraits(
                call: .keywordNamesOnStack, method: .attribute, null: .none, globalPushesNull: false,
                loadLocal: "LOAD_FAST",
                prologue: [], prologueEnd: [], plainStringsAreBytes: false)
        case (3, 7), (3, 8), (3, 9):
            return InjectTraits(
                call: .keywordNamesOnStack, method: .loadMethodWithoutKeywords, null: .none, globalPushesNull: false,
                loadLocal: "LOAD_FAST", prologue: [], prologueEnd: [], plainStringsAreBytes: false)
        case (3, 10):
            return InjectTraits(
                call: .keywordNamesOnStack, method: .loadMethodWithoutKeywords, null: .none, globalPushesNull: false,
                loadLocal: "LOAD_FAST", prologue: ["GEN_START"], prologueEnd: ["GEN_START"], plainStringsAreBytes: false
            )
        case (3, 11):
            return InjectTraits(
                call: .kwNamesPrecall, method: .loadMethod, null: .pushBefore, globalPushesNull: true,
                loadLocal: "LOAD_FAST",
                prologue: Self.resumePrologue, prologueEnd: ["RESUME"], plainStringsAreBytes: false)
        case (3, 12):
            return InjectTraits(
                call: .kwNamesCall, method: .attributeMethodBit, null: .pushBefore, globalPushesNull: true,
                loadLocal: "LOAD_FAST_CHECK", prologue: Self.resumePrologue, prologueEnd: ["RESUME"],
                plainStringsAreBytes: false)
        default:
            return InjectTraits(
                call: .callKeywords, method: .attributeMethodBit, null: .pushAfter, globalPushesNull: true,
                loadLocal: "LOAD_FAST_CHECK", prologue: Self.resumePrologue, prologueEnd: ["RESUME"],
                plainStringsAreBytes: false)
        }
    }

    private static let resumePrologue: Set<String> = [
        "MAKE_CELL", "COPY_FREE_VARS", "RETURN_GENERATOR", "POP_TOP", "RESUME",
    ]

    /// Whether code objects carry `co_qualname` (3.11+); before, it is derived from the nesting.
    public var hasQualname: Bool { codeLayout.contains(.qualname) }
}

/// `co_flags` bits shared by every version (`Include/code.h`, unchanged since 2.x).
public enum CodeFlags {
    /// The code object is a function body (fast locals): set for functions, lambdas and
    /// comprehensions, not for modules and class bodies.
    public static let optimized: Int32 = 0x0001
}
