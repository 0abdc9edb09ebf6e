/// Lifting a code object into the editable form.
extension PythonVersion {
    /// Lifts `code` (and every code object nested in its constants) into a ``Bytecode``.
    ///
    /// `EXTENDED_ARG` prefixes fold into the instruction they prefix (their count becomes the
    /// instruction's width floor); jump targets become labels; `co_lnotab` entries become
    /// `setLine` markers (2.7–3.9), line ranges and locations become instruction positions
    /// (3.10+), and exception-table entries become try blocks (3.11+).
    public func lift(_ code: CodeObject) throws(BytecodeError) -> Bytecode {
        try Lifter(version: self, code: code, nested: true, scratch: LiftScratch()).lift()
    }
}

/// The lifter's working arrays, reused from one code object to the next (a file's nested code
/// objects are lifted one after the other), so that their memory is allocated once.
final class LiftScratch {
    struct Buffers {
        var folded: [FoldedInstruction] = []
        var indexAt: [Int32] = []
        var jumpTarget: [Int] = []
        var labelAt: [Int] = []
        var positions: [SourcePosition] = []
    }
    private var buffers = Buffers()

    /// The buffers, emptied (their memory kept); hand them back with ``give(_:)``.
    func take() -> Buffers {
        var b = buffers
        buffers = Buffers()
        b.folded.removeAll(keepingCapacity: true)
        b.indexAt.removeAll(keepingCapacity: true)
        b.jumpTarget.removeAll(keepingCapacity: true)
        b.labelAt.removeAll(keepingCapacity: true)
        b.positions.removeAll(keepingCapacity: true)
        return b
    }

    func give(_ b: Buffers) { buffers = b }
}

/// One instruction with its prefixes folded, as found in `co_code`.
struct FoldedInstruction {
    /// Offset of the first EXTENDED_ARG prefix (or of the opcode when there is none).
    var start: Int
    /// The opcode itself (the last concrete instruction of the group).
    var op: ConcreteInstruction
    /// The argument bits of the prefixes and the opcode, concatenated.
    var value: Int
    var prefixes: Int
    var size: Int
}

struct Lifter {
    let version: PythonVersion
    let code: CodeObject
    /// Whether nested code objects are lifted too (otherwise they stay plain constants).
    let nested: Bool
    let scratch: LiftScratch

    /// Lifts one code object, leaving nested code objects as plain constants.
    static func liftShallow(version: PythonVersion, code: CodeObject) throws(BytecodeError) -> Bytecode {
        try Lifter(version: version, code: code, nested: false, scratch: LiftScratch()).lift()
    }
    var codeName: String { code.nameText }

    func fail(_ kind: BytecodeError.Kind, at offset: Int) -> BytecodeError {
        BytecodeError(kind, at: offset, in: codeName)
    }

    func fold(_ concrete: [ConcreteInstruction], into out: inout [FoldedInstruction]) throws(BytecodeError) {
        let ext = version.instructionTraits.extendedArg
        let bits = version.instructionLayout == .wordcode ? 8 : 16
        out.reserveCapacity(concrete.count)
        var start = -1
        var value = 0
        var prefixes = 0
        var size = 0
        for ins in concrete {
            if start < 0 { start = ins.offset }
            value = (value << bits) | Int(ins.rawArg)
            size += version.size(of: ins)
            if ins.opcode == ext {
                prefixes += 1
                // CPython writes at most 3 prefixes (wordcode: 32-bit arguments) or 1 (2.7).
                guard prefixes <= (bits == 8 ? 3 : 1) else {
                    throw fail(.argumentOutOfRange(value), at: ins.offset)
                }
                continue
            }
            out.append(FoldedInstruction(start: start, op: ins, value: value, prefixes: prefixes, size: size))
            start = -1
            value = 0
            prefixes = 0
            size = 0
        }
        if start >= 0 { throw fail(.targetInsideInstruction(what: "trailing EXTENDED_ARG", offset: start), at: start) }
    }

