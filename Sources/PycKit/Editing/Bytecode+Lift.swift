/// Lifting a code object into the editable form.
extension PythonVersion {
    /// Lifts `code` (and every code object nested in its constants) into a ``Bytecode``.
    ///
    /// `EXTENDED_ARG` prefixes fold into the instruction they prefix (their count becomes the
    /// instruction's width floor); jump targets become labels; `co_lnotab` entries become
    /// `setLine` markers (2.7–3.9), line ranges and locations become instruction positions
    /// (3.10+), and exception-table entries become try blocks (3.11+).
    public func lift(_ code: CodeObject) throws(BytecodeError) -> Bytecode {
        var bytecode = Bytecode(version: self, template: CodeObject())
        try Lifter(version: self, name: code.name, nested: true, scratch: LiftScratch()).lift(code, into: &bytecode)
        return bytecode
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
    /// The names lifted so far (moved out and back like the buffers).
    private var names = LiftNames()

    /// The buffers, `folded` emptied (the others hold stale values until refilled; memory kept);
    /// hand them back with ``give(_:)``.
    func take() -> Buffers {
        var b = Buffers()
        swap(&b, &buffers)  // moved, not copied: no retain of each array
        clear(&b.folded)
        return b
    }

    func give(_ b: inout Buffers) { swap(&b, &buffers) }

    /// The file's names so far; hand them back with ``giveNames(_:)``.
    func takeNames() -> LiftNames {
        var n = LiftNames()
        swap(&n, &names)
        return n
    }

    func giveNames(_ n: inout LiftNames) { swap(&n, &names) }
}

/// One instruction with its prefixes folded, as found in `co_code`.
struct FoldedInstruction {
    /// Offset of the first EXTENDED_ARG prefix (or of the opcode when there is none).
    var start: Int
    /// Offset of the opcode itself (the last code unit group of the instruction).
    var offset: Int
    var opcode: UInt8
    /// The argument bits of the prefixes and the opcode, concatenated.
    var value: Int
    var prefixes: Int
    /// Bytes from `start` to the next instruction: prefixes, the opcode and its cache units.
    var size: Int
}

/// Lifts one code object. The code object itself is not stored here but passed to ``lift(_:into:)``
/// and moved into the result's template at the end: a stored copy costs a retain and a release of
/// each of its fields.
struct Lifter {
    let version: PythonVersion
    /// `co_name`, for errors.
    let name: PyObject
    /// Whether nested code objects are lifted too (otherwise they stay plain constants).
    let nested: Bool
    let scratch: LiftScratch

    /// Lifts one code object, leaving nested code objects as plain constants.
    static func liftShallow(version: PythonVersion, code: CodeObject) throws(BytecodeError) -> Bytecode {
        var bytecode = Bytecode(version: version, template: CodeObject())
        try Lifter(version: version, name: code.name, nested: false, scratch: LiftScratch()).lift(code, into: &bytecode)
        return bytecode
    }
    var codeName: String { name.value.text ?? "" }

    func fail(_ kind: BytecodeError.Kind, at offset: Int) -> BytecodeError {
        BytecodeError(kind, at: offset, in: codeName)
    }

