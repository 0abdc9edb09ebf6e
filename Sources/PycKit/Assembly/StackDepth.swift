// Stack depth: the largest number of values a code object's evaluation stack holds over every path through its
// instructions, computed the way each release's compiler computes `co_stacksize` (formats.md §6), together with
// the findings that make the instructions invalid (underflow, merge points reached with two depths, exception
// table entries deeper than the code they cover).
//
// Everything that differs between releases lives in ``StackDepthTraits``: which algorithm (2.7/3.6's recursive
// `stackdepth_walk` or 3.7+'s worklist), how jumps change the depth, which opcodes end a path, the entry depth, and
// which findings the release's compiler guarantees never to produce.

/// One instruction as the depth computation sees it (EXTENDED_ARG prefixes already folded away; they never appear
/// here).
public struct StackDepthInstruction: Sendable, Hashable {
    public var opcode: UInt8
    /// The folded argument; 0 for opcodes without an argument.
    public var oparg: Int
    /// Index into the instruction array (not a byte offset) of the jump target; nil if the opcode does not jump.
    public var jumpTarget: Int?
    /// Index into `handlers` of the exception-table entry covering this instruction (3.11+), or nil.
    public var handler: Int?

    public init(opcode: UInt8, oparg: Int, jumpTarget: Int?, handler: Int?) {
        self.opcode = opcode
        self.oparg = oparg
        self.jumpTarget = jumpTarget
        self.handler = handler
    }
}

/// One 3.11+ exception-table entry as the depth computation sees it (``ExceptionTableEntry`` with its target as an
/// instruction index): a raising covered instruction pops the stack to `depth`, pushes its offset if `lasti`, pushes
/// the exception and continues at `target`, which therefore starts at `depth + 1 + lasti` (formats.md §5).
public struct StackDepthHandler: Sendable, Hashable {
    /// Instruction index of the handler.
    public var target: Int
    public var depth: Int
    public var lasti: Bool

    public init(target: Int, depth: Int, lasti: Bool) {
        self.target = target
        self.depth = depth
        self.lasti = lasti
    }
}

/// Something that makes instructions invalid for the depth computation, at an instruction index.
public struct StackDepthFinding: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The instruction would pop below 0: `depth` is the (negative) depth it would leave.
        case underflow(depth: Int)
        /// A merge point (jump target, fall-through or handler) reached with two depths: reported for releases whose
        /// compiler keeps depths consistent (3.9+), and in every release where the depth grows around a cycle.
        case inconsistentDepth(expected: Int, found: Int)
        /// An exception-table entry's depth exceeds the stack depth before an instruction it covers.
        case handlerDepthTooDeep(handlerDepth: Int, stackDepth: Int)
        /// The opcode has no stack effect in this release (undefined, specialized or instrumented).
        case unknownStackEffect
        /// A jump target or handler target that is not an instruction index; `target` is that index, or -1 for a
        /// handler index outside `handlers`.
        case jumpOutOfRange(target: Int)
    }

    public var kind: Kind
    /// The instruction index: the instruction itself, or for ``Kind/inconsistentDepth(expected:found:)`` the merge
    /// point.
    public var instruction: Int

    public init(_ kind: Kind, at instruction: Int) {
        self.kind = kind
        self.instruction = instruction
    }

    /// "instruction 12: stack underflow (depth -1)".
    public var description: String {
        let what: String
        switch kind {
        case .underflow(let depth): what = "stack underflow (depth \(depth))"
        case .inconsistentDepth(let expected, let found):
            what = "reached with stack depth \(found), elsewhere with \(expected)"
        case .handlerDepthTooDeep(let handlerDepth, let stackDepth):
            what = "exception handler depth \(handlerDepth) exceeds the stack depth \(stackDepth)"
        case .unknownStackEffect: what = "opcode has no stack effect in this version"
        case .jumpOutOfRange(let target): what = "jump target \(target) is not an instruction"
        }
        return "instruction \(instruction): \(what)"
    }
}

extension PythonVersion {
    /// Maximum stack depth CPython's compiler would compute for this code (see formats.md §6), plus findings.
    ///
    /// Two passes. The first computes CPython's number: blocks start at the entry, at jump and handler targets and
    /// after jumps and path-ending opcodes, and every edge carries the depth after the instruction in its direction
    /// (`stack_effect(jump=)`). 2.7 and 3.6 replay `stackdepth_walk` (`Python/compile.c`): depth first, a jump's
    /// target before the fall-through, a block walked again when reached deeper while it is not on the current path.
    /// 3.7+ run the worklist of `stackdepth()` (`Python/compile.c`, 3.12+ `Python/flowgraph.c`): each block walked
    /// with the depth it is first reached with, which is every arrival's in code whose merges agree; a block reached
    /// deeper later is walked again, so that the result is never below the deepest path. 3.11+ add an edge from every
    /// reached covered instruction to its handler.
    ///
    /// The second pass checks the blocks that can run (reached without falling through an opcode that ends the path
    /// at run time, such as 2.7's `RAISE_VARARGS`) from the depth each block was finally reached with: underflow,
    /// handler depth, opcodes without an effect.
    ///
    /// Iterative throughout, linear in practice. Hostile input never traps: bad jump and handler targets, opcodes
    /// without an effect and underflow are findings, and effects are clamped. Code whose depth keeps growing around a
    /// cycle (never valid) stops after 64 walks of one block, is reported as an inconsistent merge there, and gets at
    /// least the bound `entry + Σ max(0, effects)`.
    public func stackDepth(
        of instructions: [StackDepthInstruction], handlers: [StackDepthHandler], flags: Int32
    ) -> (maxDepth: Int, findings: [StackDepthFinding]) {
        var fresh = StackDepthStorage()
        var computation = StackDepthComputation(
            traits: StackDepthTraits.forVersion(self), columns: StackDepthColumns(instructions), handlers: handlers,
            flags: flags, storage: &fresh)
        return computation.run(findings: true)
    }

    /// ``stackDepth(of:handlers:flags:)``'s maximum alone (no findings pass), over instructions given as columns:
    /// what the assembler needs. 3.7+ compute it with ``StackDepthWorklist`` (the same worklist over less state; the
    /// corpus survey in `StackDepthTests` checks both agree), 2.7/3.6 and code whose depth grows around a cycle with
    /// the full computation.
    /// `storage` holds working arrays reused from one call to the next.
    func maxStackDepth(
        of columns: StackDepthColumns, handlers: [StackDepthHandler], flags: Int32, storage: inout StackDepthStorage
    ) -> Int {
        let traits = StackDepthTraits.forVersion(self)
        if let depth = StackDepthWorklist.maxDepth(
            traits: traits, columns: columns, handlers: handlers, flags: flags, storage: &storage)
        {
            return depth
        }
        var computation = StackDepthComputation(
            traits: traits, columns: columns, handlers: handlers, flags: flags, storage: &storage)
        let depth = computation.run(findings: false).maxDepth
        computation.giveStorage(to: &storage)
        return depth
    }

    /// The depth before each instruction as the computation settled it (each block's final start depth plus the
    /// fall-through effects), nil where it never reached: for readable dumps of code that fails a check.
    func stackDepthsBefore(
        of instructions: [StackDepthInstruction], handlers: [StackDepthHandler], flags: Int32
    ) -> [Int?] {
        var fresh = StackDepthStorage()
        var computation = StackDepthComputation(
            traits: StackDepthTraits.forVersion(self), columns: StackDepthColumns(instructions), handlers: handlers,
            flags: flags, storage: &fresh)
        _ = computation.run(findings: true)
        return computation.depthsBefore()
    }
}

