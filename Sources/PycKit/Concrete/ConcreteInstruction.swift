/// One instruction of `co_code` exactly as stored: EXTENDED_ARG prefixes are instructions of their
/// own (as `dis` lists them), and 3.11+ inline cache units belong to the instruction before them.
public struct ConcreteInstruction: Sendable, Hashable {
    /// Byte offset of the opcode in `co_code`.
    public var offset: Int
    public var opcode: UInt8
    /// The argument bits this instruction stores itself: 8 bits (wordcode; also kept for opcodes
    /// without an argument, whose byte 3.10 sometimes leaves non-zero) or 16 bits (2.7).
    public var rawArg: UInt16
    /// The argument as `dis` reports it, with the bits of preceding EXTENDED_ARG prefixes folded
    /// in; nil for an opcode without an argument.
    public var oparg: Int?
    /// Inline cache code units after the opcode (3.11+).
    public var cacheCount: Int

    public init(offset: Int, opcode: UInt8, rawArg: UInt16, oparg: Int?, cacheCount: Int) {
        self.offset = offset
        self.opcode = opcode
        self.rawArg = rawArg
        self.oparg = oparg
        self.cacheCount = cacheCount
    }
}

/// Why `co_code` (or a table of a code object) could not be decoded, and where.
public struct ConcreteError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `co_code` is not bytes, or a table field has the wrong type.
        case badField(String)
        /// Wordcode of odd length.
        case oddCodeLength(Int)
        /// An instruction (or its cache units) runs past the end of `co_code`.
        case truncatedInstruction(opcode: UInt8)
        /// A jump whose target lies outside the code.
        case jumpOutOfRange(target: Int)
        /// A line or exception table that cannot be decoded.
        case table(String)
    }

    public var kind: Kind
    /// Byte offset in `co_code` (or in the table, for `.table`).
    public var offset: Int
    /// The code object's qualified name, when known.
    public var codeName: String

    public init(_ kind: Kind, at offset: Int, in codeName: String = "") {
        self.kind = kind
        self.offset = offset
        self.codeName = codeName
    }

    public var description: String {
        let where_ = codeName.isEmpty ? "" : "code object \(codeName): "
        switch kind {
        case .badField(let s): return where_ + s
        case .oddCodeLength(let n): return where_ + "co_code has odd length \(n)"
        case .truncatedInstruction(let op): return where_ + "offset \(offset): instruction with opcode \(op) runs past the end of co_code"
        case .jumpOutOfRange(let t): return where_ + "offset \(offset): jump target \(t) is outside the code"
        case .table(let s): return where_ + "offset \(offset): \(s)"
        }
    }
}

extension PythonVersion {
    /// Decodes `co_code` into instructions the way this version's `dis` walks it
    /// (`_unpack_opargs`): one entry per opcode, EXTENDED_ARG included, caches skipped.
    public func decodeInstructions(_ code: [UInt8]) throws(ConcreteError) -> [ConcreteInstruction] {
        let (out, error) = decodeInstructionsLeniently(code)
        if let error { throw error }
        return out
    }

    /// Decodes as many instructions as possible; returns them with the error that stopped the
    /// decoding, if any (what `dis` can still print of malformed code).
    public func decodeInstructionsLeniently(_ code: [UInt8]) -> ([ConcreteInstruction], ConcreteError?) {
        code.withUnsafeBufferPointer { b in
            var decoder = InstructionDecoder(b, traits: instructionTraits)
            var out: [ConcreteInstruction] = []
            out.reserveCapacity(b.count / 2)
            while let ins = decoder.next() { out.append(ins) }
            return (out, decoder.error)
        }
    }

    /// Encodes instructions back into `co_code`: each instruction's opcode and stored argument
    /// bits, then its cache units (zero, as CPython writes them to `.pyc` files).
    public func encodeInstructions(_ instructions: [ConcreteInstruction]) -> [UInt8] {
        var out: [UInt8] = []
        switch instructionLayout {
        case .wordcode:
            out.reserveCapacity(instructions.reduce(0) { $0 + 2 + 2 * $1.cacheCount })
            for ins in instructions {
                out.append(ins.opcode)
                out.append(UInt8(truncatingIfNeeded: ins.rawArg))
                if ins.cacheCount > 0 { out.append(contentsOf: repeatElement(0, count: 2 * ins.cacheCount)) }
            }
        case .variableLength:
            let traits = instructionTraits
            out.reserveCapacity(instructions.count * 3)
            for ins in instructions {
                out.append(ins.opcode)
                if traits.hasArgument[Int(ins.opcode)] {
                    out.append(UInt8(truncatingIfNeeded: ins.rawArg))
                    out.append(UInt8(truncatingIfNeeded: ins.rawArg >> 8))
                }
            }
        }
        return out
    }

    /// Size in bytes of an instruction: opcode, argument, caches.
    public func size(of ins: ConcreteInstruction) -> Int {
        switch instructionLayout {
        case .wordcode: return 2 + 2 * ins.cacheCount
        case .variableLength: return instructionTraits.hasArgument[Int(ins.opcode)] ? 3 : 1
        }
    }