    func lift() throws(BytecodeError) -> Bytecode {
        guard case .bytes(let bytes) = code.code.value else {
            throw fail(.concrete(ConcreteError(.badField("co_code is not bytes"), at: 0, in: codeName)), at: 0)
        }
        let concrete: [ConcreteInstruction]
        do {
            concrete = try version.decodeInstructions(bytes)
        } catch {
            var e = error
            e.codeName = codeName
            throw fail(.concrete(e), at: e.offset)
        }
        var buffers = scratch.take()
        try fold(concrete, into: &buffers.folded)
        let folded = buffers.folded
        let codeLength = bytes.count

        // Instruction index by start offset.
        var indexAt: [Int32] = []
        swap(&indexAt, &buffers.indexAt)  // unique, so that appending reuses its memory
        indexAt.append(contentsOf: repeatElement(-1, count: codeLength + 1))
        for (i, f) in folded.enumerated() { indexAt[f.start] = Int32(i) }
        indexAt[codeLength] = Int32(folded.count)
        func index(of offset: Int, _ what: String) throws(BytecodeError) -> Int {
            guard offset >= 0, offset <= codeLength, indexAt[offset] >= 0 else {
                throw fail(.targetInsideInstruction(what: what, offset: offset), at: offset)
            }
            return Int(indexAt[offset])
        }

        var bytecode = Bytecode(version: version, template: code)
        bytecode.stackSizeFloor = Int(code.stacksize)

        // Jump targets and handlers get labels, numbered in code order (-2: labelled, id not yet given).
        var jumpTarget: [Int] = []
        swap(&jumpTarget, &buffers.jumpTarget)  // unique, so that appending reuses its memory
        jumpTarget.append(contentsOf: repeatElement(-1, count: folded.count))
        var labelAt: [Int] = []
        swap(&labelAt, &buffers.labelAt)  // unique, so that appending reuses its memory
        labelAt.append(contentsOf: repeatElement(-1, count: folded.count + 1))
        let jumpKinds = version.instructionTraits.jumpKind
        for (i, f) in folded.enumerated() where jumpKinds[Int(f.op.opcode)] != nil {
            var op = f.op
            op.oparg = f.value
            guard let target = version.jumpTarget(of: op) else { continue }
            let t = try index(of: target, "jump target of offset \(f.op.offset)")
            guard t < folded.count else {
                throw fail(.targetInsideInstruction(what: "jump target of offset \(f.op.offset)", offset: target), at: f.op.offset)
            }
            jumpTarget[i] = t
            labelAt[t] = -2
        }
        var entries: [ExceptionTableEntry] = []
        if version.hasExceptionTable, case .bytes(let table) = code.exceptiontable.value {
            do {
                entries = try ExceptionTable.decode(table, codeUnitCount: codeLength / 2)
            } catch {
                throw fail(.concrete(ConcreteError(.table("co_exceptiontable: \(error)"), at: error.offset, in: codeName)), at: 0)
            }
        }
        // (instruction index, entry) in code order: entries are sorted and never overlap.
        var blockStarts: [(at: Int, entry: Int)] = []
        var blockEnds: [(at: Int, entry: Int)] = []
        var blocks: [Bytecode.TryBlock] = []
        var handlerIndex: [Int] = []
        for (k, e) in entries.enumerated() {
            let s = try index(of: e.startOffset, "exception entry start")
            let t = try index(of: e.endOffset, "exception entry end")
            let h = try index(of: e.targetOffset, "exception handler")
            guard h < folded.count else {
                throw fail(.targetInsideInstruction(what: "exception handler", offset: e.targetOffset), at: e.targetOffset)
            }
            labelAt[h] = -2
            blockStarts.append((s, k))
            blockEnds.append((t, k))
            handlerIndex.append(h)
        }
        for i in labelAt.indices where labelAt[i] == -2 {
            labelAt[i] = bytecode.newLabel().id
        }
        for (k, e) in entries.enumerated() {
            blocks.append(
                bytecode.newTryBlock(handler: Bytecode.Label(id: labelAt[handlerIndex[k]]), depth: e.depth, lasti: e.lasti))
        }

        // Line information.
        var markers: [(at: Int, line: Int)] = []  // in code order
        var positions: [SourcePosition] = []
        swap(&positions, &buffers.positions)  // unique, so that appending reuses its memory
        positions.append(contentsOf: repeatElement(SourcePosition.none, count: folded.count))
        var atOpcode: [(at: Int, line: Int)] = []  // rare: entries after EXTENDED_ARG prefixes
        func table<T>(_ decode: () throws(LineTableError) -> T) throws(BytecodeError) -> T {
            do {
                return try decode()
            } catch {
                throw fail(.concrete(ConcreteError(.table("\(version.lineTableFieldName): \(error)"), at: error.offset, in: codeName)), at: 0)
            }
        }
        if case .bytes(let lineBytes) = code.linetable.value {
                let firstLine = Int(code.firstlineno)
                switch version.lineTableFormat {
                case .lnotab(let signed, _):
                    let lnotab = try table { () throws(LineTableError) in try Lnotab.decode(lineBytes, firstLine: firstLine, signedLineDelta: signed) }
                    for e in lnotab {
                        if e.offset >= 0, e.offset < codeLength, indexAt[e.offset] < 0,
                            let k = folded.firstIndex(where: { $0.op.offset == e.offset && $0.prefixes > 0 })
                        {
                            atOpcode.append((k, e.line))
                            continue
                        }
                        markers.append((try index(of: e.offset, "line-table entry"), e.line))
                    }
                    var line = firstLine
                    var m = 0
                    var a = 0
                    for i in folded.indices {
                        while m < markers.count && markers[m].at == i {
                            line = markers[m].line
                            m += 1
                        }
                        positions[i] = SourcePosition(line: line, endLine: nil, column: nil, endColumn: nil)
                        while a < atOpcode.count && atOpcode[a].at == i {
                            line = atOpcode[a].line
                            a += 1
                        }
                    }
                case .linetable310:
                    let ranges = try table { () throws(LineTableError) in try LineTable310.decode(lineBytes, firstLine: firstLine, codeLength: codeLength) }
                    var r = 0
                    for (i, f) in folded.enumerated() {
                        while r < ranges.count && ranges[r].end <= f.start { r += 1 }
                        guard r < ranges.count, ranges[r].start <= f.start else {
                            throw fail(.targetInsideInstruction(what: "line range", offset: f.start), at: f.start)
                        }
                        // An instruction may span two ranges only when both carry its line
                        // (3.10 splits long ranges at 254 bytes).
                        var k = r + 1
                        while k < ranges.count && ranges[k].start < f.start + f.size {
                            guard ranges[k].line == ranges[r].line else {
                                throw fail(.targetInsideInstruction(what: "line range", offset: ranges[k].start), at: f.start)
                            }
                            k += 1
                        }
                        positions[i] = SourcePosition(line: ranges[r].line, endLine: nil, column: nil, endColumn: nil)
                    }
                case .locations:
                    let units = try table { () throws(LineTableError) in try LocationTable.decode(lineBytes, firstLine: firstLine, codeUnitCount: codeLength / 2) }
                    for (i, f) in folded.enumerated() {
                        let p = units[f.start / 2]
                        for u in (f.start / 2)..<((f.start + f.size) / 2) where units[u] != p {
                            throw fail(.targetInsideInstruction(what: "location change", offset: u * 2), at: u * 2)
                        }
                        positions[i] = p
                    }
                }
        }

        // Arguments.
        var args = ArgumentDecoder(version: version, code: code)
        var elements: [Bytecode.Element] = []
        elements.reserveCapacity(folded.count + folded.count / 4)
        var (nextEnd, nextMarker, nextStart, nextAtOpcode) = (0, 0, 0, 0)
        for i in 0...folded.count {
            while nextEnd < blockEnds.count && blockEnds[nextEnd].at == i {
                elements.append(.tryEnd(blocks[blockEnds[nextEnd].entry]))
                nextEnd += 1
            }
            if labelAt[i] >= 0 { elements.append(.label(Bytecode.Label(id: labelAt[i]))) }
            while nextMarker < markers.count && markers[nextMarker].at == i {
                elements.append(.setLine(markers[nextMarker].line))
                nextMarker += 1
            }
            while nextStart < blockStarts.count && blockStarts[nextStart].at == i {
                elements.append(.tryBegin(blocks[blockStarts[nextStart].entry]))
                nextStart += 1
            }
            guard i < folded.count else { break }
            var linesAtOpcode: [Int] = []
            while nextAtOpcode < atOpcode.count && atOpcode[nextAtOpcode].at == i {
                linesAtOpcode.append(atOpcode[nextAtOpcode].line)
                nextAtOpcode += 1
            }
            let f = folded[i]
            let argument: Bytecode.Argument
            if jumpTarget[i] >= 0 {
                argument = .label(Bytecode.Label(id: labelAt[jumpTarget[i]]))
            } else {
                argument = try args.decode(opcode: f.op.opcode, value: f.value, offset: f.op.offset)
            }
            elements.append(
                .instruction(
                    Bytecode.Instruction(
                        opcode: f.op.opcode, argument: argument, position: positions[i], extendedArgFloor: f.prefixes,
                        setLinesAtOpcode: linesAtOpcode)))
        }
        guard nextEnd == blockEnds.count, nextStart == blockStarts.count, nextMarker == markers.count else {
            throw fail(.marker("exception-table entries out of order or overlapping"), at: 0)
        }
        bytecode.elements = elements
        buffers = LiftScratch.Buffers(
            folded: folded, indexAt: indexAt, jumpTarget: jumpTarget, labelAt: labelAt, positions: positions)
        scratch.give(buffers)  // the nested code objects reuse them

        // Constants, nested code lifted.
        var constants: [Bytecode.Constant] = []
        constants.reserveCapacity(code.constants.count)
        for c in code.constants {
            if nested, case .code(let nested) = c.value {
                let lifted = try Lifter(version: version, code: nested, nested: true, scratch: scratch).lift()
                constants.append(.code(lifted, encoding: c.encoding))
            } else {
                constants.append(.value(c))
            }
        }
        bytecode.constants = constants
        return bytecode
    }
}