// MARK: - Per-version traits

/// What the depth computation does differently in each release: the single place that asks "which version?".
/// A class, so that each computation shares the version's tables instead of copying (retaining) each of them.
final class StackDepthTraits: Sendable {
    /// How blocks are visited.
    enum Algorithm: Sendable {
        /// 2.7 and 3.6 `stackdepth_walk`: recursive, depth first, jump targets before the fall-through; a block is
        /// entered when it is not on the current path and its recorded start depth is lower.
        case recursiveWalk
        /// 3.7+ `stackdepth`: a stack of blocks, each walked with the depth it is reached with first (again when
        /// reached deeper).
        case worklist
    }

    /// How an opcode's two effects come from the opcode table.
    enum EffectRule: Sendable {
        /// `stackEffect(jump: false)` and `stackEffect(jump: true)`.
        case table
        /// The table's (non-directional) effect `e`, shifted: fall-through `e + fallThrough`, jump `e + jump`.
        case shifted(fallThrough: Int, jump: Int)
        /// Fixed effects, whatever the table says.
        case fixed(fallThrough: Int, jump: Int)
    }

    let algorithm: Algorithm
    /// Per opcode: how its effects are computed.
    let effectRules: [EffectRule]
    /// Per opcode: both effects when they do not depend on the oparg (most opcodes), so the formula is skipped.
    let constantEffects: [(fallThrough: Int, jump: Int)?]
    /// Per opcode: the opcode table's effect, nil where it has none and the rule needs it.
    let tableEffects: [StackEffect?]
    /// Per opcode: the compiler's walk does not continue after it (its "remaining code is dead" list).
    let endsPath: [Bool]
    /// Per opcode: execution never continues with the next instruction (a superset of ``endsPath``: 2.7 and 3.6
    /// walk on after `RAISE_VARARGS`, `BREAK_LOOP` and `CONTINUE_LOOP`, into code that cannot run).
    let noFallThrough: [Bool]
    /// Per opcode: the compiler's walk does not follow its jump (3.7 `CONTINUE_LOOP`, whose target "should be
    /// already proceeding").
    let jumpNotWalked: [Bool]
    /// Whether the compiler's walk continues after an opcode without fall-through (``endsPath`` differs from
    /// ``noFallThrough``), so that it reaches blocks that cannot run.
    let walksDeadCode: Bool
    /// Per opcode: how far above the depth before the instruction the stack peaks while it runs (3.13
    /// `RETURN_CONST`, which is `LOAD_CONST` + `RETURN_VALUE` fused after the depth pass).
    let peak: [Int]
    /// The depth generators, coroutines and async generators start at: 1 in 3.10–3.12, whose compiler counts the
    /// value sent into a generator; 0 otherwise (3.13's `RETURN_GENERATOR` pushes it itself).
    let generatorEntryDepth: Int
    /// Whether a merge point reached with two depths is a finding. The 3.12+ compiler refuses such code ("Invalid
    /// CFG, inconsistent stackdepth", `stackdepth_push` in `Python/flowgraph.c`); 3.9–3.11 code keeps them consistent
    /// too (every corpus code object does). 2.7–3.8 do not: their effects count worst cases, so 2.7/3.6 drift and
    /// 3.7/3.8 reach a `finally` body with 6 from `SETUP_FINALLY` and with 1 or 2 from the normal path.
    let reportsInconsistentDepth: Bool

    /// `CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR`.
    static let generatorFlags: Int32 = 0x20 | 0x80 | 0x200

    /// The traits of `version`, built once.
    static func forVersion(_ version: PythonVersion) -> StackDepthTraits {
        version.select(v2_7, v3_6, v3_7, v3_8, v3_9, v3_10, v3_11, v3_12, v3_13)
    }

    // Each built when its version is first used (building all of them cost a file's worth of work).
    private static let v2_7 = StackDepthTraits(.v2_7)
    private static let v3_6 = StackDepthTraits(.v3_6)
    private static let v3_7 = StackDepthTraits(.v3_7)
    private static let v3_8 = StackDepthTraits(.v3_8)
    private static let v3_9 = StackDepthTraits(.v3_9)
    private static let v3_10 = StackDepthTraits(.v3_10)
    private static let v3_11 = StackDepthTraits(.v3_11)
    private static let v3_12 = StackDepthTraits(.v3_12)
    private static let v3_13 = StackDepthTraits(.v3_13)

