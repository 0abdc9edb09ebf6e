/// What the editable form needs to know per version: the symbolic shape of every opcode's
/// argument (formats.md §3.4), which instructions must stay next to each other, and which
/// instructions return. Every version difference the lifter, the assembler and the edit API
/// consult is decided here, once per version.
public enum ArgumentShape: Sendable, Hashable {
    /// No argument (its arg byte is kept as a plain integer when it is not 0, as 3.10 leaves some).
    case none
    /// A plain integer (counts, flags, operator indices, …).
    case plain
    /// An index into `co_consts`.
    case constant
    /// An index into `co_names`.
    case name
    /// 3.11+ `LOAD_GLOBAL`: `name << 1 | push_null`.
    case global
    /// 3.12+ `LOAD_ATTR`: `name << 1 | method`.
    case attribute
    /// 3.12+ `LOAD_SUPER_ATTR`: `name << 2 | two_args << 1 | method`.
    case superAttribute
    /// A local variable (`co_varnames`; 3.11+ `co_localsplusnames`).
    case local
    /// 3.13 `LOAD_FAST_LOAD_FAST` and friends: two locals, `a << 4 | b`.
    case localPair
    /// A cell or free variable (≤3.10 `co_cellvars + co_freevars`; 3.11+ `co_localsplusnames`).
    case cellOrFree
    /// A comparison (kept as its raw argument: 3.12/3.13 pack extra bits around the index).
    case compare
    /// A jump target.
    case jump
}

