/// Assembling the editable form back into a code object.
extension PythonVersion {
    /// Assembles `bytecode` (and its nested code objects) into a code object: resolves symbolic
    /// arguments against the code object's tables (new names are appended to `co_names`), lays
    /// out jumps and `EXTENDED_ARG` prefixes to a fixpoint, writes cache units, and encodes the
    /// line table, the exception table and `co_stacksize` as this version's compiler does.
    public func assemble(_ bytecode: Bytecode) throws(BytecodeError) -> CodeObject {
        var statistics = AssemblyStatistics()
        return try assemble(bytecode, statistics: &statistics)
    }

    /// Assembles, counting where the floors of ARCHITECTURE.md "Fidelity" decided a value.
    public func assemble(_ bytecode: Bytecode, statistics: inout AssemblyStatistics) throws(BytecodeError) -> CodeObject {
        var assembler = Assembler(version: self, bytecode: bytecode)
        return try assembler.run(statistics: &statistics).code
    }

    /// Assembles and also returns the layout (instruction offsets), for the verifier and tests.
    func assembleWithLayout(_ bytecode: Bytecode) throws(BytecodeError) -> (code: CodeObject, layout: AssembledLayout) {
        var assembler = Assembler(version: self, bytecode: bytecode)
        var statistics = AssemblyStatistics()
        return try assembler.run(statistics: &statistics)
    }
}

/// What an assembly run computed, and where a remembered floor won over the computed value.
public struct AssemblyStatistics: Sendable, Equatable {
    /// Code objects assembled.
    public var codeObjects = 0
    /// Code objects whose declared stack size (the floor) exceeded the computed requirement.
    public var stackSizeFloors = 0
    /// Instructions written with more EXTENDED_ARG prefixes than their argument needs (the
    /// width floor of an instruction lifted with them).
    public var extendedArgFloors = 0

    public init() {}

    public static func += (a: inout AssemblyStatistics, b: AssemblyStatistics) {
        a.codeObjects += b.codeObjects
        a.stackSizeFloors += b.stackSizeFloors
        a.extendedArgFloors += b.extendedArgFloors
    }
}

/// Where each instruction of an assembled ``Bytecode`` landed.
struct AssembledLayout {
    /// Element index of each instruction.
    var elementIndex: [Int]
    /// Byte offset of each instruction's first prefix.
    var offsets: [Int]
    /// Instruction index each label id points to (== instruction count for a label at the end;
    /// -1 for labels not placed).
    var labels: [Int]
    /// Stack-depth view of the instructions.
    var depthInstructions: [StackDepthInstruction]
    var depthHandlers: [StackDepthHandler]
}

private struct Assembler {
    let version: PythonVersion
    var bytecode: Bytecode
    var codeName: String { bytecode.template.nameText }

    init(version: PythonVersion, bytecode: Bytecode) {
        self.version = version
        self.bytecode = bytecode
    }

    func fail(_ kind: BytecodeError.Kind, at index: Int) -> BytecodeError {
        BytecodeError(kind, at: index, in: codeName)
    }

    /// One instruction being laid out.
    struct Slot {
        var element: Int
        var opcode: UInt8
        /// Resolved argument (jumps: recomputed each round).
        var value: Int
        var jump: Int?  // target instruction index
        var prefixes: Int
        var caches: Int
        var hasArgument: Bool
        var position: SourcePosition
        var block: Int?  // index into `blocks`
        /// Whether the instruction carries `setLinesAtOpcode` (read from its element).
        var hasLinesAtOpcode: Bool
    }