    /// Decodes `co_code` and folds EXTENDED_ARG prefixes in one pass, straight into `out`. Bad code
    /// throws exactly what ``PythonVersion/decodeInstructions(_:)`` and then ``foldChecked(_:into:)``
    /// would: on any irregularity the slower two-step path runs again to find it.
    func fold(_ bytes: [UInt8], into out: inout [FoldedInstruction]) throws(BytecodeError) {
        let traits = version.instructionTraits
        let n = bytes.count
        out.reserveCapacity(n / 2)
        let regular: Bool
        switch version.instructionLayout {
        case .wordcode:
            // Two bytes a code unit, 8 argument bits each, then the opcode's cache units.
            regular =
                n % 2 == 0
                && traits.cacheEntries.withUnsafeBufferPointer { cacheEntries in
                    foldRegular(bytes, argumentBits: 8, into: &out) { (b, i) in
                        (i + 2 + 2 * Int(cacheEntries[Int(b[i])]), Int(b[i + 1]))
                    }
                }
        case .variableLength:
            // One byte, or three with a 16-bit little-endian argument.
            regular = traits.hasArgument.withUnsafeBufferPointer { hasArgument in
                foldRegular(bytes, argumentBits: 16, into: &out) { (b, i) in
                    guard hasArgument[Int(b[i])] else { return (i + 1, 0) }
                    guard i + 3 <= b.count else { return (b.count + 1, 0) }
                    return (i + 3, Int(b[i + 1]) | Int(b[i + 2]) << 8)
                }
            }
        }
        if regular { return }
        out.removeAll(keepingCapacity: true)
        let concrete: [ConcreteInstruction]
        do {
            concrete = try version.decodeInstructions(bytes)
        } catch {
            var e = error
            e.codeName = codeName
            throw fail(.concrete(e), at: e.offset)
        }
        try foldChecked(concrete, into: &out)
    }

    /// The fold loop of both layouts: `step(bytes, i)` reads the code unit group at `i` and returns
    /// where it ends (past the code when it is truncated) and its `argumentBits` bits of argument.
    /// False on any irregularity: a truncated group, more prefixes than CPython writes, a trailing
    /// prefix.
    @inline(__always)
    private func foldRegular(
        _ bytes: [UInt8], argumentBits: Int, into out: inout [FoldedInstruction],
        step: (UnsafeBufferPointer<UInt8>, Int) -> (end: Int, argument: Int)
    ) -> Bool {
        let ext = version.instructionTraits.extendedArg
        let maxPrefixes = version.maxExtendedArgPrefixes
        return bytes.withUnsafeBufferPointer { b in
            let n = b.count
            var start = -1
            var value = 0
            var prefixes = 0
            var i = 0
            while i < n {
                let op = b[i]
                if start < 0 { start = i }
                let (end, argument) = step(b, i)
                if end > n { return false }
                value = (value << argumentBits) | argument
                if op == ext {
                    prefixes += 1
                    if prefixes > maxPrefixes { return false }
                    i = end
                    continue
                }
                out.append(
                    FoldedInstruction(
                        start: start, offset: i, opcode: op, value: value, prefixes: prefixes, size: end - start))
                start = -1
                value = 0
                prefixes = 0
                i = end
            }
            return start < 0
        }
    }