/// Per-version editing traits, derived once from the opcode table.
final class EditingTraits: Sendable {
    let shapes: [ArgumentShape]
    /// Opcodes that must directly follow the instruction before them (no instruction may be
    /// inserted between), because the interpreter looks at the neighbouring code unit:
    /// - 3.11+ `RESUME` after `YIELD_VALUE`: generators find their delegate by looking at the
    ///   instruction after the yield.
    /// - 3.11 `CALL` after `PRECALL`: specialized `PRECALL`s skip the `CALL`.
    /// - 3.11 `YIELD_VALUE` after `SEND`: throwing into or closing a suspended `await` steps back
    ///   from the yield to the `SEND` and jumps by its oparg (`_gen_throw`, Objects/genobject.c).
    /// - 3.13 `POP_TOP` after `END_FOR`: an exhausted `FOR_ITER` skips both.
    /// - 3.6–3.10 `GET_AWAITABLE` after `BEFORE_ASYNC_WITH`, `WITH_CLEANUP_START` (3.6–3.8),
    ///   `WITH_EXCEPT_START` and `DUP_TOP; CALL_FUNCTION` (3.9, 3.10): when the awaitable is not
    ///   one, its error names `__aenter__`/`__aexit__` by the opcodes just before it
    ///   (`format_awaitable_error`, Python/ceval.c; 3.11 passes the kind as its oparg).
    /// - 3.8 `SETUP_FINALLY` after `LOAD_CONST` (a `try` whose `finally` breaks):
    ///   `frame_setlineno` (Objects/frameobject.c) pops that `None` when a tracer's jump leaves
    ///   the block only if it directly precedes.
    /// - 3.9, 3.10 `CALL_FUNCTION` after `GET_ITER` and `GET_AITER` (a comprehension's call):
    ///   the block and stack analysis of `frame_setlineno` takes any other `GET_ITER`/`GET_AITER`
    ///   for a loop's, and a tracer's jump over the comprehension pops a value that is not there.
    let gluedToPrevious: [(previous: UInt8, next: UInt8)]
    /// Jump opcodes whose target instruction must be the one at the label, with nothing
    /// inserted between label and instruction: 3.12+ `FOR_ITER` (an exhausted iterator jumps
    /// past the `END_FOR` at its target) and `SEND` (its specialized form returns into the
    /// `END_SEND` at its target by a fixed distance).
    let targetGlued: [Bool]
    /// Opcodes that must stay the instruction at every label in front of them, whether a jump
    /// or an exception handler targets it:
    /// - 3.6–3.8 `WITH_CLEANUP_START`: when a tracer's jump leaves a block, `frame_setlineno`
    ///   (Objects/frameobject.c) also pops a `with` statement's exit function if the block's
    ///   handler is a `WITH_CLEANUP_START`; with a NOP at the handler the stack is left wrong
    ///   and the interpreter crashes.
    /// - 3.8 `END_ASYNC_FOR`: `frame_setlineno` recognizes an `async for` loop by the
    ///   `END_ASYNC_FOR` at its `SETUP_FINALLY`'s target; a NOP there makes a tracer's jump out of
    ///   the loop pop a block instead of the iterator (a fatal block stack overflow).
    /// - 3.12+ `END_ASYNC_FOR`: instrumentation gives each exception handler a line event
    ///   unless the handler's instruction is `END_ASYNC_FOR` (`initialize_lines` in
    ///   Python/instrumentation.c), so a NOP there adds a `line` event when an `async for` ends.
    /// - 3.13 `FOR_ITER`: a jump target starts a line for instrumentation, and a `FOR_ITER` under
    ///   line instrumentation is never specialized; with a NOP at the loop's label the
    ///   `FOR_ITER` specializes while tracing (3.13's `sys.settrace` no longer instruments
    ///   branches), and `FOR_ITER_GEN` ends a generator loop through `END_FOR`, which reports
    ///   an extra StopIteration `exception` event.
    let labelGlued: [Bool]
    /// Opcodes that must stay the first instruction of their line entry when they start one
    /// (nothing inserted between the line marker and them):
    /// - 2.7–3.8 `DUP_TOP` and `POP_TOP`: `frame_setlineno` (Objects/frameobject.c) refuses a
    ///   tracer's jump onto an `except` line by looking at the opcode at the line's first
    ///   offset; with a NOP in front the jump is allowed, the handler runs without its exception
    ///   on the stack and the interpreter crashes (2.7–3.7) or refuses for another reason (3.8).
    ///
    /// (3.9 keeps every line's first instruction first by other means: ``insertsBeforeLineMarker``.)
    let firstOfLine: [Bool]
    /// Whether code inserted before an instruction that opens a line entry goes in front of the
    /// line marker, into the previous entry, so that the instruction stays the entry's first:
    /// 3.9. When an exception reaches a handler, 3.9's `exception_unwind` (Python/ceval.c) makes
    /// the next instruction report a `line` event unless the raising instruction opened its line
    /// entry; with a NOP in front, a handler in the middle of a line (the cleanup of
    /// `except E as name`) gets a `line` event the original does not.
    let insertsBeforeLineMarker: Bool
    /// Opcodes that return from the function (`RETURN_VALUE`, 3.12+ `RETURN_CONST`).
    let returns: [Bool]
    let nop: UInt8
    let extendedArg: UInt8
    /// Whether the version defines each byte as an opcode.
    let known: [Bool]

