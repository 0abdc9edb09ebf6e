/// Assembling the editable form back into a code object.
extension PythonVersion {
    /// Assembles `bytecode` (and its nested code objects) into a code object: resolves symbolic
    /// arguments against the code object's tables (new names are appended to `co_names`), lays
    /// out jumps and `EXTENDED_ARG` prefixes to a fixpoint, writes cache units, and encodes the
    /// line table, the exception table and `co_stacksize` as this version's compiler does.
    ///
    /// The bytecode is consumed: when the caller hands over the only reference (its last use),
    /// its elements are moved into the result instead of copied, and freed as they are read.
    public func assemble(_ bytecode: consuming Bytecode) throws(BytecodeError) -> CodeObject {
        var statistics = AssemblyStatistics()
        return try assemble(consume bytecode, statistics: &statistics)
    }

    /// Assembles, counting where the floors of ARCHITECTURE.md "Fidelity" decided a value.
    public func assemble(
        _ bytecode: consuming Bytecode, statistics: inout AssemblyStatistics
    ) throws(BytecodeError) -> CodeObject {
        try assemble(consume bytecode, statistics: &statistics, scratch: AssemblyScratch())
    }

    /// Assembles with working arrays shared by the nested code objects.
    func assemble(
        _ bytecode: consuming Bytecode, statistics: inout AssemblyStatistics, scratch: AssemblyScratch
    ) throws(BytecodeError) -> CodeObject {
        let assembler = Assembler(version: self, codeName: bytecode.template.name)
        return try assembler.run(consume bytecode, statistics: &statistics, layout: false, scratch: scratch).code
    }

    /// Assembles and also returns the layout (instruction offsets), for the verifier and tests.
    func assembleWithLayout(_ bytecode: Bytecode) throws(BytecodeError) -> (code: CodeObject, layout: AssembledLayout) {
        let assembler = Assembler(version: self, codeName: bytecode.template.name)
        var statistics = AssemblyStatistics()
        return try assembler.run(bytecode, statistics: &statistics, layout: true, scratch: AssemblyScratch())
    }
}

/// The assembler's working arrays, reused from one code object to the next (a file's nested code
/// objects are assembled one after the other), so that their memory is allocated once.
final class AssemblyScratch {
    struct Buffers {
        var elementIndex: [Int] = []
        /// Opcodes, resolved arguments, jump targets, blocks.
        var columns = StackDepthColumns()
        var prefixes: [Int] = []
        var positions: [SourcePosition] = []
        var labelIndex: [Int] = []
        var pendingJumps: [(instruction: Int, label: Bytecode.Label)] = []
        var blockIndexById: [Int] = []
        var openBlocks: [Int] = []
        var jumps: [Int] = []
        var handlerTargets: [Int] = []
        var offsets: [Int] = []
        /// Working memory of the location-table writer.
        var locationBytes: [UInt8] = []
        var depthHandlers: [StackDepthHandler] = []
        var depth = StackDepthStorage()
        /// The try blocks in order of their `tryBegin`, and the exception-table entries.
        var blocks: [Bytecode.TryBlock] = []
        var exceptionEntries: [ExceptionTableEntry] = []
    }
    /// Nil while a code object has them (or after a failed one, which does not hand them back).
    private var buffers: Buffers? = Buffers()

    /// The buffers, their lists emptied (their memory kept; the columns hold stale values until
    /// refilled); hand them back with ``give(_:)``.
    func take() -> Buffers {
        // Moved out, not copied (no retain of each array) nor swapped with a fresh set (whose two dozen
        // empty arrays would be made and freed again for each code object).
        var b = buffers.take() ?? Buffers()
        // Only the lists that are appended to are emptied; the columns are refilled where they are sized.
        clear(&b.pendingJumps)
        clear(&b.openBlocks)
        clear(&b.jumps)
        clear(&b.handlerTargets)
        clear(&b.depthHandlers)
        clear(&b.blocks)
        clear(&b.exceptionEntries)
        return b
    }

    func give(_ b: consuming Buffers) { buffers = b }

    /// The argument encoder's name maps (moved out and back like the buffers).
    private var nameSlots = ArgumentEncoder.Slots()