    /// The two-step fold of decoded instructions, with its errors (at most 3 prefixes, 1 in 2.7; no
    /// trailing prefix).
    func foldChecked(_ concrete: [ConcreteInstruction], into out: inout [FoldedInstruction]) throws(BytecodeError) {
        let ext = version.instructionTraits.extendedArg
        let bits = version.instructionLayout == .wordcode ? 8 : 16
        let maxPrefixes = version.maxExtendedArgPrefixes
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
                guard prefixes <= maxPrefixes else {
                    throw fail(.argumentOutOfRange(value), at: ins.offset)
                }
                continue
            }
            out.append(
                FoldedInstruction(
                    start: start, offset: ins.offset, opcode: ins.opcode, value: value, prefixes: prefixes, size: size))
            start = -1
            value = 0
            prefixes = 0
            size = 0
        }
        if start >= 0 { throw fail(.targetInsideInstruction(what: "trailing EXTENDED_ARG", offset: start), at: start) }
    }

    /// 3.11+: each instruction's position straight from the location table's entries (no per-unit
    /// array). False when the table is irregular in any way (a bad entry, wrong coverage, a
    /// position change inside an instruction); the caller then decodes it unit by unit, which
    /// throws the exact error. `folded` lays the instructions out one after another, as `fold`
    /// does: each ends where the next starts.
    func locationsFast(
        _ table: [UInt8], firstLine: Int, codeLength: Int, folded: [FoldedInstruction],
        into positions: inout [SourcePosition]
    ) -> Bool {
        guard Int32(exactly: firstLine) != nil else { return false }
        let unitCount = codeLength / 2
        return table.withUnsafeBufferPointer { buffer in
            folded.withUnsafeBufferPointer { folded in
                positions.withUnsafeMutableBufferPointer { positions in
                    // (The walk below starts at the first instruction's first unit: it has one.)
                    guard !folded.isEmpty, folded[0].start == 0, positions.count >= folded.count,
                        let first = folded.baseAddress, let out = positions.baseAddress
                    else {
                        return folded.isEmpty && buffer.isEmpty && unitCount == 0
                    }
                    var cursor = LocationCursor(buffer, firstLine: firstLine)
                    // One pass over the entries: each instruction takes the position of the entry
                    // holding its first code unit, and the entries up to its end (the next
                    // instruction's start) must have that position too. (Pointers, not indices: the
                    // loop then keeps everything in registers.)
                    // (Offsets are never negative: `>> 1` is `/ 2` without the sign fix-up.)
                    let end = first + folded.count
                    var entryEnd = 0
                    var next = first  // the first instruction not placed yet
                    var nextUnit = 0  // its first code unit
                    var placed = out  // where its position goes
                    while let e = cursor.nextEntry() {
                        let entryStart = entryEnd
                        entryEnd &+= e.units
                        // Starting before `nextUnit`, the entry is inside the last instruction placed
                        // (past the last one, it is inside it or past the code, which fails below).
                        if entryStart < nextUnit && e.position != placed[-1] { return false }
                        while nextUnit < entryEnd {
                            placed.pointee = e.position
                            placed += 1
                            next += 1
                            nextUnit = next < end ? next.pointee.start >> 1 : Int.max
                        }
                    }
                    if cursor.offset < buffer.count || next < end { return false }
                    return entryEnd == unitCount
                }
            }
        }
    }

    /// Lifts `code` into `bytecode` (a fresh value: `Bytecode(version:template:)` with an empty template).
    /// (Filled in place, not returned: a returned `Bytecode` is built in a temporary and copied, a retain and a
    /// release of every field of its template.)
    func lift(_ code: consuming CodeObject, into bytecode: inout Bytecode) throws(BytecodeError) {
        guard case .bytes(let bytes) = code.code.value else {
            throw fail(.concrete(ConcreteError(.badField("co_code is not bytes"), at: 0, in: codeName)), at: 0)
        }
        var buffers = scratch.take()
        try fold(bytes, into: &buffers.folded)
        var folded = taken(&buffers.folded)
        let codeLength = bytes.count

        // Instruction index by start offset.
        var indexAt: [Int32] = []
        swap(&indexAt, &buffers.indexAt)  // unique, so that appending reuses its memory
        refill(&indexAt, -1, count: codeLength + 1)
        for (i, f) in folded.enumerated() { indexAt[f.start] = Int32(i) }
        indexAt[codeLength] = Int32(folded.count)
        // (`what` is built only for the error: a jump's message would otherwise cost a string per jump.)
        func index(of offset: Int, _ what: @autoclosure () -> String) throws(BytecodeError) -> Int {
            guard offset >= 0, offset <= codeLength, indexAt[offset] >= 0 else {
                throw fail(.targetInsideInstruction(what: what(), offset: offset), at: offset)
            }
            return Int(indexAt[offset])
        }

        // Jump targets and handlers get labels, numbered in code order (-2: labelled, id not yet given).
        var jumpTarget: [Int] = []
        swap(&jumpTarget, &buffers.jumpTarget)  // unique, so that appending reuses its memory
        refill(&jumpTarget, -1, count: folded.count)
        var labelAt: [Int] = []
        swap(&labelAt, &buffers.labelAt)  // unique, so that appending reuses its memory
        refill(&labelAt, -1, count: folded.count + 1)
        let jumpKinds = version.instructionTraits.jumpKind
        let hasArgument = version.instructionTraits.hasArgument
        let unit = version.jumpArgumentUnit
        for (i, f) in folded.enumerated() {
            // `jumpTarget(of:)` of the opcode with its folded argument.
            guard let kind = jumpKinds[Int(f.opcode)], hasArgument[Int(f.opcode)] else { continue }
            let target: Int
            switch kind {
            case .absolute: target = f.value * unit
            case .forward: target = f.start + f.size + f.value * unit
            case .backward: target = f.start + f.size - f.value * unit
            }
            let t = try index(of: target, "jump target of offset \(f.offset)")
            guard t < folded.count else {
                throw fail(
                    .targetInsideInstruction(what: "jump target of offset \(f.offset)", offset: target), at: f.offset)
            }
            jumpTarget[i] = t
            labelAt[t] = -2
        }
        var entries: [ExceptionTableEntry] = []
        if version.hasExceptionTable, case .bytes(let table) = code.exceptiontable.value {
            do {
                entries = try ExceptionTable.decode(table, codeUnitCount: codeLength / 2)
            } catch {
                throw fail(
                    .concrete(ConcreteError(.table("co_exceptiontable: \(error)"), at: error.offset, in: codeName)),
                    at: 0)
            }
        }
        // (instruction index, entry) in code order: entries are sorted and never overlap.
        var blockStarts: [(at: Int, entry: Int)] = []
        var blockEnds: [(at: Int, entry: Int)] = []
        var blocks: [Bytecode.TryBlock] = []
        var handlerIndex: [Int] = []
        if !entries.isEmpty {
            blockStarts.reserveCapacity(entries.count)
            blockEnds.reserveCapacity(entries.count)
            blocks.reserveCapacity(entries.count)
            handlerIndex.reserveCapacity(entries.count)
        }
        for (k, e) in entries.enumerated() {
            let s = try index(of: e.startOffset, "exception entry start")
            let t = try index(of: e.endOffset, "exception entry end")
            let h = try index(of: e.targetOffset, "exception handler")
            guard h < folded.count else {
                throw fail(
                    .targetInsideInstruction(what: "exception handler", offset: e.targetOffset), at: e.targetOffset)
            }
            labelAt[h] = -2
            blockStarts.append((s, k))
            blockEnds.append((t, k))
            handlerIndex.append(h)
        }
        // (Label and block ids as `Bytecode.newLabel()` and `newTryBlock` would give them.)
        var nextLabel = 0
        for i in labelAt.indices where labelAt[i] == -2 {
            labelAt[i] = nextLabel
            nextLabel += 1
        }
        for (k, e) in entries.enumerated() {
            blocks.append(
                Bytecode.TryBlock(
                    id: k, handler: Bytecode.Label(id: labelAt[handlerIndex[k]]), depth: e.depth, lasti: e.lasti))
        }

        // Line information.
        var markers: [(at: Int, line: Int)] = []  // in code order
        var positions: [SourcePosition] = []
        swap(&positions, &buffers.positions)  // unique, so that appending reuses its memory
        refill(&positions, SourcePosition.none, count: folded.count)
        var atOpcode: [(at: Int, line: Int)] = []  // rare: entries after EXTENDED_ARG prefixes
        func table<T>(_ decode: () throws(LineTableError) -> T) throws(BytecodeError) -> T {
            do {
                return try decode()
            } catch {
                throw fail(
                    .concrete(
                        ConcreteError(.table("\(version.lineTableFieldName): \(error)"), at: error.offset, in: codeName)
                    ), at: 0)
            }
        }
        if case .bytes(let lineBytes) = code.linetable.value {
            let firstLine = Int(code.firstlineno)
            switch version.lineTableFormat {
            case .lnotab(let signed, _):
                let lnotab = try table { () throws(LineTableError) in
                    try Lnotab.decode(lineBytes, firstLine: firstLine, signedLineDelta: signed)
                }
                for e in lnotab {
                    if e.offset >= 0, e.offset < codeLength, indexAt[e.offset] < 0,
                        let k = folded.firstIndex(where: { $0.offset == e.offset && $0.prefixes > 0 })
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
                let ranges = try table { () throws(LineTableError) in
                    try LineTable310.decode(lineBytes, firstLine: firstLine, codeLength: codeLength)
                }
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
                            throw fail(
                                .targetInsideInstruction(what: "line range", offset: ranges[k].start), at: f.start)
                        }
                        k += 1
                    }
                    positions[i] = SourcePosition(line: ranges[r].line, endLine: nil, column: nil, endColumn: nil)
                }
            case .locations:
                if !locationsFast(
                    lineBytes, firstLine: firstLine, codeLength: codeLength, folded: folded, into: &positions)
                {
                    let units = try table { () throws(LineTableError) in
                        try LocationTable.decode(lineBytes, firstLine: firstLine, codeUnitCount: codeLength / 2)
                    }
                    for (i, f) in folded.enumerated() {
                        let p = units[f.start / 2]
                        for u in (f.start / 2)..<((f.start + f.size) / 2) where units[u] != p {
                            throw fail(.targetInsideInstruction(what: "location change", offset: u * 2), at: u * 2)
                        }
                        positions[i] = p
                    }
                }
            }
        }

        // Arguments.
        var args = ArgumentDecoder(
            version: version, constantCount: code.consts.value.items?.count ?? 0, interned: scratch.takeNames())
        var elements: [Bytecode.Element] = []
        elements.reserveCapacity(
            folded.count + nextLabel + markers.count + atOpcode.count + blockStarts.count + blockEnds.count)
        var (nextEnd, nextMarker, nextStart, nextAtOpcode) = (0, 0, 0, 0)
        // The per-instruction arrays are read through unsafe buffers (no bounds check per read).
        try folded.withUnsafeBufferPointer { (folded) throws(BytecodeError) in
            try jumpTarget.withUnsafeBufferPointer { (jumpTarget) throws(BytecodeError) in
                try labelAt.withUnsafeBufferPointer { (labelAt) throws(BytecodeError) in
                    try positions.withUnsafeBufferPointer { (positions) throws(BytecodeError) in
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
                            while nextAtOpcode < atOpcode.count && atOpcode[nextAtOpcode].at == i {
                                elements.append(.lineAtOpcode(atOpcode[nextAtOpcode].line))
                                nextAtOpcode += 1
                            }
                            let f = folded[i]
                            let argument: Bytecode.Argument
                            if jumpTarget[i] >= 0 {
                                argument = .label(Bytecode.Label(id: labelAt[jumpTarget[i]]))
                            } else {
                                argument = try args.decode(opcode: f.opcode, value: f.value, offset: f.offset, in: code)
                            }
                            elements.append(
                                .instruction(
                                    Bytecode.Instruction(
                                        opcode: f.opcode, argument: argument, position: positions[i],
                                        extendedArgFloor: f.prefixes)))
                        }
                    }
                }
            }
        }
        guard nextEnd == blockEnds.count, nextStart == blockStarts.count, nextMarker == markers.count else {
            throw fail(.marker("exception-table entries out of order or overlapping"), at: 0)
        }
        let liftedTables = args.takeTables()
        scratch.giveNames(&args.interned)
        // Swapped back, not assigned: a local still holding a buffer would make it shared, and the
        // nested code objects would then allocate fresh ones instead of reusing it.
        swap(&buffers.folded, &folded)
        swap(&buffers.indexAt, &indexAt)
        swap(&buffers.jumpTarget, &jumpTarget)
        swap(&buffers.labelAt, &labelAt)
        swap(&buffers.positions, &positions)
        scratch.give(&buffers)  // the nested code objects reuse them

        // Constants, nested code lifted.
        var constants: [Bytecode.Constant] = []
        constants.reserveCapacity(code.constants.count)
        for c in code.constants {
            if nested, case .code(let nested) = c.value {
                // Moved, not copied (each copy of a code object retains every field).
                let lifter = Lifter(version: version, name: nested.name, nested: true, scratch: scratch)
                var lifted = Bytecode(version: version, template: CodeObject())
                try lifter.lift(consume nested, into: &lifted)
                constants.append(.code(consume lifted, encoding: c.encoding))
            } else {
                constants.append(.value(c))
            }
        }
        bytecode.stackSizeFloor = Int(code.stacksize)
        bytecode.nextLabel = nextLabel
        bytecode.nextBlock = blocks.count
        bytecode.liftedTables = liftedTables
        bytecode.template = consume code
        bytecode.constants = consume constants
        bytecode.elements = consume elements
    }
}