/// Turns stored arguments into symbolic ones, per ``ArgumentShape``. Each table is decoded when an
/// argument first needs it.
struct ArgumentDecoder {
    let shapes: [ArgumentShape]
    let known: [Bool]
    let code: CodeObject
    let usesLocalsPlus: Bool
    let consts: Int

    /// A table's texts, and whether each slot is the first with its name (and kind), so that the
    /// name resolves back to it.
    struct Table {
        var texts: [String] = []
        var resolves: [Bool] = []
        /// Per slot: a free variable (cells of 3.11+ `co_localsplusnames`).
        var free: [Bool] = []

        init() {}

        init(_ tuple: PyObject, free: [Bool] = []) {
            let items = tuple.value.items ?? []
            texts.reserveCapacity(items.count)
            for o in items { texts.append(o.value.text ?? "") }
            self.free = free
            let keys = items.map { NameTable.key($0) }
            resolves = free.isEmpty ? firstOccurrences(keys) : firstOccurrences(keys.indices.map { CellKey(name: keys[$0], free: free[$0]) })
        }
    }
    private var names: Table? = nil
    private var locals: Table? = nil
    /// Per cell-or-free index: the name and whether it is free (3.11+: every slot of
    /// `co_localsplusnames`).
    private var cells: Table? = nil