    private init(_ version: PythonVersion) {
        let table = version.opcodes
        var rules: [(String, EffectRule)] = []
        var ends: [String]
        var alsoNoFallThrough: [String] = []
        var notWalked: [String] = []
        var peaks: [(String, Int)] = []
        var generatorEntryDepth = 0
        var reportsInconsistentDepth = true
        switch (version.major, version.minor) {
        case (2, 7):
            // `stackdepth_walk`'s target rules are in the hand-written table already (FOR_ITER 1/-1, SETUP_EXCEPT and
            // SETUP_FINALLY 0/3, JUMP_IF_*_OR_POP -1/0): StackEffects+2_7.swift. CPython's walk stops after
            // JUMP_ABSOLUTE and JUMP_FORWARD only, and falls through RETURN_VALUE into whatever its compiler block
            // holds next, often an unreachable jump the peephole optimizer then deleted (2.7: the jump right after
            // the return; 3.6: all code up to the next jump target). In the final code that fall-through leads
            // elsewhere, so the replay stops at RETURN_VALUE too (3.6 computes 3 stdlib code objects deeper than
            // declared otherwise; 2.7 gives the same numbers either way).
            algorithm = .recursiveWalk
            ends = ["JUMP_ABSOLUTE", "JUMP_FORWARD", "RETURN_VALUE"]
            alsoNoFallThrough = ["RAISE_VARARGS", "BREAK_LOOP", "CONTINUE_LOOP"]
            reportsInconsistentDepth = false
        case (3, 6):
            // `stackdepth_walk` on `PyCompile_OpcodeStackEffect` (one effect): FOR_ITER's target is 2 lower, that of
            // SETUP_EXCEPT/SETUP_FINALLY 3 higher; JUMP_IF_*_OR_POP fall through 1 lower. NOP has no effect in
            // `dis.stack_effect` (0 at run time). RETURN_VALUE ends the replay as in 2.7.
            algorithm = .recursiveWalk
            ends = ["JUMP_ABSOLUTE", "JUMP_FORWARD", "RETURN_VALUE"]
            alsoNoFallThrough = ["RAISE_VARARGS", "BREAK_LOOP", "CONTINUE_LOOP"]
            rules = [
                ("FOR_ITER", .shifted(fallThrough: 0, jump: -2)),
                ("SETUP_EXCEPT", .shifted(fallThrough: 0, jump: 3)),
                ("SETUP_FINALLY", .shifted(fallThrough: 0, jump: 3)),
                ("JUMP_IF_TRUE_OR_POP", .shifted(fallThrough: -1, jump: 0)),
                ("JUMP_IF_FALSE_OR_POP", .shifted(fallThrough: -1, jump: 0)),
                ("NOP", .fixed(fallThrough: 0, jump: 0)),
            ]
            reportsInconsistentDepth = false
        case (3, 7):
            // 3.7's `stack_effect(opcode, oparg, jump)` differs by direction for these, but `dis.stack_effect` (the
            // opcode table) gives only the larger. CONTINUE_LOOP ends the walk without pushing its target.
            algorithm = .worklist
            ends = ["JUMP_ABSOLUTE", "JUMP_FORWARD", "RETURN_VALUE", "RAISE_VARARGS", "BREAK_LOOP", "CONTINUE_LOOP"]
            notWalked = ["CONTINUE_LOOP"]
            rules = [
                ("FOR_ITER", .fixed(fallThrough: 1, jump: -1)),
                ("JUMP_IF_TRUE_OR_POP", .fixed(fallThrough: -1, jump: 0)),
                ("JUMP_IF_FALSE_OR_POP", .fixed(fallThrough: -1, jump: 0)),
                ("SETUP_EXCEPT", .fixed(fallThrough: 0, jump: 6)),
                ("SETUP_FINALLY", .fixed(fallThrough: 0, jump: 6)),
                ("SETUP_WITH", .fixed(fallThrough: 1, jump: 6)),
                ("SETUP_ASYNC_WITH", .fixed(fallThrough: 0, jump: 5)),
                ("NOP", .fixed(fallThrough: 0, jump: 0)),
            ]
            reportsInconsistentDepth = false
        case (3, 8):
            algorithm = .worklist
            ends = ["JUMP_ABSOLUTE", "JUMP_FORWARD", "RETURN_VALUE", "RAISE_VARARGS"]
            reportsInconsistentDepth = false
        case (3, 9):
            algorithm = .worklist
            ends = ["JUMP_ABSOLUTE", "JUMP_FORWARD", "RETURN_VALUE", "RAISE_VARARGS", "RERAISE"]
        case (3, 10):
            algorithm = .worklist
            ends = ["JUMP_ABSOLUTE", "JUMP_FORWARD", "RETURN_VALUE", "RAISE_VARARGS", "RERAISE"]
            generatorEntryDepth = 1
        case (3, 11):
            // IS_UNCONDITIONAL_JUMP_OPCODE || IS_SCOPE_EXIT_OPCODE, with the names the assembler gives the jumps.
            algorithm = .worklist
            ends = [
                "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "RETURN_VALUE", "RAISE_VARARGS",
                "RERAISE",
            ]
            generatorEntryDepth = 1
        case (3, 12):
            algorithm = .worklist
            ends = [
                "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "RETURN_VALUE", "RETURN_CONST",
                "RAISE_VARARGS", "RERAISE",
            ]
            generatorEntryDepth = 1
        default:
            algorithm = .worklist
            ends = [
                "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "RETURN_VALUE", "RETURN_CONST",
                "RAISE_VARARGS", "RERAISE",
            ]
            peaks = [("RETURN_CONST", 1)]
        }
        self.generatorEntryDepth = generatorEntryDepth
        self.reportsInconsistentDepth = reportsInconsistentDepth

        func byte(_ name: String) -> Int {
            guard let byte = table[name]?.byte else { preconditionFailure("\(version): no opcode \(name)") }
            return Int(byte)
        }
        func flags(_ names: [String]) -> [Bool] {
            var out = [Bool](repeating: false, count: 256)
            for name in names { out[byte(name)] = true }
            return out
        }
        var effectRules = [EffectRule](repeating: .table, count: 256)
        for (name, rule) in rules { effectRules[byte(name)] = rule }
        self.effectRules = effectRules
        let tableEffects = (0..<256).map { table[UInt8($0)]?.stackEffect }
        self.tableEffects = tableEffects
        let constantEffects = (0..<256).map { byte -> (fallThrough: Int, jump: Int)? in
            switch effectRules[byte] {
            case .fixed(let fallThrough, let jump): return (fallThrough, jump)
            case .table, .shifted:
                guard let effect = table[UInt8(byte)]?.stackEffect, effect.fallThrough.isConstant,
                    effect.jump.isConstant
                else { return nil }
                return Self.effects(rule: effectRules[byte], effect: effect, oparg: 0)
            }
        }
        self.constantEffects = constantEffects
        let endsPath = flags(ends)
        self.endsPath = endsPath
        noFallThrough = flags(ends + alsoNoFallThrough)
        walksDeadCode = !alsoNoFallThrough.isEmpty
        let jumpNotWalked = flags(notWalked)
        self.jumpNotWalked = jumpNotWalked
        var peak = [Int](repeating: 0, count: 256)
        for (name, extra) in peaks { peak[byte(name)] = extra }
        self.peak = peak
        walkSteps = (0..<256).map { byte in
            let constant = constantEffects[byte].map { effect in
                (StackDepthComputation.clamp(effect.fallThrough), StackDepthComputation.clamp(effect.jump))
            }
            var linear: (fallThrough: WalkStep.Term, jump: WalkStep.Term)? = nil
            if constant == nil, case .table = effectRules[byte], let effect = tableEffects[byte],
                let fallThrough = WalkStep.Term(effect.fallThrough), let jump = WalkStep.Term(effect.jump)
            {
                linear = (fallThrough, jump)
            }
            return WalkStep(
                fallThrough: constant?.0 ?? 0, jump: constant?.1 ?? 0, constant: constant != nil,
                linear: linear != nil, fallThroughTerm: linear?.fallThrough ?? .zero, jumpTerm: linear?.jump ?? .zero,
                endsPath: endsPath[byte], jumpNotWalked: jumpNotWalked[byte], peak: peak[byte])
        }
        compactSteps = walkSteps.map(CompactStep.init)
    }

    /// What the worklist needs of one opcode, in one table row (one load per instruction instead of one per table).
    struct WalkStep {
        /// A formula of one field and no cases (`BUILD_TUPLE`, `CALL`, 3.11+ `LOAD_GLOBAL`, …):
        /// `base + coefficient · ((oparg >> shift) & mask)`, the mask -1 where the formula has none. Evaluated
        /// inline, where ``StackEffectFormula/evaluate(oparg:)`` walks its arrays.
        struct Term {
            var base: Int
            var coefficient: Int
            var shift: Int
            var mask: Int

            static let zero = Term(base: 0, coefficient: 0, shift: 0, mask: 0)

            init(base: Int, coefficient: Int, shift: Int, mask: Int) {
                self.base = base
                self.coefficient = coefficient
                self.shift = shift
                self.mask = mask
            }

            /// The term of `formula`, nil unless it has exactly one field and no cases.
            init?(_ formula: StackEffectFormula) {
                guard formula.cases.isEmpty, formula.fields.count == 1 else { return nil }
                let field = formula.fields[0]
                self.init(base: formula.base, coefficient: field.coefficient, shift: field.shift, mask: field.mask ?? -1)
            }

            /// `StackEffectFormula.evaluate(oparg:)` of the formula, in the same wrapping arithmetic.
            @inline(__always)
            func value(_ oparg: Int) -> Int { base &+ coefficient &* ((oparg >> shift) & mask) }
        }

        /// The clamped effects, when ``constant``.
        var fallThrough: Int
        var jump: Int
        /// The effects do not depend on the oparg (otherwise ``effects(opcode:oparg:)`` computes them).
        var constant: Bool
        /// The effects are the opcode table's (rule ``EffectRule/table``), each one ``Term``.
        var linear: Bool
        var fallThroughTerm: Term
        var jumpTerm: Term
        var endsPath: Bool
        var jumpNotWalked: Bool
        var peak: Int
    }