    mutating func run(statistics: inout AssemblyStatistics) throws(BytecodeError) -> (code: CodeObject, layout: AssembledLayout) {
        guard bytecode.version == version else {
            throw fail(.marker("bytecode is for \(bytecode.version), not \(version)"), at: 0)
        }
        let traits = version.instructionTraits
        let editing = version.editingTraits
        let known = editing.known
        let shapes = editing.shapes
        let format = version.lineTableFormat
        var template = bytecode.template
        var resolver = ArgumentEncoder(version: version, template: template, constantCount: bytecode.constants.count)

        // Pass 1: instructions, labels, blocks, line markers.
        var slots: [Slot] = []
        slots.reserveCapacity(bytecode.elements.count)
        var labelIndex = [Int](repeating: -1, count: bytecode.nextLabel)
        var pendingJumps: [(slot: Int, label: Bytecode.Label)] = []
        var blocks: [Bytecode.TryBlock] = []
        var blockIndexById = [Int](repeating: -1, count: bytecode.nextBlock)
        var openBlocks: [Int] = []
        var lineMarkers: [(instruction: Int, line: Int)] = []
        let usesMarkers: Bool
        if case .lnotab = format { usesMarkers = true } else { usesMarkers = false }
        for (e, element) in bytecode.elements.enumerated() {
            switch element {
            case .instruction(let ins):
                guard known[Int(ins.opcode)], ins.opcode != traits.extendedArg else {
                    throw fail(.unknownOpcode(ins.opcode), at: e)
                }
                var slot = Slot(
                    element: e, opcode: ins.opcode, value: 0, jump: nil, prefixes: ins.extendedArgFloor,
                    caches: Int(traits.cacheEntries[Int(ins.opcode)]), hasArgument: traits.hasArgument[Int(ins.opcode)],
                    position: ins.position, block: openBlocks.last, hasLinesAtOpcode: !ins.setLinesAtOpcode.isEmpty)
                if case .label(let l) = ins.argument {
                    guard shapes[Int(ins.opcode)] == .jump else {
                        throw fail(.argumentMismatch(expected: shapes[Int(ins.opcode)], found: "\(ins.argument)"), at: e)
                    }
                    pendingJumps.append((slots.count, l))
                } else {
                    slot.value = try resolver.encode(ins.argument, opcode: ins.opcode, at: e)
                }
                slots.append(slot)
            case .label(let l):
                guard l.id >= 0 else { throw fail(.label("label \(l) has a negative id"), at: e) }
                if l.id >= labelIndex.count { labelIndex += repeatElement(-1, count: l.id + 1 - labelIndex.count) }
                guard labelIndex[l.id] < 0 else { throw fail(.label("label \(l) placed twice"), at: e) }
                labelIndex[l.id] = slots.count
            case .setLine(let line):
                guard usesMarkers else { throw fail(.marker("setLine markers exist only up to 3.9"), at: e) }
                lineMarkers.append((slots.count, line))
            case .tryBegin(let b):
                guard version.hasExceptionTable else { throw fail(.marker("try blocks exist only from 3.11"), at: e) }
                guard b.id >= 0 else { throw fail(.marker("try block \(b.id) has a negative id"), at: e) }
                if b.id >= blockIndexById.count { blockIndexById += repeatElement(-1, count: b.id + 1 - blockIndexById.count) }
                guard blockIndexById[b.id] < 0 else { throw fail(.marker("try block \(b.id) begins twice"), at: e) }
                blockIndexById[b.id] = blocks.count
                openBlocks.append(blocks.count)
                blocks.append(b)
            case .tryEnd(let b):
                guard b.id >= 0, b.id < blockIndexById.count, case let k = blockIndexById[b.id], k >= 0,
                    let at = openBlocks.lastIndex(of: k)
                else {
                    throw fail(.marker("try block \(b.id) ends without beginning"), at: e)
                }
                openBlocks.remove(at: at)
            }
        }
        if let k = openBlocks.last { throw fail(.marker("try block \(blocks[k].id) does not end"), at: bytecode.elements.count) }
        for (s, label) in pendingJumps {
            guard label.id >= 0, label.id < labelIndex.count, case let target = labelIndex[label.id], target >= 0 else {
                throw fail(.label("jump to label \(label) that is not placed"), at: slots[s].element)
            }
            guard target < slots.count else {
                throw fail(.label("jump to label \(label) after the last instruction"), at: slots[s].element)
            }
            slots[s].jump = target
        }
        var handlerTargets: [Int] = []
        for b in blocks {
            guard b.handler.id >= 0, b.handler.id < labelIndex.count, case let target = labelIndex[b.handler.id],
                target >= 0, target < slots.count
            else {
                throw fail(.label("handler label \(b.handler) of try block \(b.id) is not placed before an instruction"), at: 0)
            }
            handlerTargets.append(target)
        }

        // Pass 2: sizes, to a fixpoint (prefixes only ever grow, so this ends).
        let wordcode = version.instructionLayout == .wordcode
        let unit = version.jumpArgumentUnit
        func size(_ s: Slot) -> Int {
            wordcode ? 2 * (s.prefixes + 1 + s.caches) : 3 * s.prefixes + (s.hasArgument ? 3 : 1)
        }
        for i in slots.indices where slots[i].jump == nil {
            slots[i].prefixes = max(slots[i].prefixes, version.extendedArgCount(for: slots[i].value))
        }
        var offsets = [Int](repeating: 0, count: slots.count + 1)
        while true {
            var offset = 0
            for i in slots.indices {
                offsets[i] = offset
                offset += size(slots[i])
            }
            offsets[slots.count] = offset
            var changed = false
            for i in slots.indices {
                guard let t = slots[i].jump, let kind = traits.jumpKind[Int(slots[i].opcode)] else { continue }
                let end = offsets[i] + size(slots[i])
                let distance: Int
                switch kind {
                case .absolute: distance = offsets[t]
                case .forward: distance = offsets[t] - end
                case .backward: distance = end - offsets[t]
                }
                guard distance >= 0, distance % unit == 0 else {
                    throw fail(.label("jump from instruction \(i) cannot reach its target in this direction"), at: slots[i].element)
                }
                slots[i].value = distance / unit
                let need = version.extendedArgCount(for: slots[i].value)
                if need > slots[i].prefixes {
                    slots[i].prefixes = need
                    changed = true
                }
            }
            if !changed { break }
        }
        for s in slots {
            guard s.value >= 0, s.value <= Int(UInt32.max) else { throw fail(.argumentOutOfRange(s.value), at: s.element) }
            if s.prefixes > version.extendedArgCount(for: s.value) { statistics.extendedArgFloors += 1 }
        }

        // Pass 3: bytes.
        var code: [UInt8] = []
        code.reserveCapacity(offsets[slots.count])
        let ext = traits.extendedArg
        for s in slots {
            if wordcode {
                for p in stride(from: s.prefixes, to: 0, by: -1) {
                    code.append(ext)
                    code.append(UInt8(truncatingIfNeeded: s.value >> (8 * p)))
                }
                code.append(s.opcode)
                code.append(UInt8(truncatingIfNeeded: s.value))
                if s.caches > 0 { code.append(contentsOf: repeatElement(0, count: 2 * s.caches)) }
            } else {
                if s.prefixes > 0 {
                    code.append(ext)
                    code.append(UInt8(truncatingIfNeeded: s.value >> 16))
                    code.append(UInt8(truncatingIfNeeded: s.value >> 24))
                }
                code.append(s.opcode)
                if s.hasArgument {
                    code.append(UInt8(truncatingIfNeeded: s.value))
                    code.append(UInt8(truncatingIfNeeded: s.value >> 8))
                }
            }
        }

        // Line table.
        let firstLine = Int(template.firstlineno)
        do {
            switch format {
            case .lnotab(let signed, _):
                var entries: [LnotabEntry] = []
                entries.reserveCapacity(lineMarkers.count)
                var m = 0
                var line = firstLine
                for i in 0...slots.count {
                    while m < lineMarkers.count && lineMarkers[m].instruction == i {
                        line = lineMarkers[m].line
                        entries.append(LnotabEntry(offset: offsets[i], line: line))
                        m += 1
                    }
                    guard i < slots.count else { break }
                    if let l = slots[i].position.line, l != line {
                        line = l
                        entries.append(LnotabEntry(offset: offsets[i], line: l))
                    }
                    let prefixBytes = slots[i].prefixes * (wordcode ? 2 : 3)
                    for l in slots[i].hasLinesAtOpcode ? bytecode.instruction(at: slots[i].element)?.setLinesAtOpcode ?? [] : [] {
                        line = l
                        entries.append(LnotabEntry(offset: offsets[i] + prefixBytes, line: l))
                    }
                }
                template.linetable.value = .bytes(try Lnotab.encode(entries, firstLine: firstLine, signedLineDelta: signed))
            case .linetable310:
                var ranges: [LineRange] = []
                for i in slots.indices {
                    let l = slots[i].position.line
                    if let last = ranges.last, last.line == l {
                        ranges[ranges.count - 1].end = offsets[i + 1]
                    } else {
                        ranges.append(LineRange(start: offsets[i], end: offsets[i + 1], line: l))
                    }
                }
                template.linetable.value = .bytes(try LineTable310.encode(ranges, firstLine: firstLine))
            case .locations(let perInstruction, _, _):
                let runs = slots.indices.map { i in
                    LocationTable.Run(position: slots[i].position, codeUnits: (offsets[i + 1] - offsets[i]) / 2)
                }
                template.linetable.value = .bytes(
                    try LocationTable.encode(runs: runs, firstLine: firstLine, mergingEqualNeighbours: !perInstruction))
            }
        } catch {
            throw fail(.table("\(version.lineTableFieldName): \(error)"), at: 0)
        }

        // Exception table: one entry per run of instructions in the same block.
        if version.hasExceptionTable {
            var entries: [ExceptionTableEntry] = []
            var i = 0
            while i < slots.count {
                guard let k = slots[i].block else {
                    i += 1
                    continue
                }
                var j = i + 1
                while j < slots.count && slots[j].block == k { j += 1 }
                let b = blocks[k]
                entries.append(
                    ExceptionTableEntry(
                        start: offsets[i] / 2, end: offsets[j] / 2, target: offsets[handlerTargets[k]] / 2, depth: b.depth,
                        lasti: b.lasti))
                i = j
            }
            do {
                template.exceptiontable.value = .bytes(try ExceptionTable.encode(entries))
            } catch {
                throw fail(.table("co_exceptiontable: \(error)"), at: 0)
            }
        }

        // Stack depth.
        var depthInstructions: [StackDepthInstruction] = []
        depthInstructions.reserveCapacity(slots.count)
        for s in slots {
            depthInstructions.append(StackDepthInstruction(opcode: s.opcode, oparg: s.value, jumpTarget: s.jump, handler: s.block))
        }
        let depthHandlers = blocks.indices.map { k in
            StackDepthHandler(target: handlerTargets[k], depth: blocks[k].depth, lasti: blocks[k].lasti)
        }
        let needed = version.stackDepth(of: depthInstructions, handlers: depthHandlers, flags: template.flags).maxDepth
        template.stacksize = Int32(clamping: max(needed, bytecode.stackSizeFloor))
        statistics.codeObjects += 1
        if bytecode.stackSizeFloor > needed { statistics.stackSizeFloors += 1 }

        // Tables and constants.
        template.code.value = .bytes(code)
        resolver.store(into: &template)
        var consts: [PyObject] = []
        consts.reserveCapacity(bytecode.constants.count)
        for c in bytecode.constants {
            switch c {
            case .value(let o): consts.append(o)
            case .code(let nested, let encoding):
                consts.append(PyObject(.code(try version.assemble(nested, statistics: &statistics)), encoding: encoding))
            }
        }
        template.consts.value = .tuple(consts)

        let layout = AssembledLayout(
            elementIndex: slots.map(\.element), offsets: offsets, labels: labelIndex,
            depthInstructions: depthInstructions, depthHandlers: depthHandlers)
        return (template, layout)
    }
}