/// Turns stored arguments into symbolic ones, per ``ArgumentShape``. Each table is decoded when an
/// argument first needs it.
struct ArgumentDecoder {
    let shapes: [ArgumentShape]
    let known: [Bool]
    let usesLocalsPlus: Bool
    let consts: Int
    /// The file's names, so far.
    var interned: LiftNames

    /// A table's names, and whether each slot is the first with its name (and kind), so that the
    /// name resolves back to it.
    struct Table {
        var names: [Name] = []
        var resolves: [Bool] = []
        /// Per slot: a free variable (cells of 3.11+ `co_localsplusnames`).
        var free: [Bool] = []
        /// The tuple's items.
        var items: [PyObject] = []

        init() {}

        /// The table of the names in `tuple` (`free`: per slot, whether it is a free variable; the same
        /// name may then occur once of each kind), their names from `interned`; nil when a name does not fit
        /// the name pool.
        init?(_ tuple: PyObject, free: [Bool] = [], interned: inout LiftNames) {
            let items = tuple.value.items ?? []
            self.items = items
            self.free = free
            names.reserveCapacity(items.count)
            resolves.reserveCapacity(items.count)
            // A short table is searched for an earlier slot with the same name and kind; a longer one
            // keeps the names seen in `interned`.
            let short = items.count <= Self.shortTable
            if !short { interned.beginTable(capacity: items.count) }
            for (i, o) in items.enumerated() {
                guard let n = interned.name(o) else { return nil }
                let isFree = i < free.count && free[i]
                if short {
                    var first = true
                    for j in 0..<i where names[j] == n && (j < free.count && free[j]) == isFree {
                        first = false
                        break
                    }
                    resolves.append(first)
                } else {
                    resolves.append(interned.firstInTable(n, free: isFree))
                }
                names.append(n)
            }
        }