    /// Per opcode: ``constantEffects`` (clamped), ``endsPath``, ``jumpNotWalked`` and ``peak`` together.
    let walkSteps: [WalkStep]

    /// What the assembler's walk (``StackDepthWorklist``) reads of a ``WalkStep`` for most instructions: the
    /// fall-through effect, and whether the rare part of the walk applies.
    struct CompactStep {
        /// The clamped fall-through effect where the effects do not depend on the oparg; with ``linear``, the
        /// ``WalkStep/Term``'s base.
        var base: Int
        /// With ``linear``: the fall-through effect is `clamp(base &+ coefficient &* ((oparg &>> shift) & mask))`,
        /// ``WalkStep/Term/value(_:)`` of a term whose shift is below 64 (where `&>>` and `>>` agree).
        var coefficient: Int
        var mask: Int
        var shift: UInt8
        /// ``linear``, ``general``, ``rare``.
        var flags: UInt8

        /// The fall-through effect is a term of the oparg (see ``coefficient``).
        static let linear: UInt8 = 1
        /// The effects need ``StackDepthTraits/clampedEffects(_:opcode:oparg:)``.
        static let general: UInt8 = 2
        /// The opcode ends the path or peaks above its depths (``WalkStep/endsPath``, ``WalkStep/peak``).
        static let rare: UInt8 = 4

        init(_ step: WalkStep) {
            (base, coefficient, mask, shift, flags) = (0, 0, 0, 0, 0)
            let term = step.fallThroughTerm
            if step.constant {
                base = step.fallThrough
            } else if step.linear, (0..<64).contains(term.shift) {
                (base, coefficient, mask, shift) = (term.base, term.coefficient, term.mask, UInt8(term.shift))
                flags |= Self.linear
            } else {
                flags |= Self.general
            }
            if step.endsPath || step.peak > 0 { flags |= Self.rare }
        }
    }

    /// ``walkSteps`` as ``CompactStep``s.
    let compactSteps: [CompactStep]

    /// The clamped effects of `opcode` at `oparg`, whose ``walkSteps`` row is `step`; 0 both ways for an opcode
    /// without one (reported by the findings pass).
    @inline(__always)
    func clampedEffects(_ step: WalkStep, opcode: UInt8, oparg: Int) -> (fallThrough: Int, jump: Int) {
        if step.constant { return (step.fallThrough, step.jump) }
        if step.linear {
            return (
                StackDepthComputation.clamp(step.fallThroughTerm.value(oparg)),
                StackDepthComputation.clamp(step.jumpTerm.value(oparg))
            )
        }
        guard let (fallThrough, jump) = effects(opcode: opcode, oparg: oparg) else { return (0, 0) }
        return (StackDepthComputation.clamp(fallThrough), StackDepthComputation.clamp(jump))
    }

    /// ``clampedEffects(_:opcode:oparg:)``'s fall-through effect alone (the jump's formula is not evaluated).
    @inline(__always)
    func clampedFallThrough(_ step: WalkStep, opcode: UInt8, oparg: Int) -> Int {
        guard !step.constant, !step.linear, case .table = effectRules[Int(opcode)] else {
            return clampedEffects(step, opcode: opcode, oparg: oparg).fallThrough
        }
        // `effects(opcode:oparg:)` under rule `.table`: no effect is 0, otherwise `value(oparg:jump: false)`.
        guard let effect = tableEffects[Int(opcode)] else { return 0 }
        return StackDepthComputation.clamp(effect.fallThrough.evaluate(oparg: oparg))
    }

    /// The effect along the fall-through and along the jump, or nil where the release defines none.
    @inline(__always)
    func effects(opcode: UInt8, oparg: Int) -> (fallThrough: Int, jump: Int)? {
        if let constant = constantEffects[Int(opcode)] { return constant }
        guard let effect = tableEffects[Int(opcode)] else { return nil }
        return Self.effects(rule: effectRules[Int(opcode)], effect: effect, oparg: oparg)
    }

    /// `effect` (the opcode table's) at `oparg` under `rule`.
    private static func effects(rule: EffectRule, effect: StackEffect, oparg: Int) -> (fallThrough: Int, jump: Int) {
        switch rule {
        case .table:
            return (effect.value(oparg: oparg, jump: false), effect.value(oparg: oparg, jump: true))
        case .shifted(let fallThrough, let jump):
            let combined = effect.value(oparg: oparg, jump: nil)
            return (combined &+ fallThrough, combined &+ jump)
        case .fixed(let fallThrough, let jump):
            return (fallThrough, jump)
        }
    }
}

// MARK: - The computation

/// The instructions as parallel arrays (``StackDepthInstruction``'s fields; ``none`` for nil), so that the assembler
/// hands over what it has without building one struct per instruction.
struct StackDepthColumns {
    /// Marks a missing jump target or handler.
    static let none = Int.min
    var opcodes: [UInt8] = []
    var opargs: [Int] = []
    var jumpTargets: [Int] = []
    var handlers: [Int] = []
    /// The number of instructions: the first `count` slots of each array (the assembler's arrays are reused from
    /// one code object to the next and may be longer).
    var count = 0

    init() {}

    init(_ instructions: [StackDepthInstruction]) {
        opcodes = instructions.map(\.opcode)
        opargs = instructions.map(\.oparg)
        jumpTargets = instructions.map { $0.jumpTarget ?? Self.none }
        handlers = instructions.map { $0.handler ?? Self.none }
        count = instructions.count
    }
}

/// The working arrays of ``StackDepthComputation``, kept between runs so that their memory is reused.
struct StackDepthStorage {
    var leader: [Bool] = []
    var blockStarts: [Int] = []
    var blockAt: [Int32] = []
    var startDepth: [Int] = []
    var walks: [UInt8] = []
    var queued: [Bool] = []
    var mergeReported: [Bool] = []
    var pending: [Int] = []
    /// ``StackDepthWorklist``'s per-instruction state.
    var entries: [StackDepthWorklist.Entry] = []
}


/// One run of the depth computation over one code object. A struct with mutating helpers (not a class: class
/// properties cost a dynamic exclusivity check at every access).
private struct StackDepthComputation {
    /// Walks of one block (each with a greater depth) before the code counts as growing without bound.
    static let maximumWalksPerBlock = 64
    /// Depths and effects are clamped to this magnitude, so hostile opargs cannot overflow.
    static let depthLimit = 1 << 48

    let traits: StackDepthTraits
    let opcodes: [UInt8]
    let opargs: [Int]
    let jumpTargets: [Int]
    let handlerIndices: [Int]
    let count: Int
    let handlers: [StackDepthHandler]
    let entryDepth: Int
    /// Per instruction and one more: whether a block starts there.
    var leader: [Bool]
    /// First instruction of each block, then `instructions.count`.
    var blockStarts: [Int]
    /// The block starting at each instruction, -1 inside a block.
    var blockAt: [Int32]
    /// Depth each block was last walked with; `Int.min` while unreached.
    var startDepth: [Int]
    var walks: [UInt8]
    /// Per block: waiting in the worklist.
    var queued: [Bool]
    /// Per block: an inconsistent arrival was reported.
    var mergeReported: [Bool]
    /// The worklist.
    var pending: [Int]
    var maxDepth = 0
    var findings: [StackDepthFinding] = []
    var reported = Set<StackDepthFinding>()
    /// Set when a block was walked `maximumWalksPerBlock` times: the depth grows around a cycle.
    var unbounded = false