    init(version: PythonVersion, code: CodeObject) {
        let traits = version.editingTraits
        shapes = traits.shapes
        known = traits.known
        self.code = code
        usesLocalsPlus = version.usesLocalsPlus
        consts = code.constants.count
    }

    func fail(_ kind: BytecodeError.Kind, _ offset: Int) -> BytecodeError { BytecodeError(kind, at: offset, in: code.nameText) }

    /// The table of `shape`, decoded on first use.
    private mutating func prepare(_ shape: ArgumentShape) {
        switch shape {
        case .name, .global, .attribute, .superAttribute:
            if names == nil { names = Table(code.names) }
        case .local, .localPair:
            if locals == nil { locals = Table(usesLocalsPlus ? code.localsplusnames : code.varnames) }
        case .cellOrFree:
            if cells == nil { cells = cellTable() }
        case .none, .plain, .jump, .compare, .constant:
            break
        }
    }

    private func cellTable() -> Table {
        var t: Table
        if usesLocalsPlus {
            var kinds: [UInt8] = []
            if case .bytes(let k) = code.localspluskinds.value { kinds = k }
            let count = code.localsplusnames.value.items?.count ?? 0
            t = Table(code.localsplusnames, free: (0..<count).map { $0 < kinds.count && kinds[$0] & 0x80 != 0 })
        } else {
            let c = code.cellvars.value.items ?? []
            let f = code.freevars.value.items ?? []
            t = Table(PyObject(.tuple(c + f)), free: Array(repeating: false, count: c.count) + Array(repeating: true, count: f.count))
        }
        return t
    }