        static let shortTable = 8
    }
    // The tables, each decoded when an argument first needs it (stored, not optional, so that
    // reading one slot never copies a table).
    private var names = Table()
    private var locals = Table()
    /// Per cell-or-free index: the name and whether it is free (3.11+: every slot of
    /// `co_localsplusnames`).
    private var cells = Table()
    private var haveNames = false
    private var haveLocals = false
    private var haveCells = false

    /// The names and locals tables decoded so far, moved out for the assembler.
    mutating func takeTables() -> LiftedTables {
        var tables = LiftedTables()
        if haveNames { tables.names = LiftedTable(items: taken(&names.items), names: taken(&names.names)) }
        if haveLocals { tables.locals = LiftedTable(items: taken(&locals.items), names: taken(&locals.names)) }
        haveNames = false
        haveLocals = false
        return tables
    }

    /// The tables are those of the code object each ``decode(opcode:value:offset:in:)`` call passes
    /// (always the same one: a parameter, not a stored copy of the code object).
    /// (The constant count, not the code object: an initializer's parameter is owned, and passing the code
    /// object would copy it.)
    init(version: PythonVersion, constantCount: Int, interned: LiftNames) {
        self.interned = interned
        let traits = version.editingTraits
        shapes = traits.shapes
        known = traits.known
        usesLocalsPlus = version.usesLocalsPlus
        consts = constantCount
    }