    init(_ version: PythonVersion) {
        let table = version.opcodes
        func byte(_ name: String) -> UInt8? { table[name].flatMap { $0.kind == .real ? $0.byte : nil } }
        let v = (version.major, version.minor)
        var shapes = [ArgumentShape](repeating: .none, count: 256)
        let special: [String: ArgumentShape] = [
            "LOAD_GLOBAL": v >= (3, 11) ? .global : .name,
            "LOAD_ATTR": v >= (3, 12) ? .attribute : .name,
            "LOAD_SUPER_ATTR": .superAttribute,
            "LOAD_FAST_LOAD_FAST": .localPair,
            "STORE_FAST_LOAD_FAST": .localPair,
            "STORE_FAST_STORE_FAST": .localPair,
        ]
        for info in table.opcodes where info.kind == .real {
            guard let b = info.byte else { continue }
            let c = info.categories
            let shape: ArgumentShape
            if !info.hasArgument {
                shape = .none
            } else if let s = special[info.name] {
                shape = s
            } else if !c.intersection(.jump).isEmpty {
                shape = .jump
            } else if c.contains(.const) {
                shape = .constant
            } else if c.contains(.name) {
                shape = .name
            } else if c.contains(.local) {
                shape = .local
            } else if c.contains(.free) {
                shape = .cellOrFree
            } else if c.contains(.compare) {
                shape = .compare
            } else {
                shape = .plain
            }
            shapes[Int(b)] = shape
        }
        // EXTENDED_ARG is folded into the instruction it prefixes; it never appears lifted.
        shapes[Int(table.extendedArg)] = .plain
        self.shapes = shapes

        var glued: [(UInt8, UInt8)] = []
        if v >= (3, 11), let y = byte("YIELD_VALUE"), let r = byte("RESUME") { glued.append((y, r)) }
        if v == (3, 11), let p = byte("PRECALL"), let c = byte("CALL") { glued.append((p, c)) }
        if v == (3, 11), let s = byte("SEND"), let y = byte("YIELD_VALUE") { glued.append((s, y)) }
        if v >= (3, 13), let e = byte("END_FOR"), let p = byte("POP_TOP") { glued.append((e, p)) }
        if v >= (3, 6) && v <= (3, 10), let g = byte("GET_AWAITABLE") {
            // WITH_CLEANUP_START exists up to 3.8, WITH_EXCEPT_START from 3.9.
            for name in ["BEFORE_ASYNC_WITH", "WITH_CLEANUP_START", "WITH_EXCEPT_START"] {
                if let p = byte(name) { glued.append((p, g)) }
            }
            if v >= (3, 9), let d = byte("DUP_TOP"), let c = byte("CALL_FUNCTION") {
                glued.append((c, g))
                glued.append((d, c))
            }
        }
        if v == (3, 8), let l = byte("LOAD_CONST"), let f = byte("SETUP_FINALLY") { glued.append((l, f)) }
        if v >= (3, 9) && v <= (3, 10), let c = byte("CALL_FUNCTION") {
            for name in ["GET_ITER", "GET_AITER"] { if let g = byte(name) { glued.append((g, c)) } }
        }
        gluedToPrevious = glued
        var targetGlued = [Bool](repeating: false, count: 256)
        if v >= (3, 12), let f = byte("FOR_ITER") { targetGlued[Int(f)] = true }
        if v >= (3, 12), let s = byte("SEND") { targetGlued[Int(s)] = true }
        self.targetGlued = targetGlued
        var labelGlued = [Bool](repeating: false, count: 256)
        if v >= (3, 6) && v <= (3, 8), let w = byte("WITH_CLEANUP_START") { labelGlued[Int(w)] = true }
        if v == (3, 8) || v >= (3, 12), let e = byte("END_ASYNC_FOR") { labelGlued[Int(e)] = true }
        if v >= (3, 13), let f = byte("FOR_ITER") { labelGlued[Int(f)] = true }
        self.labelGlued = labelGlued
        var firstOfLine = [Bool](repeating: false, count: 256)
        if v <= (3, 8) {
            for name in ["DUP_TOP", "POP_TOP"] { if let b = byte(name) { firstOfLine[Int(b)] = true } }
        }
        self.firstOfLine = firstOfLine
        insertsBeforeLineMarker = v == (3, 9)
        var returns = [Bool](repeating: false, count: 256)
        for name in ["RETURN_VALUE", "RETURN_CONST"] { if let b = byte(name) { returns[Int(b)] = true } }
        self.returns = returns
        nop = byte("NOP") ?? 9
        extendedArg = table.extendedArg
        known = (0..<256).map { table[UInt8($0)] != nil }
    }

    /// The traits of `version`, built on first use (see `InstructionTraits.of`).
    static func of(_ version: PythonVersion) -> EditingTraits {
        version.select(v2_7, v3_6, v3_7, v3_8, v3_9, v3_10, v3_11, v3_12, v3_13)
    }