    init(
        traits: StackDepthTraits, columns: StackDepthColumns, handlers: [StackDepthHandler], flags: Int32,
        storage: inout StackDepthStorage
    ) {
        self.traits = traits
        opcodes = columns.opcodes
        opargs = columns.opargs
        jumpTargets = columns.jumpTargets
        handlerIndices = columns.handlers
        // Never more than any array holds (each index below `count` is read from each of them).
        count = min(
            columns.count, columns.opcodes.count, columns.opargs.count, columns.jumpTargets.count,
            columns.handlers.count)
        self.handlers = handlers
        entryDepth = flags & StackDepthTraits.generatorFlags != 0 ? traits.generatorEntryDepth : 0
        leader = taken(&storage.leader)
        blockStarts = taken(&storage.blockStarts)
        blockAt = taken(&storage.blockAt)
        startDepth = taken(&storage.startDepth)
        walks = taken(&storage.walks)
        queued = taken(&storage.queued)
        mergeReported = taken(&storage.mergeReported)
        pending = taken(&storage.pending)
    }

    /// Hands the working arrays back for the next run.
    mutating func giveStorage(to storage: inout StackDepthStorage) {
        storage = StackDepthStorage(
            leader: taken(&leader), blockStarts: taken(&blockStarts), blockAt: taken(&blockAt),
            startDepth: taken(&startDepth), walks: taken(&walks), queued: taken(&queued),
            mergeReported: taken(&mergeReported), pending: taken(&pending))
    }

    /// The maximum depth, and the findings when `findings` (otherwise only some, unsorted).
    mutating func run(findings wanted: Bool) -> (maxDepth: Int, findings: [StackDepthFinding]) {
        maxDepth = entryDepth
        guard count > 0 else { return (maxDepth, []) }
        findBlocks()
        switch traits.algorithm {
        case .recursiveWalk: walk()
        case .worklist: worklist()
        }
        if unbounded { maxDepth = max(maxDepth, bound()) }
        guard wanted else { return (maxDepth, findings) }
        check()
        findings.sort { $0.instruction < $1.instruction }
        return (maxDepth, findings)
    }

    // MARK: Blocks and edges

    /// The jump target of instruction `index` when it is an instruction index.
    @inline(__always)
    func validTarget(_ index: Int) -> Int? {
        let target = jumpTargets[index]
        guard Self.valid(target, below: count) else { return nil }
        return target
    }

    /// The handler target of instruction `index` and the depth the handler starts at, when the handler is valid.
    @inline(__always)
    func handlerEdge(_ index: Int) -> (target: Int, depth: Int)? {
        let h = handlerIndices[index]
        guard Self.valid(h, below: handlers.count) else { return nil }
        let handler = handlers[h]
        guard Self.valid(handler.target, below: count), handler.depth >= 0 else { return nil }
        return (handler.target, Self.clamp(handler.depth) + 1 + (handler.lasti ? 1 : 0))
    }

    /// Splits the instructions into blocks (leaders: the entry, jump and handler targets, the instruction after a
    /// jump or an opcode without fall-through) and reports every jump or handler that leads nowhere.
    mutating func findBlocks() {
        // The working arrays are moved into locals while they are written (`report` mutates `self`: written as
        // properties, each store would check the array's uniqueness again) and moved back at the end.
        var leader = taken(&self.leader)
        defer { self.leader = leader }
        refill(&leader, false, count: count + 1)
        leader[0] = true
        let jumpTargets = self.jumpTargets
        let handlerIndices = self.handlerIndices
        let opcodes = self.opcodes
        let noFallThrough = traits.noFallThrough
        let count = self.count
        // Written through a buffer: every index stored to is checked against `count` (the buffer holds count + 1).
        leader.withUnsafeMutableBufferPointer { leader in
            for index in 0..<count {
                let target = jumpTargets[index]
                if target != StackDepthColumns.none {
                    if Self.valid(target, below: count) {
                        leader[target] = true
                    } else {
                        report(.jumpOutOfRange(target: target), at: index)
                    }
                    leader[index + 1] = true
                }
                if noFallThrough[Int(opcodes[index])] { leader[index + 1] = true }
                let h = handlerIndices[index]
                if h != StackDepthColumns.none {
                    if let (target, _) = handlerEdge(index) {
                        leader[target] = true
                    } else if h < 0 || h >= handlers.count {
                        report(.jumpOutOfRange(target: -1), at: index)
                    } else if handlers[h].depth < 0 {
                        report(.underflow(depth: handlers[h].depth), at: index)
                    } else {
                        report(.jumpOutOfRange(target: handlers[h].target), at: index)
                    }
                }
            }
        }
        var blockAt = taken(&self.blockAt)
        var blockStarts = taken(&self.blockStarts)
        refill(&blockAt, -1, count: count)
        clear(&blockStarts)
        var blocks = 0
        for index in 0..<count where leader[index] { blocks += 1 }
        blockStarts.reserveCapacity(blocks + 1)
        // Sized first, then written through buffers (no uniqueness or capacity check per block).
        blockStarts.append(contentsOf: repeatElement(count, count: blocks + 1))
        blockAt.withUnsafeMutableBufferPointer { blockAt in
            blockStarts.withUnsafeMutableBufferPointer { blockStarts in
                var block = 0
                for index in 0..<count where leader[index] {
                    blockAt[index] = Int32(block)
                    blockStarts[block] = index
                    block += 1
                }
            }
        }
        self.blockAt = blockAt
        self.blockStarts = blockStarts
        refill(&startDepth, Int.min, count: blocks)
        refill(&walks, 0, count: blocks)
        refill(&queued, false, count: blocks)
        refill(&mergeReported, false, count: blocks)
    }

    // MARK: Pass 1: CPython's number

    /// The clamped effects of instruction `index`; 0 both ways for an opcode without one (reported by ``check()``).
    /// Computed where a walk reaches the instruction (nearly always once), not tabled beforehand.
    @inline(__always)
    func effects(_ index: Int) -> (fallThrough: Int, jump: Int) {
        guard let (fallThrough, jump) = traits.effects(opcode: opcodes[index], oparg: opargs[index]) else {
            return (0, 0)
        }
        return (Self.clamp(fallThrough), Self.clamp(jump))
    }

    /// Counts `depth` toward the maximum and returns it.
    @inline(__always)
    mutating func count(_ depth: Int) -> Int {
        if depth > maxDepth { maxDepth = depth }
        return depth
    }

    /// Counts the transient peak of instruction `index` run at `depth`.
    @inline(__always)
    mutating func countPeak(_ index: Int, at depth: Int) {
        let extra = traits.peak[Int(opcodes[index])]
        if extra > 0 { _ = count(depth + extra) }
    }

    /// `value` within ±``depthLimit``.
    @inline(__always)
    static func clamp(_ value: Int) -> Int { min(max(value, -depthLimit), depthLimit) }

    /// Whether `index` (a jump or handler target, a handler index) lies in `0..<count`.
    @inline(__always)
    static func valid(_ index: Int, below count: Int) -> Bool { UInt(bitPattern: index) < UInt(bitPattern: count) }

    /// Counts one more walk of `block`, now reached with `depth`; past the limit the code is marked unbounded, the
    /// block is reported as a merge point reached with two depths (whatever the release guarantees: the depth grows
    /// around a cycle, which no compiler output does) and false returned.
    mutating func countWalk(_ block: Int, depth: Int) -> Bool {
        guard Int(walks[block]) < Self.maximumWalksPerBlock else {
            unbounded = true
            reportMerge(block, expected: startDepth[block], found: depth)
            return false
        }
        walks[block] += 1
        return true
    }