    func takeNameSlots() -> ArgumentEncoder.Slots {
        var s = ArgumentEncoder.Slots()
        swap(&s, &nameSlots)
        return s
    }

    func giveNameSlots(_ s: consuming ArgumentEncoder.Slots) { nameSlots = s }
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
    /// `co_name` of the code object, for errors. (The bytecode itself is a parameter of ``run``: stored
    /// here, each nested code object's ``Bytecode`` would be copied field by field.)
    let codeNameObject: PyObject
    var codeName: String { codeNameObject.value.text ?? "" }

    init(version: PythonVersion, codeName: PyObject) {
        self.version = version
        self.codeNameObject = codeName
    }

    func fail(_ kind: BytecodeError.Kind, at index: Int) -> BytecodeError {
        BytecodeError(kind, at: index, in: codeName)
    }

    /// Assembles; `layout` also fills the stack-depth view of ``AssembledLayout`` (for the verifier).
    func run(
        _ bytecode: consuming Bytecode, statistics: inout AssemblyStatistics, layout wantsLayout: Bool,
        scratch: AssemblyScratch
    ) throws(BytecodeError) -> (code: CodeObject, layout: AssembledLayout) {
        var bytecode = consume bytecode  // its arrays are taken (moved) out below
        guard bytecode.version == version else {
            throw fail(.marker("bytecode is for \(bytecode.version), not \(version)"), at: 0)
        }
        let traits = version.instructionTraits
        let editing = version.editingTraits
        let known = editing.known
        let shapes = editing.shapes
        let cacheEntries = traits.cacheEntries
        let hasArgument = traits.hasArgument
        let jumpKinds = traits.jumpKind
        let format = version.lineTableFormat
        // Moved out, not copied (the bytecode is consumed); immutable while pass 1 reads its tables
        // (passing a `var` to the resolver would copy it for each instruction).
        var movedTemplate = CodeObject()
        swap(&movedTemplate, &bytecode.template)
        let source = consume movedTemplate
        let none = StackDepthColumns.none

        // Pass 1: instructions (one column per field), labels, blocks, line markers.
        var b = scratch.take()
        let constantCount = bytecode.constants.count
        var resolver = ArgumentEncoder(
            version: version, constantCount: constantCount, lifted: bytecode.liftedTables,
            slots: scratch.takeNameSlots())
        // (Elements are plain values: reading one copies its bytes, freeing the list releases nothing.)
        let elementList = taken(&bytecode.elements)
        let elementCount = elementList.count
        // The per-instruction columns, moved out of the scratch buffers and sized for every element
        // to be an instruction, are written through unsafe buffers (no uniqueness or capacity check
        // per write) and cut to the instruction count afterwards.
        var elementIndex = taken(&b.elementIndex)
        var opcodes = taken(&b.columns.opcodes)
        var opargs = taken(&b.columns.opargs)
        var handlers = taken(&b.columns.handlers)
        var prefixes = taken(&b.prefixes)
        var positions = taken(&b.positions)
        // Grown, never refilled nor cut: pass 1 writes every slot below the instruction count before anything
        // reads it, and nothing reads beyond (the stack-depth columns carry the count). Cutting them would make
        // the next larger code object append its slots one by one again.
        grow(&elementIndex, 0, toAtLeast: elementCount)
        grow(&opcodes, 0, toAtLeast: elementCount)
        grow(&opargs, 0, toAtLeast: elementCount)
        grow(&handlers, none, toAtLeast: elementCount)
        grow(&prefixes, 0, toAtLeast: elementCount)
        grow(&positions, .none, toAtLeast: elementCount)
        var count = 0
        refill(&b.labelIndex, -1, count: bytecode.nextLabel)
        refill(&b.blockIndexById, -1, count: bytecode.nextBlock)
        var currentBlock = none
        var lineMarkers: [(instruction: Int, line: Int)] = []
        /// `lineAtOpcode` markers (2.7–3.9, rare): the instruction they belong to, the line.
        var linesAtOpcode: [(instruction: Int, line: Int)] = []
        let usesMarkers: Bool
        if case .lnotab = format { usesMarkers = true } else { usesMarkers = false }
        try elementList.withUnsafeBufferPointer { (elements) throws(BytecodeError) in
            try elementIndex.withUnsafeMutableBufferPointer { (elementIndexOut) throws(BytecodeError) in
                try opcodes.withUnsafeMutableBufferPointer { (opcodesOut) throws(BytecodeError) in
                    try opargs.withUnsafeMutableBufferPointer { (opargsOut) throws(BytecodeError) in
                        try handlers.withUnsafeMutableBufferPointer { (handlersOut) throws(BytecodeError) in
                            try prefixes.withUnsafeMutableBufferPointer { (prefixesOut) throws(BytecodeError) in
                                try positions.withUnsafeMutableBufferPointer { (positionsOut) throws(BytecodeError) in
                                    for e in elements.indices {
                                        switch elements[e] {
                                        case .instruction(let ins):
                                            let opcode = ins.opcode
                                            guard known[Int(opcode)], opcode != traits.extendedArg else {
                                                throw fail(.unknownOpcode(opcode), at: e)
                                            }
                                            let i = count
                                            let value: Int
                                            let shape = shapes[Int(opcode)]
                                            // The common plain arguments inline, as `ArgumentEncoder.encode` resolves
                                            // them; anything else (and every mismatch, for its error) through it.
                                            switch ins.argument {
                                            case .label(let l):
                                                guard shape == .jump else {
                                                    throw fail(
                                                        .argumentMismatch(expected: shape, found: "\(ins.argument)"),
                                                        at: e)
                                                }
                                                b.pendingJumps.append((i, l))
                                                value = 0
                                            case .none where shape == .none: value = 0
                                            case .int(let n) where n >= 0 && shape != .jump: value = n
                                            case .constant(let k) where shape == .constant && k >= 0 && k < constantCount:
                                                value = k
                                            default:
                                                value = try resolver.encode(
                                                    ins.argument, opcode: opcode, at: e, in: source)
                                            }
                                            // (A jump's width is settled in pass 2.)
                                            prefixesOut[i] = max(
                                                ins.extendedArgFloor, version.extendedArgCount(for: value))
                                            elementIndexOut[i] = e
                                            opcodesOut[i] = opcode
                                            opargsOut[i] = value
                                            handlersOut[i] = currentBlock
                                            positionsOut[i] = ins.position
                                            count += 1
                                        case .label(let l):
                                            guard l.id >= 0 else {
                                                throw fail(.label("label \(l) has a negative id"), at: e)
                                            }
                                            if l.id >= b.labelIndex.count {
                                                b.labelIndex += repeatElement(-1, count: l.id + 1 - b.labelIndex.count)
                                            }
                                            guard b.labelIndex[l.id] < 0 else {
                                                throw fail(.label("label \(l) placed twice"), at: e)
                                            }
                                            b.labelIndex[l.id] = count
                                        case .setLine(let line):
                                            guard usesMarkers else {
                                                throw fail(.marker("setLine markers exist only up to 3.9"), at: e)
                                            }
                                            lineMarkers.append((count, line))
                                        case .lineAtOpcode(let line):
                                            guard usesMarkers else {
                                                throw fail(.marker("lineAtOpcode markers exist only up to 3.9"), at: e)
                                            }
                                            linesAtOpcode.append((count, line))
                                        case .tryBegin(let block):
                                            guard version.hasExceptionTable else {
                                                throw fail(.marker("try blocks exist only from 3.11"), at: e)
                                            }
                                            guard block.id >= 0 else {
                                                throw fail(.marker("try block \(block.id) has a negative id"), at: e)
                                            }
                                            if block.id >= b.blockIndexById.count {
                                                b.blockIndexById += repeatElement(
                                                    -1, count: block.id + 1 - b.blockIndexById.count)
                                            }
                                            guard b.blockIndexById[block.id] < 0 else {
                                                throw fail(.marker("try block \(block.id) begins twice"), at: e)
                                            }
                                            b.blockIndexById[block.id] = b.blocks.count
                                            b.openBlocks.append(b.blocks.count)
                                            currentBlock = b.blocks.count
                                            b.blocks.append(block)
                                        case .tryEnd(let block):
                                            guard block.id >= 0, block.id < b.blockIndexById.count,
                                                case let k = b.blockIndexById[block.id], k >= 0,
                                                let at = b.openBlocks.lastIndex(of: k)
                                            else {
                                                throw fail(
                                                    .marker("try block \(block.id) ends without beginning"), at: e)
                                            }
                                            b.openBlocks.remove(at: at)
                                            currentBlock = b.openBlocks.last ?? none
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Hand the columns back (the first `count` slots are the instructions').
        b.columns.count = count
        // Swapped back, not assigned: a local still holding a buffer would make it shared, and the
        // nested code objects would then allocate fresh ones instead of reusing it.
        swap(&b.elementIndex, &elementIndex)
        swap(&b.columns.opcodes, &opcodes)
        swap(&b.columns.opargs, &opargs)
        swap(&b.columns.handlers, &handlers)
        swap(&b.prefixes, &prefixes)
        swap(&b.positions, &positions)
        // Refilled in place up to `count` only, and never cut (see the columns above).
        var jumpTargets = taken(&b.columns.jumpTargets)
        refillPrefix(&jumpTargets, none, count: count)
        swap(&b.columns.jumpTargets, &jumpTargets)
        if let k = b.openBlocks.last { throw fail(.marker("try block \(b.blocks[k].id) does not end"), at: elementCount) }
        if let last = linesAtOpcode.last, last.instruction == count {
            throw fail(.marker("lineAtOpcode marker not followed by an instruction"), at: elementCount)
        }
        for (s, label) in b.pendingJumps {
            guard label.id >= 0, label.id < b.labelIndex.count, case let target = b.labelIndex[label.id], target >= 0
            else {
                throw fail(.label("jump to label \(label) that is not placed"), at: b.elementIndex[s])
            }
            guard target < count else {
                throw fail(.label("jump to label \(label) after the last instruction"), at: b.elementIndex[s])
            }
            b.columns.jumpTargets[s] = target
            if jumpKinds[Int(b.columns.opcodes[s])] != nil { b.jumps.append(s) }
        }
        for block in b.blocks {
            guard block.handler.id >= 0, block.handler.id < b.labelIndex.count,
                case let target = b.labelIndex[block.handler.id],
                target >= 0, target < count
            else {
                throw fail(
                    .label(
                        "handler label \(block.handler) of try block \(block.id) is not placed before an instruction"),
                    at: 0)
            }
            b.handlerTargets.append(target)
        }

        var template = consume source

        // Pass 2: sizes, to a fixpoint (prefixes only ever grow, so this ends).
        let wordcode = version.instructionLayout == .wordcode
        let unit = version.jumpArgumentUnit
        // (Non-jumps got their widths in pass 1.)
        var offsets = taken(&b.offsets)
        grow(&offsets, 0, toAtLeast: count + 1)  // slots 0...count written by each round below, none read beyond
        var widths = taken(&b.prefixes)
        var opcodeColumn = taken(&b.columns.opcodes)
        while true {
            offsets.withUnsafeMutableBufferPointer { offsets in
                opcodeColumn.withUnsafeBufferPointer { opcodes in
                    widths.withUnsafeBufferPointer { prefixes in
                        var offset = 0
                        for i in 0..<count {
                            offsets[i] = offset
                            let opcode = Int(opcodes[i])
                            offset +=
                                wordcode
                                ? 2 * (prefixes[i] + 1 + Int(cacheEntries[opcode]))
                                : 3 * prefixes[i] + (hasArgument[opcode] ? 3 : 1)
                        }
                        offsets[count] = offset
                    }
                }
            }
            var changed = false
            for i in b.jumps {
                guard let kind = jumpKinds[Int(opcodeColumn[i])] else { continue }
                let t = b.columns.jumpTargets[i]
                let end = offsets[i + 1]
                let distance: Int
                switch kind {
                case .absolute: distance = offsets[t]
                case .forward: distance = offsets[t] - end
                case .backward: distance = end - offsets[t]
                }
                guard distance >= 0, distance % unit == 0 else {
                    throw fail(
                        .label("jump from instruction \(i) cannot reach its target in this direction"),
                        at: b.elementIndex[i])
                }
                b.columns.opargs[i] = distance / unit
                let need = version.extendedArgCount(for: b.columns.opargs[i])
                if need > widths[i] {
                    widths[i] = need
                    changed = true
                }
            }
            if !changed { break }
        }
        swap(&b.offsets, &offsets)
        swap(&b.prefixes, &widths)
        swap(&b.columns.opcodes, &opcodeColumn)
        for i in 0..<count {
            let value = b.columns.opargs[i]
            guard value >= 0, value <= Int(UInt32.max) else {
                throw fail(.argumentOutOfRange(value), at: b.elementIndex[i])
            }
            if b.prefixes[i] > version.extendedArgCount(for: value) { statistics.extendedArgFloors += 1 }
        }

        // Pass 3: bytes.
        let ext = traits.extendedArg
        let code = [UInt8](unsafeUninitializedCapacity: b.offsets[count]) {
            [opargs = b.columns.opargs, opcodes = b.columns.opcodes, prefixes = b.prefixes] buffer, written in
            // Cache units are zeros: the whole buffer is zeroed at once (one memset) and the cache bytes skipped,
            // instead of storing them one by one.
            if wordcode { buffer.initialize(repeating: 0) }
            var o = 0
            for i in 0..<count {
                let value = opargs[i]
                let opcode = opcodes[i]
                if wordcode {
                    for p in stride(from: prefixes[i], to: 0, by: -1) {
                        buffer[o] = ext
                        buffer[o + 1] = UInt8(truncatingIfNeeded: value >> (8 * p))
                        o += 2
                    }
                    buffer[o] = opcode
                    buffer[o + 1] = UInt8(truncatingIfNeeded: value)
                    o += 2 + 2 * Int(cacheEntries[Int(opcode)])
                } else {
                    if prefixes[i] > 0 {
                        buffer[o] = ext
                        buffer[o + 1] = UInt8(truncatingIfNeeded: value >> 16)
                        buffer[o + 2] = UInt8(truncatingIfNeeded: value >> 24)
                        o += 3
                    }
                    buffer[o] = opcode
                    o += 1
                    if hasArgument[Int(opcode)] {
                        buffer[o] = UInt8(truncatingIfNeeded: value)
                        buffer[o + 1] = UInt8(truncatingIfNeeded: value >> 8)
                        o += 2
                    }
                }
            }
            written = o
        }

        // Line table.
        let firstLine = Int(template.firstlineno)
        do {
            switch format {
            case .lnotab(let signed, _):
                var entries: [LnotabEntry] = []
                entries.reserveCapacity(lineMarkers.count)
                var m = 0
                var a = 0
                var line = firstLine
                for i in 0...count {
                    while m < lineMarkers.count && lineMarkers[m].instruction == i {
                        line = lineMarkers[m].line
                        entries.append(LnotabEntry(offset: b.offsets[i], line: line))
                        m += 1
                    }
                    guard i < count else { break }
                    if let l = b.positions[i].line, l != line {
                        line = l
                        entries.append(LnotabEntry(offset: b.offsets[i], line: l))
                    }
                    while a < linesAtOpcode.count && linesAtOpcode[a].instruction == i {
                        let prefixBytes = b.prefixes[i] * (wordcode ? 2 : 3)
                        line = linesAtOpcode[a].line
                        entries.append(LnotabEntry(offset: b.offsets[i] + prefixBytes, line: line))
                        a += 1
                    }
                }
                template.linetable.value = .bytes(
                    try Lnotab.encode(entries, firstLine: firstLine, signedLineDelta: signed))
            case .linetable310:
                var ranges: [LineRange] = []
                for i in 0..<count {
                    let l = b.positions[i].line
                    if let last = ranges.last, last.line == l {
                        ranges[ranges.count - 1].end = b.offsets[i + 1]
                    } else {
                        ranges.append(LineRange(start: b.offsets[i], end: b.offsets[i + 1], line: l))
                    }
                }
                template.linetable.value = .bytes(try LineTable310.encode(ranges, firstLine: firstLine))
            case .locations(let perInstruction, _, _):
                // One run per instruction, read straight from the columns (no array of runs).
                let table = try b.positions.withUnsafeBufferPointer { (positions) throws(LineTableError) in
                    try b.offsets.withUnsafeBufferPointer { (offsets) throws(LineTableError) in
                        try LocationTable.encode(
                            runCount: count, codeUnits: offsets[count] / 2, firstLine: firstLine,
                            mergingEqualNeighbours: !perInstruction, storage: &b.locationBytes
                        ) {
                            LocationTable.Run(position: positions[$0], codeUnits: (offsets[$0 + 1] - offsets[$0]) / 2)
                        }
                    }
                }
                template.linetable.value = .bytes(table)
            }
        } catch {
            throw fail(.table("\(version.lineTableFieldName): \(error)"), at: 0)
        }

        // Exception table: one entry per run of instructions in the same block.
        if version.hasExceptionTable {
            var entries = taken(&b.exceptionEntries)
            defer { swap(&b.exceptionEntries, &entries) }
            var i = 0
            while i < count {
                let k = b.columns.handlers[i]
                guard k != none else {
                    i += 1
                    continue
                }
                var j = i + 1
                while j < count && b.columns.handlers[j] == k { j += 1 }
                let block = b.blocks[k]
                entries.append(
                    ExceptionTableEntry(
                        start: b.offsets[i] / 2, end: b.offsets[j] / 2, target: b.offsets[b.handlerTargets[k]] / 2,
                        depth: block.depth, lasti: block.lasti))
                i = j
            }
            do {
                template.exceptiontable.value = .bytes(try ExceptionTable.encode(entries))
            } catch {
                throw fail(.table("co_exceptiontable: \(error)"), at: 0)
            }
        }

        // Stack depth.
        for k in b.blocks.indices {
            b.depthHandlers.append(
                StackDepthHandler(target: b.handlerTargets[k], depth: b.blocks[k].depth, lasti: b.blocks[k].lasti))
        }
        let needed = version.maxStackDepth(
            of: b.columns, handlers: b.depthHandlers, flags: template.flags, storage: &b.depth)
        template.stacksize = Int32(clamping: max(needed, bytecode.stackSizeFloor))
        statistics.codeObjects += 1
        if bytecode.stackSizeFloor > needed { statistics.stackSizeFloors += 1 }

        var layout = AssembledLayout(
            elementIndex: [], offsets: [], labels: [], depthInstructions: [], depthHandlers: [])
        if wantsLayout {
            layout = AssembledLayout(
                elementIndex: (0..<count).map { b.elementIndex[$0] }, offsets: (0...count).map { b.offsets[$0] },
                labels: Array(b.labelIndex),
                depthInstructions: (0..<count).map { i in
                    StackDepthInstruction(
                        opcode: b.columns.opcodes[i], oparg: b.columns.opargs[i],
                        jumpTarget: b.columns.jumpTargets[i] == none ? nil : b.columns.jumpTargets[i],
                        handler: b.columns.handlers[i] == none ? nil : b.columns.handlers[i])
                },
                depthHandlers: Array(b.depthHandlers))
        }
        resolver.store(into: &template)
        scratch.giveNameSlots(resolver.takeSlots())
        scratch.give(consume b)  // the nested code objects reuse the buffers

        // Tables and constants.
        template.code.value = .bytes(code)
        var consts: [PyObject] = []
        var constants = taken(&bytecode.constants)
        consts.reserveCapacity(constants.count)
        // Moved out like the elements, so that each nested bytecode is consumed in turn.
        try constants.withUnsafeMutableBufferPointer { (constants) throws(BytecodeError) in
            for k in constants.indices {
                let slot = constants.baseAddress.unsafelyUnwrapped + k  // k < count
                switch Self.unboxed(slot.move()) {
                case .value(let o): consts.append(o)
                case .code(let nested, let encoding):
                    consts.append(
                        PyObject(
                            .code(try version.assemble(consume nested, statistics: &statistics, scratch: scratch)),
                            encoding: encoding))
                }
                slot.initialize(to: .value(.none))
            }
        }
        template.consts.value = .tuple(consts)
        return (template, layout)
    }
}

extension Assembler {
    /// A constant, its nested bytecode (if any) moved out of the enum's box.
    enum Unboxed: ~Copyable {
        case value(PyObject)
        case code(Bytecode, encoding: MarshalEncoding)
    }

    /// `constant` with its nested bytecode out of the box, which is freed when this returns: the
    /// bytecode is then the only owner of its lists, and the assembler takes them over instead of
    /// copying them (as it would while the box still shares them).
    static func unboxed(_ constant: consuming Bytecode.Constant) -> Unboxed {
        switch consume constant {
        case .value(let o): return .value(o)
        case .code(let b, let e): return .code(b, encoding: e)
        }
    }
}

/// Resolves symbolic arguments to numbers against a code object's tables, appending new names.
/// Each table is read from the template when an argument first needs it, as a map from name
/// number to slot (the lifted names of the slots when the table is the one lifted, else each
/// slot's name looked up in the ``NamePool``).
struct ArgumentEncoder {
    /// The maps of one code object's tables, kept in the assembler's scratch between code objects.
    struct Slots {
        var names = NameSlots()
        var locals = NameSlots()
        var cells = NameSlots()
        var frees = NameSlots()
    }

    let version: PythonVersion
    let shapes: [ArgumentShape]
    let constantCount: Int
    var nameObjects: [PyObject] = []
    private var slots: Slots
    private var haveNames = false
    private var haveVariables = false
    /// `co_names`' length, with the names added.
    private var nameCount = 0
    var addedNames = false
    /// The lifter's tables.
    private let lifted: LiftedTables

    /// The tables are those of the template each ``encode(_:opcode:at:in:)`` call passes (always the
    /// same one: it is a parameter, not a stored copy, so that no code object is copied field by field).
    init(version: PythonVersion, constantCount: Int, lifted: LiftedTables = LiftedTables(), slots: Slots) {
        self.version = version
        shapes = version.editingTraits.shapes
        self.constantCount = constantCount
        self.lifted = lifted
        self.slots = slots
    }

    func fail(_ kind: BytecodeError.Kind, _ e: Int, _ template: CodeObject) -> BytecodeError {
        BytecodeError(kind, at: e, in: template.nameText)
    }

    /// The maps, moved out (for the next code object; unique, so that it writes them in place).
    mutating func takeSlots() -> Slots {
        var out = Slots()
        swap(&out, &slots)
        return out
    }

    /// The names of a table's slots: as lifted when `tuple` is the lifted one, else looked up.
    private func names(_ tuple: PyObject, lifted: LiftedTable?, at e: Int, _ template: CodeObject)
        throws(BytecodeError) -> [Name]
    {
        if let names = lifted?.names(ifLiftedFrom: tuple) { return names }
        var names: [Name] = []
        for item in tuple.value.items ?? [] {
            guard let n = NameKey.name(item) else { throw fail(.namePoolFull, e, template) }
            names.append(n)
        }
        return names
    }

    mutating func name(_ s: Name, at e: Int, _ template: CodeObject) throws(BytecodeError) -> Int {
        if !haveNames {
            let names = try names(template.names, lifted: lifted.names, at: e, template)
            slots.names.reset(capacity: names.count)
            for (i, n) in names.enumerated() { slots.names.enter(n, slot: i) }
            nameCount = names.count
            haveNames = true
        }
        if let i = slots.names.find(s) { return i }
        if !addedNames { nameObjects = template.names.value.items ?? [] }
        nameObjects.append(version.newName(s.text))
        addedNames = true
        slots.names.enter(s, slot: nameCount)
        nameCount += 1
        return nameCount - 1
    }

    private mutating func buildVariableTables(at e: Int, _ template: CodeObject) throws(BytecodeError) {
        if version.usesLocalsPlus {
            let plus = try names(template.localsplusnames, lifted: lifted.locals, at: e, template)
            slots.locals.reset(capacity: plus.count)
            slots.cells.reset(capacity: plus.count)
            slots.frees.reset(capacity: plus.count)
            var kinds: [UInt8] = []
            if case .bytes(let k) = template.localspluskinds.value { kinds = k }
            // Every slot is a local by name; cells and free variables by their kind.
            for (i, n) in plus.enumerated() {
                slots.locals.enter(n, slot: i)
                if i < kinds.count && kinds[i] & 0x80 != 0 {
                    slots.frees.enter(n, slot: i)
                } else {
                    slots.cells.enter(n, slot: i)
                }
            }
        } else {
            let v = try names(template.varnames, lifted: lifted.locals, at: e, template)
            let c = try names(template.cellvars, lifted: nil, at: e, template)
            let f = try names(template.freevars, lifted: nil, at: e, template)
            slots.locals.reset(capacity: v.count)
            slots.cells.reset(capacity: c.count)
            slots.frees.reset(capacity: f.count)
            for (i, n) in v.enumerated() { slots.locals.enter(n, slot: i) }
            for (i, n) in c.enumerated() { slots.cells.enter(n, slot: i) }
            // Free variables are numbered after the cell variables.
            for (i, n) in f.enumerated() { slots.frees.enter(n, slot: c.count + i) }
        }
        haveVariables = true
    }

    private enum VariableTable { case locals, cells, frees }

    private mutating func variable(
        _ table: VariableTable, _ n: Name, at e: Int, _ template: CodeObject
    ) throws(BytecodeError) -> Int {
        if !haveVariables { try buildVariableTables(at: e, template) }
        let found: Int?
        switch table {
        case .locals: found = slots.locals.find(n)
        case .cells: found = slots.cells.find(n)
        case .frees: found = slots.frees.find(n)
        }
        guard let i = found else { throw fail(.unknownVariable(n.text), e, template) }
        return i
    }

    mutating func encode(
        _ argument: Bytecode.Argument, opcode: UInt8, at e: Int, in template: CodeObject
    ) throws(BytecodeError) -> Int {
        let shape = shapes[Int(opcode)]
        func mismatch() -> BytecodeError { fail(.argumentMismatch(expected: shape, found: "\(argument)"), e, template) }
        guard shape != .jump else { throw mismatch() }
        switch argument {
        case .none:
            guard shape == .none else { throw mismatch() }
            return 0
        case .int(let n):
            guard n >= 0 else { throw fail(.argumentOutOfRange(n), e, template) }
            return n
        case .compare(let n):
            guard shape == .compare else { throw mismatch() }
            guard n >= 0 else { throw fail(.argumentOutOfRange(n), e, template) }
            return n
        case .constant(let i):
            guard shape == .constant else { throw mismatch() }
            guard i >= 0 && i < constantCount else {
                throw fail(.indexOutOfRange(what: "constant", index: i), e, template)
            }
            return i
        case .name(let s):
            guard shape == .name else { throw mismatch() }
            return try name(s, at: e, template)
        case .global(let s, let null):
            guard shape == .global else { throw mismatch() }
            return try name(s, at: e, template) << 1 | (null ? 1 : 0)
        case .attribute(let s, let method):
            guard shape == .attribute else { throw mismatch() }
            return try name(s, at: e, template) << 1 | (method ? 1 : 0)
        case .superAttribute(let s, let two, let method):
            guard shape == .superAttribute else { throw mismatch() }
            return try name(s, at: e, template) << 2 | (two ? 2 : 0) | (method ? 1 : 0)
        case .local(let n):
            guard shape == .local else { throw mismatch() }
            return try variable(.locals, n, at: e, template)
        case .localPair(let a, let b):
            guard shape == .localPair else { throw mismatch() }
            let i = try variable(.locals, a, at: e, template)
            let j = try variable(.locals, b, at: e, template)
            guard j < 16 else { throw fail(.indexOutOfRange(what: "local of a pair", index: j), e, template) }
            return i << 4 | j
        case .cell(let n):
            guard shape == .cellOrFree else { throw mismatch() }
            return try variable(.cells, n, at: e, template)
        case .free(let n):
            guard shape == .cellOrFree else { throw mismatch() }
            return try variable(.frees, n, at: e, template)
        case .label:
            throw mismatch()
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
