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
        do {
            var out: [ConcreteInstruction] = []
            try decode(code, into: &out)
            return (out, nil)
        } catch {
            var partial: [ConcreteInstruction] = []
            try? decode(code, into: &partial)
            return (partial, error)
        }
    }

    private func decode(_ code: [UInt8], into out: inout [ConcreteInstruction]) throws(ConcreteError) {
        let traits = instructionTraits
        let n = code.count
        switch instructionLayout {
        case .wordcode:
            guard n % 2 == 0 else { throw ConcreteError(.oddCodeLength(n), at: n - 1) }
            out.reserveCapacity(n / 2)
            let resets = noArgumentOpcodeResetsExtendedArg
            let signed = foldedArgumentIsSigned32
            var extended = 0
            var i = 0
            try code.withUnsafeBufferPointer { (b) throws(ConcreteError) in
                while i < n {
                    let op = b[i]
                    let raw = b[i + 1]
                    var oparg: Int? = nil
                    if traits.hasArgument[Int(op)] {
                        var a = Int(raw) | extended
                        if signed { a = Int(Int32(truncatingIfNeeded: a)) }
                        oparg = a
                        extended = op == traits.extendedArg ? (a << 8) & 0xFFFF_FFFF_FF : 0
                    } else if resets {
                        extended = 0
                    }
                    let caches = Int(traits.cacheEntries[Int(op)])
                    guard i + 2 + 2 * caches <= n else { throw ConcreteError(.truncatedInstruction(opcode: op), at: i) }
                    out.append(ConcreteInstruction(offset: i, opcode: op, rawArg: UInt16(raw), oparg: oparg, cacheCount: caches))
                    i += 2 + 2 * caches
                }
            }
        case .variableLength:
            out.reserveCapacity(n / 2)
            var extended = 0
            var i = 0
            try code.withUnsafeBufferPointer { (b) throws(ConcreteError) in
                while i < n {
                    let op = b[i]
                    if traits.hasArgument[Int(op)] {
                        guard i + 3 <= n else { throw ConcreteError(.truncatedInstruction(opcode: op), at: i) }
                        let raw = UInt16(b[i + 1]) | UInt16(b[i + 2]) << 8
                        let a = Int(raw) + extended
                        extended = op == traits.extendedArg ? (a << 16) & 0xFFFF_FFFF_FFFF : 0
                        out.append(ConcreteInstruction(offset: i, opcode: op, rawArg: raw, oparg: a, cacheCount: 0))
                        i += 3
                    } else {
                        out.append(ConcreteInstruction(offset: i, opcode: op, rawArg: 0, oparg: nil, cacheCount: 0))
                        i += 1
                    }
                }
            }
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
        guard let kind = jumpKind(opcode: ins.opcode), let arg = ins.oparg else { return nil }
        let unit = jumpArgumentUnit
        let end = ins.offset + (countingCaches ? size(of: ins) : size(of: ins) - 2 * ins.cacheCount)
        switch kind {
        case .absolute: return arg * unit
        case .forward: return end + arg * unit
        case .backward: return end - arg * unit
        }
    }
}