    /// An upper bound of every path's depth, for code whose depth grows around a cycle.
    func bound() -> Int {
        var total = entryDepth
        for handler in handlers where handler.depth >= 0 {
            total = max(total, Self.clamp(handler.depth) + 2)
        }
        for index in 0..<count {
            let (fallThrough, jump) = effects(index)
            total = Self.clamp(total + max(0, fallThrough, jump, traits.peak[Int(opcodes[index])]))
        }
        return total
    }

    /// 3.7+ `stackdepth()`: pop a block, walk it from its start depth, push jump and handler targets as they come and
    /// the next block at the end unless an opcode ended the path.
    mutating func worklist() {
        var pending = self.pending
        self.pending = []
        clear(&pending)
        defer { self.pending = pending }
        enqueue(0, depth: entryDepth, into: &pending)
        // Read-only tables as locals (not reloaded through `self` and `traits` around each `enqueue`), and one
        // table row per opcode for its constant effects and flags.
        let opcodes = self.opcodes
        let opargs = self.opargs
        let jumpTargets = self.jumpTargets
        let handlerIndices = self.handlerIndices
        let blockStarts = self.blockStarts
        let steps = traits.walkSteps
        let count = self.count
        while let block = pending.popLast(), !unbounded {
            queued[block] = false
            var depth = startDepth[block]
            var fallsThrough = true
            // The handler of the previous instruction, whose edge (same target, same depth) was pushed already:
            // pushing it again changes nothing, even after another edge reached the handler in between.
            var pushedHandler = StackDepthColumns.none
            for index in blockStarts[block]..<blockStarts[block + 1] {
                let handler = handlerIndices[index]
                if handler != pushedHandler {
                    pushedHandler = handler
                    if let (target, start) = handlerEdge(index) {
                        enqueue(target, depth: self.count(start), into: &pending)
                    }
                }
                let opcode = opcodes[index]
                let step = steps[Int(opcode)]
                let (fallThrough, jump) = traits.clampedEffects(step, opcode: opcode, oparg: opargs[index])
                if step.peak > 0 { _ = self.count(depth + step.peak) }
                let target = jumpTargets[index]
                if Self.valid(target, below: count), !step.jumpNotWalked {
                    enqueue(target, depth: self.count(Self.clamp(depth + jump)), into: &pending)
                }
                depth = self.count(Self.clamp(depth + fallThrough))
                if step.endsPath {
                    fallsThrough = false
                    break
                }
            }
            if fallsThrough, blockStarts[block + 1] < count {
                enqueue(blockStarts[block + 1], depth: depth, into: &pending)
            }
        }
    }

    /// `stackdepth_push`: the block starting at instruction `first` is walked when first reached and again when
    /// reached deeper (once, with the deepest depth, while it waits); any other depth at a merge point is a finding
    /// where the release guarantees agreement.
    mutating func enqueue(_ first: Int, depth: Int, into pending: inout [Int]) {
        let block = Int(blockAt[first])
        let known = startDepth[block]
        if known != Int.min, known != depth, traits.reportsInconsistentDepth {
            reportMerge(block, expected: known, found: depth)
        }
        guard depth > known else { return }
        if !queued[block] {
            guard countWalk(block, depth: depth) else { return }
            queued[block] = true
            pending.append(block)
        }
        startDepth[block] = depth
    }

    /// One active `stackdepth_walk` call.
    private struct Frame {
        var block: Int
        var next: Int
        var depth: Int
        /// An opcode ended the path, or the fall-through into the next block was walked already.
        var done = false
    }

    /// 2.7/3.6 `stackdepth_walk()` with an explicit stack of frames: each instruction adds its fall-through effect; a
    /// jump walks its target with the jump effect before the walk goes on; a block's end walks the next block while
    /// the block stays on the path; a block on the path, or entered before at the same or a greater depth, is not
    /// entered.
    mutating func walk() {
        var onPath = [Bool](repeating: false, count: startDepth.count)
        var frames: [Frame] = []

        func enter(_ first: Int, _ depth: Int) {
            let block = Int(blockAt[first])
            guard !onPath[block], startDepth[block] < depth, countWalk(block, depth: depth) else { return }
            onPath[block] = true
            startDepth[block] = depth
            frames.append(Frame(block: block, next: first, depth: depth))
        }

        enter(0, entryDepth)
        while let top = frames.indices.last, !unbounded {
            let frame = frames[top]
            let end = blockStarts[frame.block + 1]
            if !frame.done, frame.next < end {
                let index = frame.next
                let before = frame.depth
                let (fallThrough, jump) = effects(index)
                countPeak(index, at: before)
                let opcode = Int(opcodes[index])
                frames[top].next += 1
                frames[top].depth = count(Self.clamp(before + fallThrough))
                if traits.endsPath[opcode] { frames[top].done = true }
                if let (target, start) = handlerEdge(index) { enter(target, count(start)) }
                if let target = validTarget(index), !traits.jumpNotWalked[opcode] {
                    enter(target, count(Self.clamp(before + jump)))
                }
            } else if !frame.done, end < count {
                frames[top].done = true
                enter(end, frame.depth)
            } else {
                onPath[frame.block] = false
                frames.removeLast()
            }
        }
    }

    // MARK: Pass 2: findings

    /// The blocks execution can reach: from the entry along jumps, handlers and fall-through after opcodes that have
    /// one at run time. Where the compiler's walk stops at the same opcodes, those are the blocks it reached.
    func runnableBlocks() -> [Bool] {
        guard traits.walksDeadCode else { return startDepth.map { $0 != Int.min } }
        var runnable = [Bool](repeating: false, count: startDepth.count)
        var pending = [0]
        runnable[0] = true
        func visit(_ first: Int, _ pending: inout [Int]) {
            let block = Int(blockAt[first])
            if !runnable[block] {
                runnable[block] = true
                pending.append(block)
            }
        }
        while let block = pending.popLast() {
            let end = blockStarts[block + 1]
            for index in blockStarts[block]..<end {
                if let target = validTarget(index) { visit(target, &pending) }
                if let (target, _) = handlerEdge(index) { visit(target, &pending) }
            }
            if end < count, !traits.noFallThrough[Int(opcodes[end - 1])] {
                visit(end, &pending)
            }
        }
        return runnable
    }

    /// Replays every runnable block from its final start depth (at least 0): an opcode without an effect, a handler
    /// deeper than the stack, a depth below 0 along either way out of an instruction.
    mutating func check() {
        let runnable = runnableBlocks()
        for block in startDepth.indices where runnable[block] && startDepth[block] != Int.min {
            // A block reached below 0 is reached only through an underflow, reported where it happened.
            var depth = max(0, startDepth[block])
            for index in blockStarts[block]..<blockStarts[block + 1] {
                guard let effect = traits.effects(opcode: opcodes[index], oparg: opargs[index]) else {
                    report(.unknownStackEffect, at: index)
                    continue
                }
                let (fallThrough, jump) = (Self.clamp(effect.fallThrough), Self.clamp(effect.jump))
                let h = handlerIndices[index]
                if Self.valid(h, below: handlers.count), handlers[h].depth > depth {
                    report(.handlerDepthTooDeep(handlerDepth: handlers[h].depth, stackDepth: depth), at: index)
                }
                if validTarget(index) != nil, depth + jump < 0 {
                    report(.underflow(depth: depth + jump), at: index)
                }
                depth = Self.clamp(depth + fallThrough)
                if depth < 0 {
                    report(.underflow(depth: depth), at: index)
                    depth = 0
                }
            }
        }
    }

