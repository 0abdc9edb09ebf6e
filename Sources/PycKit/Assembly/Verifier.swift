/// The verifier: CPython trusts bytecode and crashes on bad code, so edited code is checked
/// before it is written, and `pyckit verify` checks any `.pyc`.
public struct VerificationFinding: Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the code object (`module.Class.method`).
    public var codePath: String
    /// Byte offset of the instruction concerned, or nil when the finding is not about one.
    public var offset: Int?
    /// The instruction's opcode name, when there is one.
    public var opname: String?
    public var message: String

    public init(codePath: String, offset: Int?, opname: String?, message: String) {
        self.codePath = codePath
        self.offset = offset
        self.opname = opname
        self.message = message
    }

    public var description: String {
        var s = "code object \(codePath)"
        if let offset { s += ", offset \(offset)" }
        if let opname { s += " (\(opname))" }
        return s + ": " + message
    }
}

extension PythonVersion {
    /// Checks a code object and every code object nested in it: that it lifts (jump targets,
    /// line entries and exception entries at instruction starts, known opcodes, argument
    /// indices inside their tables), that every path keeps the stack between 0 and the declared
    /// `co_stacksize` with one depth at every merge point, and that exception entries cover
    /// instructions and point at a handler with a depth the covered code has. Empty: no finding.
    public func verify(_ code: CodeObject) -> [VerificationFinding] {
        var findings: [VerificationFinding] = []
        verify(code, path: "", into: &findings)
        return findings
    }

    private func verify(_ code: CodeObject, path: String, into findings: inout [VerificationFinding]) {
        let here = path.isEmpty ? code.nameText : path + "." + code.nameText
        do {
            let bytecode = try Lifter.liftShallow(version: self, code: code)
            findings += verify(bytecode, declaredStackSize: Int(code.stacksize), path: here)
        } catch {
            findings.append(VerificationFinding(codePath: here, offset: error.index, opname: nil, message: error.description))
        }
        for c in code.constants {
            if case .code(let nested) = c.value { verify(nested, path: here, into: &findings) }
        }
    }

    /// Checks one lifted code object (not its nested ones). `declaredStackSize`: the stack size
    /// the code will carry; nil checks against what the assembler would write.
    public func verify(_ bytecode: Bytecode, declaredStackSize: Int? = nil, path: String? = nil) -> [VerificationFinding] {
        let here = path ?? bytecode.template.nameText
        var shallow = bytecode
        shallow.constants = shallow.constants.map { c in
            if case .code = c { return .value(c.object) }
            return c
        }
        let layout: AssembledLayout
        let assembled: CodeObject
        do {
            (assembled, layout) = try assembleWithLayout(shallow)
        } catch {
            var opname: String? = nil
            if let ins = bytecode.instruction(at: error.index) { opname = bytecode.name(of: ins) }
            return [VerificationFinding(codePath: here, offset: nil, opname: opname, message: error.description)]
        }
        var findings: [VerificationFinding] = []
        func finding(_ instruction: Int?, _ message: String) {
            var offset: Int? = nil
            var opname: String? = nil
            if let i = instruction, i >= 0, i < layout.depthInstructions.count {
                offset = layout.offsets[i]
                opname = opcodes[layout.depthInstructions[i].opcode]?.name
            }
            findings.append(VerificationFinding(codePath: here, offset: offset, opname: opname, message: message))
        }

        // Try blocks must cover at least one instruction.
        var open: [Int: Int] = [:]
        var covered: [Int: Int] = [:]
        var instructionCount = 0
        for element in bytecode.elements {
            switch element {
            case .instruction:
                for k in open.keys { covered[k, default: 0] += 1 }
                instructionCount += 1
            case .tryBegin(let b): open[b.id] = instructionCount
            case .tryEnd(let b):
                if covered[b.id, default: 0] == 0 {
                    finding(instructionCount, "exception entry (handler \(b.handler), depth \(b.depth)) covers no instruction")
                }
                open[b.id] = nil
            default: break
            }
        }

        let (depth, stackFindings) = stackDepth(
            of: layout.depthInstructions, handlers: layout.depthHandlers, flags: bytecode.template.flags)
        for f in stackFindings {
            let text = f.description
            finding(f.instruction, text.firstIndex(of: ":").map { String(text[text.index($0, offsetBy: 2)...]) } ?? text)
        }
        let declared = declaredStackSize ?? Int(assembled.stacksize)
        if depth > declared {
            finding(nil, "the code needs a stack of \(depth) but declares co_stacksize \(declared)")
        }
        return findings
    }
}