    func fail(_ kind: BytecodeError.Kind, _ offset: Int, _ code: CodeObject) -> BytecodeError {
        BytecodeError(kind, at: offset, in: code.nameText)
    }

    private mutating func cellTable(_ code: CodeObject, _ offset: Int) throws(BytecodeError) -> Table {
        var t: Table?
        if usesLocalsPlus {
            var kinds: [UInt8] = []
            if case .bytes(let k) = code.localspluskinds.value { kinds = k }
            let count = code.localsplusnames.value.items?.count ?? 0
            t = Table(
                code.localsplusnames, free: (0..<count).map { $0 < kinds.count && kinds[$0] & 0x80 != 0 },
                interned: &interned)
        } else {
            let c = code.cellvars.value.items ?? []
            let f = code.freevars.value.items ?? []
            t = Table(
                PyObject(.tuple(c + f)),
                free: Array(repeating: false, count: c.count) + Array(repeating: true, count: f.count),
                interned: &interned)
        }
        guard let t else { throw fail(.namePoolFull, offset, code) }
        return t
    }

    /// The name at slot `i` of `co_names` and whether it resolves back to that slot.
    private mutating func name(_ i: Int, _ offset: Int, _ code: CodeObject) throws(BytecodeError) -> (Name, Bool) {
        if !haveNames {
            guard let t = Table(code.names, interned: &interned) else { throw fail(.namePoolFull, offset, code) }
            names = t
            haveNames = true
        }
        guard i >= 0 && i < names.names.count else {
            throw fail(.indexOutOfRange(what: "name", index: i), offset, code)
        }
        return (names.names[i], names.resolves[i])
    }