    /// Reports the first inconsistent arrival at `block` (later ones would only repeat it).
    mutating func reportMerge(_ block: Int, expected: Int, found: Int) {
        guard !mergeReported[block] else { return }
        mergeReported[block] = true
        report(.inconsistentDepth(expected: expected, found: found), at: blockStarts[block])
    }

    mutating func report(_ kind: StackDepthFinding.Kind, at index: Int) {
        let finding = StackDepthFinding(kind, at: index)
        if reported.insert(finding).inserted { findings.append(finding) }
    }

    /// The depth before each instruction of every reached block, replayed from the block's final start depth.
    func depthsBefore() -> [Int?] {
        var out = [Int?](repeating: nil, count: count)
        for block in startDepth.indices where startDepth[block] != Int.min {
            var depth = startDepth[block]
            for index in blockStarts[block]..<blockStarts[block + 1] {
                out[index] = depth
                depth = Self.clamp(depth + effects(index).fallThrough)
            }
        }
        return out
    }
}

// MARK: - The assembler's maximum (3.7+)

/// ``StackDepthComputation``'s maximum for the releases it walks with a worklist and without dead code (3.7+),
/// computed with the same worklist in the same order over less state: a block is named by its first instruction,
/// the per-instruction ``Entry`` row says whether a block starts there, which edges leave the instruction, and holds
/// the block's worklist state, and the columns are read through buffers whose bounds are checked once. What only the
/// findings need (blocks numbered, every leader, merge reports) is left out.
///
/// Leaders are the entry, valid jump and handler targets and the instruction after a jump. The instruction after an
/// opcode without fall-through is not one: those opcodes end the walk (``StackDepthTraits/endsPath`` equals
/// ``StackDepthTraits/noFallThrough`` here), so only a jump or handler reaches what follows, which makes it a leader
/// anyway. Code in which no reached instruction jumps or has a handler (most small functions) is one straight walk.
enum StackDepthWorklist {
    /// A block start no edge has reached yet.
    static let unreached = Int.min
    /// ``Entry/edges``: the instruction jumps to an instruction.
    static let jumps: UInt8 = 1
    /// ``Entry/edges``: the instruction's handler index differs from the previous instruction's (or, for the first,
    /// from none), so that a walk passing from one to the other pushes the handler edge.
    static let handlerChanges: UInt8 = 2

    /// One instruction: its edges, and whether a block starts there with the block's worklist state. All zero bytes
    /// for an instruction inside a block without edges, so that the rows are cleared as one block of memory.
    struct Entry {
        /// At a block start: ``unreached``, or the depth the block was last reached with.
        var depth: Int
        /// Walks of the block so far.
        var walks: UInt8
        /// The block waits in the worklist.
        var queued: Bool
        /// ``jumps`` and ``handlerChanges``.
        var edges: UInt8
        /// A block starts here.
        var leader: Bool

        static let blank = Entry(depth: 0, walks: 0, queued: false, edges: 0, leader: false)
        static let blockStart = Entry(depth: unreached, walks: 0, queued: false, edges: 0, leader: true)
    }

