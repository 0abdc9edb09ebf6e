/// The edit API: find instructions, insert, replace and remove them, add constants and names,
/// iterate the return points — keeping what the interpreter relies on intact.
extension Bytecode {
    /// Element indices of the instructions, in order.
    public var instructionIndices: [Int] {
        elements.indices.filter { if case .instruction = elements[$0] { return true } else { return false } }
    }

    /// The instruction at element `index`, or nil when that element is a marker or label.
    public func instruction(at index: Int) -> Instruction? {
        guard elements.indices.contains(index), case .instruction(let ins) = elements[index] else { return nil }
        return ins
    }

    /// Element indices of the instructions with opcode `name` (nil names match nothing).
    public func indices(of name: String) -> [Int] {
        guard let op = version.opcodes[name]?.byte else { return [] }
        return elements.indices.filter { instruction(at: $0)?.opcode == op }
    }

    /// Element indices of every instruction that returns from the function (`RETURN_VALUE`;
    /// 3.12+ `RETURN_CONST` too). Yields are not returns.
    public var returnIndices: [Int] {
        elements.indices.filter { i in instruction(at: i).map { version.isReturn(opcode: $0.opcode) } ?? false }
    }

    /// A new instruction by opcode name, e.g. `try bytecode.make("LOAD_CONST", .constant(i))`.
    public func make(_ name: String, _ argument: Argument = .none, position: SourcePosition = .none) throws(BytecodeError) -> Instruction {
        guard let info = version.opcodes[name], info.kind == .real, let op = info.byte else {
            throw BytecodeError(.marker("\(version) has no opcode \(name)"), at: 0, in: template.nameText)
        }
        return Instruction(opcode: op, argument: argument, position: position)
    }

    /// The opcode name of an instruction in this version.
    public func name(of instruction: Instruction) -> String {
        version.opcodes[instruction.opcode]?.name ?? "<\(instruction.opcode)>"
    }

    /// Inserts `instructions` so that they run just before the instruction at element `index`:
    /// after the labels, line markers and try-block markers in front of it (before its own
    /// `lineAtOpcode` markers, which stay with it). So jumps to that instruction run them first,
    /// they sit in its line entry and exception block, and every instruction without a position
    /// takes the position of the instruction they precede.
    ///
    /// Throws `.wouldSeparate` where the interpreter needs the instruction next to the one
    /// before it (3.11+ `RESUME` after `YIELD_VALUE`, …) or directly at a jump's target (3.12+
    /// `END_FOR` after `FOR_ITER`'s label).
    public mutating func insert(_ instructions: [Instruction], before index: Int) throws(BytecodeError) {
        guard let target = instruction(at: index) else {
            throw BytecodeError(.marker("element \(index) is not an instruction"), at: index, in: template.nameText)
        }
        var previousInstruction: UInt8? = nil
        var exactTarget = false
        let exactLabels = exactTargetLabels()
        var k = index - 1
        while k >= 0 {
            if case .instruction(let p) = elements[k] {
                previousInstruction = p.opcode
                break
            }
            if case .label(let l) = elements[k], exactLabels.contains(l.id) { exactTarget = true }
            k -= 1
        }
        if let p = previousInstruction, version.mustStayAdjacent(previous: p, next: target.opcode) {
            throw BytecodeError(
                .wouldSeparate("\(name(of: target)) must directly follow \(version.opcodes[p]?.name ?? "\(p)")"), at: index,
                in: template.nameText)
        }
        if exactTarget {
            throw BytecodeError(
                .wouldSeparate("\(name(of: target)) must stay at its jump's target label"), at: index, in: template.nameText)
        }
        let placed = instructions.map { ins -> Element in
            var ins = ins
            if ins.position == .none { ins.position = target.position }
            return .instruction(ins)
        }
        var at = index
        while at > 0, case .lineAtOpcode = elements[at - 1] { at -= 1 }
        elements.insert(contentsOf: placed, at: at)
    }

    /// Replaces the instruction at element `index`.
    public mutating func replace(at index: Int, with instruction: Instruction) throws(BytecodeError) {
        guard self.instruction(at: index) != nil else {
            throw BytecodeError(.marker("element \(index) is not an instruction"), at: index, in: template.nameText)
        }
        elements[index] = .instruction(instruction)
    }

    /// Removes the instruction at element `index`; labels and markers stay (a label then names
    /// the next instruction; `lineAtOpcode` markers then belong to the next instruction).
    public mutating func removeInstruction(at index: Int) throws(BytecodeError) {
        guard instruction(at: index) != nil else {
            throw BytecodeError(.marker("element \(index) is not an instruction"), at: index, in: template.nameText)
        }
        elements.remove(at: index)
    }

    /// The pool index of a constant equal to `value` (same type and value, as CPython merges
    /// constants: `0`, `False` and `0.0` stay apart, so do `0.0` and `-0.0`), adding it at the end
    /// when there is none. Code objects are never merged.
    public mutating func addConstant(_ value: PyObject) -> Int {
        if !value.value.isCode {
            for (i, c) in constants.enumerated() {
                if case .value(let o) = c, o.value == value.value { return i }
            }
        }
        constants.append(.value(value))
        return constants.count - 1
    }

    /// Labels that must stay directly on their instruction (targets of 3.12+ `FOR_ITER`).
    func exactTargetLabels() -> Set<Int> {
        var out = Set<Int>()
        for case .instruction(let ins) in elements where version.jumpNeedsExactTarget(opcode: ins.opcode) {
            if case .label(let l) = ins.argument { out.insert(l.id) }
        }
        return out
    }
}