    /// The jump kind of an opcode in this version, or nil when it does not jump.
    public func jumpKind(opcode: UInt8) -> JumpKind? { instructionTraits.jumpKind[Int(opcode)] }

    /// The byte offset a jump instruction targets (formats.md §3.3): relative jumps count from
    /// the end of the instruction, caches included; nil when the instruction does not jump.
    /// `countingCaches: false` leaves the caches out, as 3.11's `dis` does.
    public func jumpTarget(of ins: ConcreteInstruction, countingCaches: Bool = true) -> Int? {
        instructionTraits.jumpTarget(of: ins, countingCaches: countingCaches)
    }
}

extension InstructionTraits {
    /// `PythonVersion.jumpTarget(of:countingCaches:)` with the traits at hand.
    @inline(__always)
    func jumpTarget(of ins: ConcreteInstruction, countingCaches: Bool) -> Int? {
        guard let kind = jumpKind[Int(ins.opcode)], let arg = ins.oparg else { return nil }
        let size: Int
        switch layout {
        case .wordcode: size = countingCaches ? 2 + 2 * ins.cacheCount : 2
        case .variableLength: size = 3  // every 2.7 jump takes an argument
        }
        let end = ins.offset + size
        switch kind {
        case .absolute: return arg * jumpUnit
        case .forward: return end + arg * jumpUnit
        case .backward: return end - arg * jumpUnit
        }
    }
}

/// Walks `co_code` one instruction at a time the way a version's `dis` does (`_unpack_opargs`):
/// one instruction per opcode, EXTENDED_ARG included, caches skipped. Every read is checked
/// against the length of the code; decoding stops at the first malformed instruction and
/// leaves the reason in `error` (an odd-length wordcode stops before the first one).
struct InstructionDecoder {
    private let code: UnsafeBufferPointer<UInt8>
    /// `InstructionTraits.decodeUnits`.
    private let units: [UInt8]
    private let extendedArg: UInt8
    private let wordcode: Bool
    private let resets: Bool
    private let signed: Bool
    private var offset = 0
    private var extended = 0
    /// Where decoding stopped early, and the opcode there (-1: odd code length). Plain integers
    /// keep the decoder trivial to copy; `error` builds the error.
    private var failure: (offset: Int, opcode: Int)? = nil

    /// Why decoding stopped early, if it did.
    var error: ConcreteError? {
        guard let failure else { return nil }
        if failure.opcode < 0 { return ConcreteError(.oddCodeLength(code.count), at: failure.offset) }
        return ConcreteError(.truncatedInstruction(opcode: UInt8(failure.opcode)), at: failure.offset)
    }

    init(_ code: UnsafeBufferPointer<UInt8>, traits: InstructionTraits) {
        self.code = code
        units = traits.decodeUnits
        extendedArg = traits.extendedArg
        wordcode = traits.layout == .wordcode
        resets = traits.noArgumentOpcodeResetsExtendedArg
        signed = traits.foldedArgumentIsSigned32
        if wordcode && code.count % 2 != 0 {
            failure = (code.count - 1, -1)
            offset = code.count
        }
    }

    /// The next instruction, or nil at the end of the code or at the first malformed one.
    @inline(__always)
    mutating func next() -> ConcreteInstruction? {
        let n = code.count
        let i = offset
        guard i < n else { return nil }
        let op = code[i]
        if wordcode {
            // `n` is even, so the argument byte is there; `i` < `n` and at most 127 cache units
            // follow, so the wrapping arithmetic below never wraps.
            let raw = code[i &+ 1]
            let unit = units[Int(op)]
            var oparg: Int? = nil
            if unit & InstructionTraits.hasArgumentBit != 0 {
                var a = Int(raw) | extended
                if signed { a = Int(Int32(truncatingIfNeeded: a)) }
                oparg = a
                extended = op == extendedArg ? (a &<< 8) & 0xFFFF_FFFF_FF : 0
            } else if resets {
                extended = 0
            }
            let caches = Int(unit & ~InstructionTraits.hasArgumentBit)
            let end = i &+ 2 &+ caches &<< 1
            guard end <= n else {
                failure = (i, Int(op))
                offset = n
                return nil
            }
            offset = end
            return ConcreteInstruction(offset: i, opcode: op, rawArg: UInt16(raw), oparg: oparg, cacheCount: caches)
        }
        if units[Int(op)] & InstructionTraits.hasArgumentBit != 0 {
            guard i + 3 <= n else {
                failure = (i, Int(op))
                offset = n
                return nil
            }
            let raw = UInt16(code[i + 1]) | UInt16(code[i + 2]) << 8
            let a = Int(raw) + extended
            extended = op == extendedArg ? (a << 16) & 0xFFFF_FFFF_FFFF : 0
            offset = i + 3
            return ConcreteInstruction(offset: i, opcode: op, rawArg: raw, oparg: a, cacheCount: 0)
        }
        offset = i + 1
        return ConcreteInstruction(offset: i, opcode: op, rawArg: 0, oparg: nil, cacheCount: 0)
    }
}
