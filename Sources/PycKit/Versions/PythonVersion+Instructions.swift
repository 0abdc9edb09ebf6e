/// Instruction-encoding traits: how `co_code` is laid out and how jump arguments are read.
extension PythonVersion {
    /// Position of this version in `PythonVersion.all`.
    var index: Int {
        switch (major, minor) {
        case (2, _): return 0
        default: return minor - 5
        }
    }

    /// The opcode table generated from this version's interpreter.
    public var opcodes: OpcodeTable { instructionTraits.opcodes }

    /// Per-version facts the instruction decoder consults on its hot path.
    var instructionTraits: InstructionTraits { InstructionTraits.of(self) }

    /// How instructions are laid out in `co_code` (formats.md §3.1–3.2).
    public var instructionLayout: InstructionLayout { major == 2 ? .variableLength : .wordcode }

    /// Bytes per unit of a jump argument: 1 (byte offsets) up to 3.9, 2 (code units) from 3.10.
    public var jumpArgumentUnit: Int { (major, minor) >= (3, 10) ? 2 : 1 }

    /// Whether `dis` forgets a pending EXTENDED_ARG prefix at an opcode without an argument
    /// (`_unpack_opargs` from 3.10); earlier versions carry it to the next argument.
    public var noArgumentOpcodeResetsExtendedArg: Bool { (major, minor) >= (3, 10) }

    /// Whether `dis` wraps a folded argument of 2**31 or more to a negative number (3.11+).
    public var foldedArgumentIsSigned32: Bool { (major, minor) >= (3, 11) }
}

/// The two `co_code` layouts.
public enum InstructionLayout: Sendable, Equatable {
    /// 2.7: one byte for an opcode below HAVE_ARGUMENT, three (opcode, 16-bit argument) otherwise;
    /// EXTENDED_ARG supplies the high 16 bits.
    case variableLength
    /// 3.6+: two-byte code units (opcode, 8-bit argument); EXTENDED_ARG supplies 8 more bits each.
    case wordcode
}

/// What kind of jump an opcode is, in a given version.
public enum JumpKind: Sendable, Equatable {
    /// Target = argument × unit.
    case absolute
    /// Target = end of the instruction (after its caches) + argument × unit.
    case forward
    /// Target = end of the instruction (after its caches) − argument × unit (3.11+ `JUMP_BACKWARD*`,
    /// 3.11's `POP_JUMP_BACKWARD_IF_*`).
    case backward
}

/// Per-version lookup arrays derived once from the opcode table.
final class InstructionTraits: Sendable {
    let opcodes: OpcodeTable
    let hasArgument: [Bool]
    let cacheEntries: [UInt8]
    let jumpKind: [JumpKind?]
    let extendedArg: UInt8
    /// Per opcode, what the decoder reads of `hasArgument` and `cacheEntries` in one byte:
    /// `hasArgumentBit` or'ed with the cache entry count (below 128 in every release).
    let decodeUnits: [UInt8]
    static let hasArgumentBit: UInt8 = 0x80
    /// The version's `instructionLayout`, `jumpArgumentUnit`, `noArgumentOpcodeResetsExtendedArg`
    /// and `foldedArgumentIsSigned32`, for the decoder.
    let layout: InstructionLayout
    let jumpUnit: Int
    let noArgumentOpcodeResetsExtendedArg: Bool
    let foldedArgumentIsSigned32: Bool

    init(_ version: PythonVersion) {
        guard let table = OpcodeTable.forVersion(major: version.major, minor: version.minor) else {
            preconditionFailure("no opcode table for \(version)")  // every PythonVersion has one
        }
        opcodes = table
        let hasArgument = (0..<256).map { table.hasArgument(opcode: UInt8($0)) }
        let cacheEntries = (0..<256).map { UInt8(clamping: table.cacheEntries(opcode: UInt8($0))) }
        self.hasArgument = hasArgument
        self.cacheEntries = cacheEntries
        jumpKind = (0..<256).map { byte -> JumpKind? in
            guard let info = table[UInt8(byte)] else { return nil }
            if info.categories.contains(.jabs) { return .absolute }
            if info.categories.contains(.jrel) {
                // `dis._is_backward_jump`: the opcode's name contains "JUMP_BACKWARD".
                return info.name.contains("JUMP_BACKWARD") ? .backward : .forward
            }
            return nil
        }
        extendedArg = table.extendedArg
        decodeUnits = (0..<256).map { op in
            precondition(cacheEntries[op] < 0x80, "\(version): too many cache entries for opcode \(op)")
            return (hasArgument[op] ? Self.hasArgumentBit : 0) | cacheEntries[op]
        }
        layout = version.instructionLayout
        jumpUnit = version.jumpArgumentUnit
        noArgumentOpcodeResetsExtendedArg = version.noArgumentOpcodeResetsExtendedArg
        foldedArgumentIsSigned32 = version.foldedArgumentIsSigned32
    }

    /// The traits of `version`, built on first use: a run over one release's files parses no
    /// other release's opcode table.
    static func of(_ version: PythonVersion) -> InstructionTraits {
        version.select(v2_7, v3_6, v3_7, v3_8, v3_9, v3_10, v3_11, v3_12, v3_13)
    }

    private static let v2_7 = InstructionTraits(.v2_7)
    private static let v3_6 = InstructionTraits(.v3_6)
    private static let v3_7 = InstructionTraits(.v3_7)
    private static let v3_8 = InstructionTraits(.v3_8)
    private static let v3_9 = InstructionTraits(.v3_9)
    private static let v3_10 = InstructionTraits(.v3_10)
    private static let v3_11 = InstructionTraits(.v3_11)
    private static let v3_12 = InstructionTraits(.v3_12)
    private static let v3_13 = InstructionTraits(.v3_13)
}