    /// The local at slot `i` and whether it resolves back to that slot.
    private mutating func local(_ i: Int, _ offset: Int, _ code: CodeObject) throws(BytecodeError) -> (Name, Bool) {
        if !haveLocals {
            guard let t = Table(usesLocalsPlus ? code.localsplusnames : code.varnames, interned: &interned) else {
                throw fail(.namePoolFull, offset, code)
            }
            locals = t
            haveLocals = true
        }
        guard i >= 0 && i < locals.names.count else {
            throw fail(.indexOutOfRange(what: "local", index: i), offset, code)
        }
        return (locals.names[i], locals.resolves[i])
    }

    mutating func decode(
        opcode: UInt8, value: Int, offset: Int, in code: CodeObject
    ) throws(BytecodeError) -> Bytecode.Argument {
        guard known[Int(opcode)] else { throw fail(.unknownOpcode(opcode), offset, code) }
        switch shapes[Int(opcode)] {
        case .none: return value == 0 ? .none : .int(value)
        case .plain: return .int(value)
        case .jump: return .int(value)
        case .compare: return .compare(value)
        case .constant:
            guard value < consts else { throw fail(.indexOutOfRange(what: "constant", index: value), offset, code) }
            return .constant(value)
        case .name:
            let (n, resolves) = try name(value, offset, code)
            return resolves ? .name(n) : .int(value)
        case .global:
            let (n, resolves) = try name(value >> 1, offset, code)
            return resolves ? .global(n, pushNull: value & 1 != 0) : .int(value)
        case .attribute:
            let (n, resolves) = try name(value >> 1, offset, code)
            return resolves ? .attribute(n, method: value & 1 != 0) : .int(value)
        case .superAttribute:
            let (n, resolves) = try name(value >> 2, offset, code)
            return resolves ? .superAttribute(n, twoArguments: value & 2 != 0, method: value & 1 != 0) : .int(value)
        case .local:
            let (n, resolves) = try local(value, offset, code)
            return resolves ? .local(n) : .int(value)
        case .localPair:
            let (a, resolvesA) = try local(value >> 4, offset, code)
            let (b, resolvesB) = try local(value & 15, offset, code)
            return resolvesA && resolvesB ? .localPair(a, b) : .int(value)
        case .cellOrFree:
            if !haveCells {
                cells = try cellTable(code, offset)
                haveCells = true
            }
            guard value >= 0 && value < cells.names.count else {
                throw fail(.indexOutOfRange(what: "cell or free variable", index: value), offset, code)
            }
            if !cells.resolves[value] { return .int(value) }
            return cells.free[value] ? .free(cells.names[value]) : .cell(cells.names[value])
        }
    }
}

extension PyValue {
    /// The texts of a tuple of names (empty for anything else).
    var texts: [String] { (items ?? []).map { $0.value.text ?? "" } }
}

extension PythonVersion {
    /// Whether locals, cells and free variables share one index space (`co_localsplusnames`, 3.11+).
    var usesLocalsPlus: Bool { disStyle.usesLocalsPlus }
}