/// Names to indices: a linear scan for small tables, a dictionary built on first use beyond.
struct NameTable {
    private(set) var names: [String]
    private var index: [String: Int]? = nil
    /// Added to every index (free variables after cell variables, ≤3.10).
    let base: Int

    init(_ names: [String], base: Int = 0) {
        self.names = names
        self.base = base
    }

    mutating func lookup(_ name: String) -> Int? {
        if names.count <= 16 && index == nil {
            return names.firstIndex(of: name).map { $0 + base }
        }
        if index == nil {
            var d = [String: Int](minimumCapacity: names.count)
            for (i, n) in names.enumerated() where d[n] == nil { d[n] = i }
            index = d
        }
        return index?[name].map { $0 + base }
    }

    mutating func append(_ name: String) -> Int {
        names.append(name)
        index?[name] = names.count - 1
        return names.count - 1 + base
    }
}

/// Resolves symbolic arguments to numbers against a code object's tables, appending new names.
struct ArgumentEncoder {
    let version: PythonVersion
    let shapes: [ArgumentShape]
    let codeName: String
    let constantCount: Int
    var nameObjects: [PyObject]
    var names: NameTable
    var locals: NameTable
    var cells: NameTable
    var frees: NameTable
    var addedNames = false

    init(version: PythonVersion, template: CodeObject, constantCount: Int) {
        self.version = version
        shapes = version.editingTraits.shapes
        codeName = template.nameText
        self.constantCount = constantCount
        nameObjects = template.names.value.items ?? []
        names = NameTable(nameObjects.map { $0.value.text ?? "" })
        if version.usesLocalsPlus {
            let plus = template.localsplusnames.value.texts
            locals = NameTable(plus)
            var kinds: [UInt8] = []
            if case .bytes(let k) = template.localspluskinds.value { kinds = k }
            // Cells and free variables by name; other slots get a name no identifier has.
            cells = NameTable(plus.enumerated().map { i, n in i < kinds.count && kinds[i] & 0x80 != 0 ? "\u{0}" : n })
            frees = NameTable(plus.enumerated().map { i, n in i < kinds.count && kinds[i] & 0x80 != 0 ? n : "\u{0}" })
        } else {
            locals = NameTable(template.varnames.value.texts)
            let c = template.cellvars.value.texts
            cells = NameTable(c)
            frees = NameTable(template.freevars.value.texts, base: c.count)
        }
    }