    private static let v2_7 = EditingTraits(.v2_7)
    private static let v3_6 = EditingTraits(.v3_6)
    private static let v3_7 = EditingTraits(.v3_7)
    private static let v3_8 = EditingTraits(.v3_8)
    private static let v3_9 = EditingTraits(.v3_9)
    private static let v3_10 = EditingTraits(.v3_10)
    private static let v3_11 = EditingTraits(.v3_11)
    private static let v3_12 = EditingTraits(.v3_12)
    private static let v3_13 = EditingTraits(.v3_13)
}

extension PythonVersion {
    var editingTraits: EditingTraits { EditingTraits.of(self) }

    /// The symbolic shape of `opcode`'s argument in this version.
    public func argumentShape(opcode: UInt8) -> ArgumentShape { editingTraits.shapes[Int(opcode)] }

    /// Whether `opcode` returns from the function (`RETURN_VALUE`; 3.12+ `RETURN_CONST`).
    public func isReturn(opcode: UInt8) -> Bool { editingTraits.returns[Int(opcode)] }

    /// Whether nothing may be inserted between an instruction with opcode `previous` and the
    /// following instruction with opcode `next` (see ``EditingTraits/gluedToPrevious``).
    public func mustStayAdjacent(previous: UInt8, next: UInt8) -> Bool {
        editingTraits.gluedToPrevious.contains { $0.previous == previous && $0.next == next }
    }

    /// Whether a jump with `opcode` needs its target label to stay directly on the target
    /// instruction (3.12+ `FOR_ITER`).
    public func jumpNeedsExactTarget(opcode: UInt8) -> Bool { editingTraits.targetGlued[Int(opcode)] }

    /// Whether an instruction with `opcode` must stay directly at every label in front of it
    /// (see ``EditingTraits/labelGlued``: 3.6–3.8 `WITH_CLEANUP_START` and 3.8 `END_ASYNC_FOR`,
    /// how `frame_setlineno` recognizes `with` and `async for` blocks; 3.12+ `END_ASYNC_FOR`, a
    /// handler without a line event; 3.13 `FOR_ITER`, kept unspecialized while tracing by its
    /// line event).
    public func mustStayAtLabel(opcode: UInt8) -> Bool { editingTraits.labelGlued[Int(opcode)] }

    /// Whether an instruction with `opcode` that starts a line entry (directly after a `setLine`
    /// marker) must stay its first instruction (see ``EditingTraits/firstOfLine``: 2.7–3.8
    /// `DUP_TOP` and `POP_TOP`, how `frame_setlineno` recognizes an `except` line).
    public func mustStayFirstOfLine(opcode: UInt8) -> Bool { editingTraits.firstOfLine[Int(opcode)] }

    /// Whether code inserted before an instruction that opens a line entry goes in front of the
    /// line marker, into the previous entry (see ``EditingTraits/insertsBeforeLineMarker``: 3.9,
    /// whose line events after an exception depend on which instruction opened the line).
    public var insertsBeforeLineMarker: Bool { editingTraits.insertsBeforeLineMarker }

    /// The most EXTENDED_ARG prefixes CPython writes before one instruction (its arguments are
    /// 32 bits: 3 in wordcode, 1 in 2.7).
    var maxExtendedArgPrefixes: Int { extendedArgCount(for: Int(UInt32.max)) }

    /// How many EXTENDED_ARG prefixes an argument needs (wordcode: 8 bits each, at most 3;
    /// 2.7: 16 bits, at most 1).
    public func extendedArgCount(for value: Int) -> Int {
        switch instructionLayout {
        case .wordcode:
            if value < 0x100 { return 0 }
            if value < 0x1_0000 { return 1 }
            if value < 0x100_0000 { return 2 }
            return 3
        case .variableLength:
            return value < 0x1_0000 ? 0 : 1
        }
    }
}