    mutating func decode(opcode: UInt8, value: Int, offset: Int) throws(BytecodeError) -> Bytecode.Argument {
        func pick(_ table: Table?, _ i: Int, _ what: String) throws(BytecodeError) -> String {
            guard i >= 0 && i < table!.texts.count else { throw fail(.indexOutOfRange(what: what, index: i), offset) }
            return table!.texts[i]
        }
        guard known[Int(opcode)] else { throw fail(.unknownOpcode(opcode), offset) }
        let shape = shapes[Int(opcode)]
        prepare(shape)
        switch shape {
        case .none: return value == 0 ? .none : .int(value)
        case .plain: return .int(value)
        case .jump: return .int(value)
        case .compare: return .compare(value)
        case .constant:
            guard value < consts else { throw fail(.indexOutOfRange(what: "constant", index: value), offset) }
            return .constant(value)
        case .name:
            let n = try pick(names, value, "name")
            return names!.resolves[value] ? .name(n) : .int(value)
        case .global:
            let n = try pick(names, value >> 1, "name")
            return names!.resolves[value >> 1] ? .global(n, pushNull: value & 1 != 0) : .int(value)
        case .attribute:
            let n = try pick(names, value >> 1, "name")
            return names!.resolves[value >> 1] ? .attribute(n, method: value & 1 != 0) : .int(value)
        case .superAttribute:
            let n = try pick(names, value >> 2, "name")
            return names!.resolves[value >> 2]
                ? .superAttribute(n, twoArguments: value & 2 != 0, method: value & 1 != 0) : .int(value)
        case .local:
            let n = try pick(locals, value, "local")
            return locals!.resolves[value] ? .local(n) : .int(value)
        case .localPair:
            let a = try pick(locals, value >> 4, "local")
            let b = try pick(locals, value & 15, "local")
            return locals!.resolves[value >> 4] && locals!.resolves[value & 15] ? .localPair(a, b) : .int(value)
        case .cellOrFree:
            guard value >= 0 && value < cells!.texts.count else {
                throw fail(.indexOutOfRange(what: "cell or free variable", index: value), offset)
            }
            if !cells!.resolves[value] { return .int(value) }
            return cells!.free[value] ? .free(cells!.texts[value]) : .cell(cells!.texts[value])
        }
    }
}

/// For each key, whether no earlier key equals it (quadratic for small tables, hashed beyond).
func firstOccurrences<Key: Hashable>(_ keys: [Key]) -> [Bool] {
    if keys.count <= 16 {
        return keys.indices.map { i in !keys[..<i].contains(keys[i]) }
    }
    var seen = Set<Key>(minimumCapacity: keys.count)
    return keys.map { seen.insert($0).inserted }
}

/// A cell or free variable's name (its UTF-8 bytes) with its kind (the two kinds may share a name).
struct CellKey: Hashable {
    var name: [UInt8]
    var free: Bool
}

extension PyValue {
    /// The texts of a tuple of names (empty for anything else).
    var texts: [String] { (items ?? []).map { $0.value.text ?? "" } }
}

extension PythonVersion {
    /// Whether locals, cells and free variables share one index space (`co_localsplusnames`, 3.11+).
    var usesLocalsPlus: Bool { disStyle.usesLocalsPlus }
}