    func fail(_ kind: BytecodeError.Kind, _ e: Int) -> BytecodeError { BytecodeError(kind, at: e, in: codeName) }

    mutating func name(_ s: String) -> Int {
        if let i = names.lookup(s) { return i }
        nameObjects.append(version.newName(s))
        addedNames = true
        return names.append(s)
    }

    mutating func encode(_ argument: Bytecode.Argument, opcode: UInt8, at e: Int) throws(BytecodeError) -> Int {
        let shape = shapes[Int(opcode)]
        let codeName = self.codeName
        func variable(_ table: inout NameTable, _ n: String) throws(BytecodeError) -> Int {
            guard let i = table.lookup(n) else { throw BytecodeError(.unknownVariable(n), at: e, in: codeName) }
            return i
        }
        switch (shape, argument) {
        case (.none, .none): return 0
        case (.jump, _): throw fail(.argumentMismatch(expected: shape, found: "\(argument)"), e)
        case (_, .int(let n)):
            guard n >= 0 else { throw fail(.argumentOutOfRange(n), e) }
            return n
        case (.compare, .compare(let n)):
            guard n >= 0 else { throw fail(.argumentOutOfRange(n), e) }
            return n
        case (.constant, .constant(let i)):
            guard i >= 0 && i < constantCount else { throw fail(.indexOutOfRange(what: "constant", index: i), e) }
            return i
        case (.name, .name(let s)): return name(s)
        case (.global, .global(let s, let null)): return name(s) << 1 | (null ? 1 : 0)
        case (.attribute, .attribute(let s, let method)): return name(s) << 1 | (method ? 1 : 0)
        case (.superAttribute, .superAttribute(let s, let two, let method)):
            return name(s) << 2 | (two ? 2 : 0) | (method ? 1 : 0)
        case (.local, .local(let n)): return try variable(&locals, n)
        case (.localPair, .localPair(let a, let b)):
            let i = try variable(&locals, a)
            let j = try variable(&locals, b)
            guard j < 16 else { throw fail(.indexOutOfRange(what: "local of a pair", index: j), e) }
            return i << 4 | j
        case (.cellOrFree, .cell(let n)): return try variable(&cells, n)
        case (.cellOrFree, .free(let n)): return try variable(&frees, n)
        default: throw fail(.argumentMismatch(expected: shape, found: "\(argument)"), e)
        }
    }

    /// Writes `co_names` back when names were added.
    func store(into template: inout CodeObject) {
        if addedNames { template.names.value = .tuple(nameObjects) }
    }
}

extension PythonVersion {
    /// A new identifier as this version's compiler stores it in `co_names`: interned `str`
    /// (2.7: an interned byte string).
    public func newName(_ s: String) -> PyObject {
        var e = MarshalEncoding()
        e.internedHint = true
        return PyObject(major == 2 ? .bytes(Array(s.utf8)) : .str(PyString(s)), encoding: e)
    }
}