    /// The maximum ``StackDepthComputation/run(findings:)`` computes, nil where this path does not apply (2.7, 3.6)
    /// or gives up (a block walked ``StackDepthComputation/maximumWalksPerBlock`` times: the caller replays the full
    /// computation, which bounds it).
    static func maxDepth(
        traits: StackDepthTraits, columns: StackDepthColumns, handlers: [StackDepthHandler], flags: Int32,
        storage: inout StackDepthStorage
    ) -> Int? {
        guard case .worklist = traits.algorithm, !traits.walksDeadCode else { return nil }
        let entryDepth = flags & StackDepthTraits.generatorFlags != 0 ? traits.generatorEntryDepth : 0
        // Never more than any array holds (each index below `count` is read from each of them).
        let count = min(
            columns.count, columns.opcodes.count, columns.opargs.count, columns.jumpTargets.count,
            columns.handlers.count)
        guard count > 0 else { return entryDepth }
        return columns.opcodes.withUnsafeBufferPointer { opcodes in
            columns.opargs.withUnsafeBufferPointer { opargs in
                columns.jumpTargets.withUnsafeBufferPointer { jumpTargets in
                    columns.handlers.withUnsafeBufferPointer { handlerIndices in
                        traits.walkSteps.withUnsafeBufferPointer { steps in
                            traits.compactSteps.withUnsafeBufferPointer { compactSteps in
                                let columns = Columns(
                                    opcodes: opcodes, opargs: opargs, jumpTargets: jumpTargets,
                                    handlerIndices: handlerIndices, steps: steps, compactSteps: compactSteps,
                                    count: count, traits: traits)
                                if let depth = straightLine(columns, entryDepth: entryDepth) { return depth }
                                return worklist(columns, handlers: handlers, entryDepth: entryDepth, storage: &storage)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The columns as buffers of at least `count` elements (`steps`, `compactSteps`: 256 rows, one per opcode).
    struct Columns {
        let opcodes: UnsafeBufferPointer<UInt8>
        let opargs: UnsafeBufferPointer<Int>
        let jumpTargets: UnsafeBufferPointer<Int>
        let handlerIndices: UnsafeBufferPointer<Int>
        let steps: UnsafeBufferPointer<StackDepthTraits.WalkStep>
        let compactSteps: UnsafeBufferPointer<StackDepthTraits.CompactStep>
        let count: Int
        let traits: StackDepthTraits

        /// The clamped fall-through effect of instruction `index` (< count), whose opcode's row is `compact`.
        @inline(__always)
        func fallThrough(_ index: Int, _ opcode: UInt8, _ compact: StackDepthTraits.CompactStep) -> Int {
            typealias Step = StackDepthTraits.CompactStep
            if compact.flags & (Step.linear | Step.general) == 0 { return compact.base }
            let oparg = opargs[index]
            if compact.flags & Step.general == 0 {
                let value = compact.base &+ compact.coefficient &* ((oparg &>> Int(compact.shift)) & compact.mask)
                return StackDepthComputation.clamp(value)
            }
            return traits.clampedFallThrough(steps[Int(opcode)], opcode: opcode, oparg: oparg)
        }

        /// The clamped jump effect of instruction `index` (< count).
        @inline(__always)
        func jump(_ index: Int, _ opcode: UInt8) -> Int {
            traits.clampedEffects(steps[Int(opcode)], opcode: opcode, oparg: opargs[index]).jump
        }
    }

    /// The maximum of code whose walk from the entry meets no jump and no handler before an opcode ends it (or the
    /// code does): the entry block is all the worklist walks. Nil at the first instruction that jumps or has a
    /// handler.
    @inline(__always)
    static func straightLine(_ columns: Columns, entryDepth: Int) -> Int? {
        var maxDepth = entryDepth
        var depth = entryDepth
        for index in 0..<columns.count {
            // Any jump, even one leading nowhere, or any handler, even an invalid one: the worklist decides.
            guard columns.jumpTargets[index] == StackDepthColumns.none,
                columns.handlerIndices[index] == StackDepthColumns.none
            else { return nil }
            let opcode = columns.opcodes[index]
            let compact = columns.compactSteps[Int(opcode)]
            let fallThrough = columns.fallThrough(index, opcode, compact)
            if compact.flags & StackDepthTraits.CompactStep.rare != 0 {
                let step = columns.steps[Int(opcode)]
                if step.peak > 0 { maxDepth = max(maxDepth, depth + step.peak) }
                if step.endsPath {
                    return max(maxDepth, StackDepthComputation.clamp(depth + fallThrough))
                }
            }
            // Both within ±depthLimit: no overflow.
            depth = StackDepthComputation.clamp(depth &+ fallThrough)
            maxDepth = max(maxDepth, depth)
        }
        return maxDepth
    }

    /// The worklist's mutable state: the entries, the pending stack of block starts (each at most once, as
    /// `queued` says) and whether a block was walked too often.
    struct Worklist {
        let entries: UnsafeMutableBufferPointer<Entry>
        let pending: UnsafeMutableBufferPointer<Int>
        var top = 0
        var unbounded = false

        /// `stackdepth_push` (``StackDepthComputation/enqueue(_:depth:into:)`` without its reports) of the block
        /// starting at `first`, a leader.
        @inline(__always)
        mutating func enqueue(_ first: Int, _ depth: Int) {
            let known = entries[first].depth
            guard depth > known else { return }
            if !entries[first].queued {
                guard Int(entries[first].walks) < StackDepthComputation.maximumWalksPerBlock else {
                    unbounded = true
                    return
                }
                entries[first].walks += 1
                entries[first].queued = true
                pending[top] = first
                top += 1
            }
            entries[first].depth = depth
        }
    }

    /// The worklist of ``StackDepthComputation/worklist()`` (`stackdepth()`) with blocks named by their first
    /// instruction: the same pushes in the same order, so the same walks and the same maximum.
    static func worklist(
        _ columns: Columns, handlers: [StackDepthHandler], entryDepth: Int, storage: inout StackDepthStorage
    ) -> Int? {
        let count = columns.count
        let none = StackDepthColumns.none
        // One row per instruction and one for the end (a leader, so that each walk stops there); the pending stack
        // holds each block start at most once.
        // Grown as fresh arrays (their contents are stale: cleared or written before read) of at least twice the
        // size, not by appending one repeated element at a time.
        if storage.entries.count < count + 1 {
            storage.entries = [Entry](repeating: .blank, count: max(count + 1, 2 * storage.entries.count))
        } else {
            refillPrefix(&storage.entries, .blank, count: count + 1)
        }
        if storage.pending.count < count {
            storage.pending = [Int](repeating: 0, count: max(count, 2 * storage.pending.count))
        }
        return storage.entries.withUnsafeMutableBufferPointer { entriesBuffer in
            storage.pending.withUnsafeMutableBufferPointer { pendingBuffer in
                // Copies of the (inout) buffer descriptions, which the loops then keep in registers.
                let (entries, pending) = (entriesBuffer, pendingBuffer)
                // Leaders and edges. Every index stored to is below count + 1.
                entries[0] = .blockStart
                entries[count] = .blockStart
                var previousHandler = none
                for index in 0..<count {
                    let target = columns.jumpTargets[index]
                    if target != none {
                        if StackDepthComputation.valid(target, below: count) {
                            (entries[target].depth, entries[target].leader) = (unreached, true)
                            entries[index].edges |= jumps
                        }
                        (entries[index + 1].depth, entries[index + 1].leader) = (unreached, true)
                    }
                    let h = columns.handlerIndices[index]
                    if h != previousHandler {
                        previousHandler = h
                        entries[index].edges |= handlerChanges
                        if let (target, _) = handlerEdge(h, handlers: handlers, count: count) {
                            (entries[target].depth, entries[target].leader) = (unreached, true)
                        }
                    }
                }

                var maxDepth = entryDepth
                var work = Worklist(entries: entries, pending: pending)
                work.enqueue(0, entryDepth)
                while work.top > 0, !work.unbounded {
                    work.top -= 1
                    let first = pending[work.top]
                    entries[first].queued = false
                    var depth = entries[first].depth
                    // The walk pushes a handler edge where the handler index changes, and at the block's start
                    // where it is not none (`pushedHandler` starts as none).
                    if entries[first].edges & handlerChanges == 0,
                        let (target, start) = handlerEdge(
                            columns.handlerIndices[first], handlers: handlers, count: count)
                    {
                        maxDepth = max(maxDepth, start)
                        work.enqueue(target, start)
                    }
                    var index = first
                    var edges = entries[first].edges
                    var fallsThrough = true
                    while true {
                        let opcode = columns.opcodes[index]
                        let compact = columns.compactSteps[Int(opcode)]
                        let fallThrough = columns.fallThrough(index, opcode, compact)
                        if edges != 0 {
                            let deepest = pushEdges(
                                edges, of: index, at: depth, columns, handlers: handlers, into: &work)
                            maxDepth = max(maxDepth, deepest)
                        }
                        if compact.flags & StackDepthTraits.CompactStep.rare != 0 {
                            let step = columns.steps[Int(opcode)]
                            if step.peak > 0 { maxDepth = max(maxDepth, depth + step.peak) }
                            if step.endsPath {
                                maxDepth = max(maxDepth, StackDepthComputation.clamp(depth + fallThrough))
                                fallsThrough = false
                                break
                            }
                        }
                        // Both within ±depthLimit: no overflow.
                        depth = StackDepthComputation.clamp(depth &+ fallThrough)
                        maxDepth = max(maxDepth, depth)
                        index &+= 1  // <= count
                        let next = entries[index]
                        if next.leader { break }
                        edges = next.edges
                    }
                    if fallsThrough, index < count { work.enqueue(index, depth) }
                }
                return work.unbounded ? nil : maxDepth
            }
        }
    }

    /// Pushes the edges leaving instruction `index` (< count), reached with `depth`, whose ``Entry/edges`` are
    /// `edges`: its handler's where the handler index changes, then its jump's; returns the deepest of their depths
    /// (`Int.min` without any). Out of line, so that the walk's loop keeps its registers for instructions without
    /// edges.
    @inline(never)
    static func pushEdges(
        _ edges: UInt8, of index: Int, at depth: Int, _ columns: Columns, handlers: [StackDepthHandler],
        into work: inout Worklist
    ) -> Int {
        var deepest = Int.min
        if edges & handlerChanges != 0,
            let (target, start) = handlerEdge(columns.handlerIndices[index], handlers: handlers, count: columns.count)
        {
            deepest = start
            work.enqueue(target, start)
        }
        let opcode = columns.opcodes[index]
        if edges & jumps != 0, !columns.steps[Int(opcode)].jumpNotWalked {
            let arrival = StackDepthComputation.clamp(depth + columns.jump(index, opcode))
            deepest = max(deepest, arrival)
            work.enqueue(columns.jumpTargets[index], arrival)
        }
        return deepest
    }

    /// The target of handler `h` and the depth it starts at, when `h` is a valid handler index whose entry is valid.
    @inline(__always)
    static func handlerEdge(_ h: Int, handlers: [StackDepthHandler], count: Int) -> (target: Int, depth: Int)? {
        guard StackDepthComputation.valid(h, below: handlers.count) else { return nil }
        let handler = handlers[h]
        guard StackDepthComputation.valid(handler.target, below: count), handler.depth >= 0 else { return nil }
        return (handler.target, StackDepthComputation.clamp(handler.depth) + 1 + (handler.lasti ? 1 : 0))
    }
}
