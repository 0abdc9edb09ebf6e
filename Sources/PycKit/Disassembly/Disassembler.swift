/// Prints code objects exactly as a given version's `dis` module does: the reference listing of
/// ARCHITECTURE.md (`dis.disassemble` of the code, then every nested code object depth-first in
/// `co_consts` order under a blank line and `Disassembly of <repr>:`).
///
/// Argument resolution (`argrepr`) follows each release's `Lib/dis.py`; the differences are the
/// version's `DisStyle`. Malformed code is printed as far as it can be decoded; each problem is
/// reported and marked in the text with a `<pyckit: …>` line.
///
/// The printer reads a code object through `DisassemblySource`: from a `CodeObject`, or, for a
/// whole `.pyc` (`listing(pyc:into:)`), in place in the marshal bytes.
public struct Disassembler: Sendable {
    public let version: PythonVersion
    let style: DisStyle
    let repr: PyRepr
    let traits: InstructionTraits
    let ops: KnownOpcodes

    /// A problem met while disassembling: which code object, where, what.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var codeName: String
        public var message: String
        public var description: String { "code object \(codeName): \(message)" }
    }

    let names: OpcodeNames
    /// The version's comparison operators, binary operator symbols and intrinsic names as bytes.
    let compareNames: [[UInt8]]
    let binaryOperatorSymbols: [[UInt8]]
    let intrinsic1Names: [[UInt8]]
    let intrinsic2Names: [[UInt8]]
    let argumentKinds: [ArgumentKind]
    /// What the printing loop needs of each opcode, in one place.
    let opcodeFacts: [OpcodeFacts]

    public init(version: PythonVersion) {
        self = version.select(
            Self.v2_7, Self.v3_6, Self.v3_7, Self.v3_8, Self.v3_9, Self.v3_10, Self.v3_11, Self.v3_12, Self.v3_13)
    }

    private init(building version: PythonVersion) {
        self.version = version
        style = version.disStyle
        repr = PyRepr.of(version)
        traits = version.instructionTraits
        ops = KnownOpcodes(version.opcodes)
        names = OpcodeNames(version.opcodes)
        compareNames = version.opcodes.cmpOp.map { Array($0.utf8) }
        binaryOperatorSymbols = version.opcodes.binaryOps.map { Array($0.symbol.utf8) }
        intrinsic1Names = version.opcodes.intrinsic1Names.map { Array($0.utf8) }
        intrinsic2Names = version.opcodes.intrinsic2Names.map { Array($0.utf8) }
        argumentKinds = Self.argumentKinds(style: style, traits: traits, names: names, ops: ops)
        opcodeFacts = (0..<256).map { [names, argumentKinds, traits] op in
            OpcodeFacts(
                nameLength: UInt8(names.length[op]), argumentKind: argumentKinds[op],
                hasArgument: traits.hasArgument[op], isExtendedArg: op == Int(traits.extendedArg),
                parensIn27: names.parensIn27[op], jumps: traits.jumpKind[op] != nil, known: names.known[op])
        }
    }

    /// One opcode's facts for the printing loop (`opcodeFacts`).
    struct OpcodeFacts {
        var nameLength: UInt8
        var argumentKind: ArgumentKind
        var hasArgument: Bool
        var isExtendedArg: Bool
        var parensIn27: Bool
        /// Whether it jumps (`InstructionTraits.jumpKind`), and whether the version defines it.
        var jumps: Bool
        var known: Bool
        /// Whether the jump-target scan looks at it: it jumps, or the version does not know it.
        var scanned: Bool { jumps || !known }
    }

    // One per release, each built on first use (`PythonVersion.select`).
    private static let v2_7 = Disassembler(building: .v2_7)
    private static let v3_6 = Disassembler(building: .v3_6)
    private static let v3_7 = Disassembler(building: .v3_7)
    private static let v3_8 = Disassembler(building: .v3_8)
    private static let v3_9 = Disassembler(building: .v3_9)
    private static let v3_10 = Disassembler(building: .v3_10)
    private static let v3_11 = Disassembler(building: .v3_11)
    private static let v3_12 = Disassembler(building: .v3_12)
    private static let v3_13 = Disassembler(building: .v3_13)

    /// The full reference listing of a module code object and everything nested in it.
    public func listing(_ code: CodeObject) -> (text: [UInt8], problems: [Problem]) {
        var out = ByteWriter(capacity: code.codeBytes.count * 32 + 256)
        var scratch = Scratch()
        var problems: [Problem] = []
        writeRecursive(
            TreeCode(code, usesLocalsPlus: style.usesLocalsPlus), to: &out, scratch: &scratch, problems: &problems,
            depth: 0)
        return (out.bytes, problems)
    }

    /// `listing(_:)` appended to `buffer`; returns the problems.
    public func listing(_ code: CodeObject, into buffer: ListingBuffer) -> [Problem] {
        var problems: [Problem] = []
        writeRecursive(
            TreeCode(code, usesLocalsPlus: style.usesLocalsPlus), to: &buffer.out, scratch: &buffer.scratch,
            problems: &problems, depth: 0)
        return problems
    }

    /// The listing of a whole `.pyc` file's module code, read in place in its bytes, appended to
    /// `buffer`; returns the problems. Returns nil, leaving `buffer` as it was, for a file this
    /// fast path leaves to `PycFile(bytes:)` and `listing(_:into:)`: one that is malformed (they
    /// report the error) or holds what CPython does not write (see `MarshalIndex`).
    public static func listing(pyc bytes: [UInt8], into buffer: ListingBuffer) -> [Problem]? {
        bytes.withUnsafeBytes { listing(pyc: $0, into: buffer) }
    }

    /// `listing(pyc:into:)` of bytes in memory.
    static func listing(pyc raw: UnsafeRawBufferPointer, into buffer: ListingBuffer) -> [Problem]? {
        guard let header = try? PycHeader(raw: raw) else { return nil }
        let d = Disassembler(version: header.version)
        guard let root = buffer.index.read(raw, at: header.size, version: header.version) else { return nil }
        let index = buffer.index
        return index.entries.withUnsafeBufferPointer { entries in
            index.items.withUnsafeBufferPointer { items in
                index.codes.withUnsafeBufferPointer { codes in
                    let view = MarshalIndex.View(
                        bytes: raw.baseAddress!, end: raw.baseAddress! + raw.count, entries: entries.baseAddress!,
                        items: UnsafeBufferPointer(rebasing: items[..<index.itemCount]), codes: codes.baseAddress!,
                        separateLong: header.version.hasSeparateLongType)
                    let code = IndexedCode(
                        view: view, index: Int(entries[Int(root)].offset), usesLocalsPlus: d.style.usesLocalsPlus)
                    var problems: [Problem] = []
                    buffer.scratch.startFile()
                    d.writeRecursive(code, to: &buffer.out, scratch: &buffer.scratch, problems: &problems, depth: 0)
                    return problems
                }
            }
        }
    }

    func writeRecursive<S: DisassemblySource>(
        _ code: S, to out: inout ByteWriter, scratch: inout Scratch, problems: inout [Problem], depth: Int
    ) {
        // `write` pushes where it put each constant's repr onto `constSpans`, nested code pushes
        // its own after them: a code object's repr printed for LOAD_CONST is copied for its header.
        let spanBase = scratch.constSpans.count
        defer { scratch.constSpans.removeLast(scratch.constSpans.count - spanBase) }
        write(code, to: &out, scratch: &scratch, problems: &problems)
        guard depth < MarshalReader.maxDepth else { return }
        for i in 0..<code.constantCount {
            guard let nested = code.nestedCode(i) else { continue }
            out.append(0x0A)
            out.append("Disassembly of " as StaticString)
            let span = scratch.constSpans[spanBase + i]
            if span >= 0 {
                out.appendCopy(from: span >> 32, count: span & 0xFFFF_FFFF)
            } else {
                code.writeConstant(i, repr: repr, to: &out)
            }
            out.append(":\n" as StaticString)
            writeRecursive(nested, to: &out, scratch: &scratch, problems: &problems, depth: depth + 1)
        }
    }

    // MARK: - One code object

    /// Tables reused from one code object to the next (and, in a `ListingBuffer`, from file to
    /// file), so that printing allocates almost nothing once they have grown.
    struct Scratch {
        /// `co_exceptiontable` of an in-place source.
        var exceptionTable: [UInt8] = []
        /// Offset → line (nil: "no line", 3.13 only), ascending, one per offset; later
        /// duplicates win, like `dict()`.
        var lineStarts: [LineStart] = []
        /// Per offset `0...len(co_code)`: `jumpTarget` (marked `>>`), `labelled` (3.13).
        /// Only the first `markCount` entries are the current code object's; the array keeps its
        /// largest size so that resetting is one fill (the same for `labelAt`).
        var marks: [UInt8] = []
        var markCount = 0
        /// 3.13: per offset `0...len(co_code)`, its label number (0: none).
        var labelAt: [Int32] = []
        var labelAtCount = 0
        /// 3.13: labels at offsets outside the code (malformed jumps or exception entries).
        var outsideLabels: [(offset: Int, label: Int)] = []
        /// The end of an instruction's line (opname onwards) as it was first written, by opcode,
        /// argument and the identity of the object the argument names (`DisassemblySource.identity`;
        /// -1 when the text depends on the opcode and argument alone): `bodyBits` bits of a hash
        /// pick the slot. The stamp is the file's (`fileStamp`) when the text is the same
        /// throughout the file, else the code object's. A stamp is never reused while the output
        /// holds the spans.
        var bodies: [Body] = []
        private var bodyStamp: UInt64 = 0
        /// The stamp of the file being listed.
        private(set) var fileStamp: UInt64 = 0
        static let bodyBits = 12

        /// 16 bytes, so that the table stays small.
        struct Body {
            /// `Body.key(opcode:argument:identity:)`.
            var key: UInt64
            /// The stamp (16 bits), the count (16 bits) and the start (32 bits) of the span.
            var span: UInt64

            @inline(__always) static func key(opcode: UInt8, argument: Int, identity: Int32) -> UInt64 {
                UInt64(opcode) << 56 | UInt64(argument) << 32 | UInt64(UInt32(bitPattern: identity))
            }

            /// The span, or nil when it does not fit in 16 + 32 bits.
            @inline(__always) static func span(stamp: UInt64, start: Int, count: Int) -> UInt64? {
                guard start >= 0 && start < 1 << 32 && count >= 0 && count < 1 << 16 else { return nil }
                return stamp << 48 | UInt64(count) << 32 | UInt64(start)
            }
        }

        /// A stamp for a code object's bodies, unlike every earlier one (stamp 0 never matches:
        /// the table starts, and restarts after 2¹⁶ stamps, empty; the file's stamp is then
        /// renewed too).
        mutating func nextBodyStamp() -> UInt64 {
            bodyStamp += 1
            if bodyStamp == 1 << 16 || bodies.isEmpty {
                bodies = Array(repeating: Body(key: 0, span: 0), count: 1 << Self.bodyBits)
                fileStamp = 1
                bodyStamp = 2
            }
            return bodyStamp
        }

        /// Starts a file: bodies that depend on no code object are shared by its code objects.
        mutating func startFile() { fileStamp = nextBodyStamp() }

        /// Where each constant's repr was first written in the output (`start << 32 | count`),
        /// or -1 until it is needed: one run per code object being written, the innermost last.
        var constSpans: [Int] = []

        static let jumpTarget: UInt8 = 1
        static let labelled: UInt8 = 2
        /// `write`: the instruction at this offset has been printed, its marker at `markerAt`.
        static let printed: UInt8 = 4

        /// `write`: per offset, where the ">>" of the instruction printed there goes in the
        /// output (valid where `marks` has `printed`).
        var markerAt: [Int] = []

        /// The labels (3.13), to look up while the scratch changes.
        var labels: Labels { Labels(labelAt: labelAt, count: labelAtCount, outside: outsideLabels) }

        /// Makes the first `count` entries of `table` zero, growing it if needed; returns `count`.
        static func reset<T: FixedWidthInteger>(_ table: inout [T], count: Int) -> Int {
            refillPrefix(&table, 0, count: count)
            return count
        }

        /// Whether an offset is a jump target (or, before 3.13, an exception handler).
        func isTarget(_ offset: Int) -> Bool {
            offset >= 0 && offset < markCount && marks[offset] & Self.jumpTarget != 0
        }
    }

    /// 3.13's labels of one code object.
    struct Labels {
        let labelAt: [Int32]
        let count: Int
        let outside: [(offset: Int, label: Int)]

        /// The label of an offset, if it has one.
        func label(at offset: Int) -> Int? {
            if offset >= 0 && offset < count {
                let l = labelAt[offset]
                return l > 0 ? Int(l) : nil
            }
            return outside.first { $0.offset == offset }?.label
        }
    }

    /// What `dis` works out about one code object before printing it; line starts, targets
    /// and labels are left in the `Scratch`.
    struct Analysis {
        /// Set when the analysis decoded the instructions (3.13); where its problem went.
        var decodeError: ConcreteError?
        var decodeErrorAt: Int
        var exceptionEntries: [ExceptionTableEntry]
        /// 3.13: the number of labels.
        var labelCount: Int
    }

    /// With `scanJumps` false (only when labels are not numbered), jump targets are left to
    /// the caller: see `write`.
    func analyze<S: DisassemblySource>(
        _ code: S, bytes: UnsafeBufferPointer<UInt8>, scratch: inout Scratch, problems: inout [Problem],
        scanJumps: Bool = true
    ) -> Analysis {
        func problem(_ message: String) {
            problems.append(Problem(codeName: code.nameText, message: message))
        }
        let n = bytes.count
        // The decoding error comes first, as if the code were decoded before anything else; it
        // is known once the instructions below have been walked.
        let decodeErrorAt = problems.count

        scratch.lineStarts.removeAll(keepingCapacity: true)
        let lineError = code.withLineTable { table -> LineTableError? in
            guard let table else { return nil }
            do throws(LineTableError) {
                try LineTable.appendLineStarts(
                    table, format: version.lineTableFormat, firstLine: code.firstLine, codeLength: n,
                    to: &scratch.lineStarts)
                return nil
            } catch {
                return error
            }
        }
        if let lineError {
            scratch.lineStarts.removeAll(keepingCapacity: true)
            problem("\(version.lineTableFieldName): \(lineError)")
        }
        // One start per offset, the last one winning.
        let duplicates = scratch.lineStarts.withUnsafeMutableBufferPointer { s -> Int in
            guard s.count > 1 else { return 0 }
            var kept = 1
            for i in 1..<s.count {
                if s[i].offset == s[kept - 1].offset {
                    s[kept - 1] = s[i]
                } else {
                    s[kept] = s[i]
                    kept += 1
                }
            }
            return s.count - kept
        }
        scratch.lineStarts.removeLast(duplicates)

        var exceptionEntries: [ExceptionTableEntry] = []
        if style.printsExceptionTable, let table = code.exceptionTable(using: &scratch.exceptionTable) {
            do {
                exceptionEntries = try ExceptionTable.decode(table)
            } catch {
                problem("co_exceptiontable: \(error)")
            }
        }

        scratch.markCount = Scratch.reset(&scratch.marks, count: n + 1)
        scratch.outsideLabels.removeAll(keepingCapacity: true)
        let labels = style.layout == .labels
        var outside: [Int] = []
        func mark(_ offset: Int, _ bit: UInt8) {
            if offset >= 0 && offset <= n {
                scratch.marks[offset] |= bit
            } else if labels {
                outside.append(offset)
            }
        }
        // Jump targets (`write` marks them itself as it prints, when labels are not numbered).
        var decodeError: ConcreteError? = nil
        if scanJumps || labels {
            var decoder = InstructionDecoder(bytes, traits: traits)
            let facts = opcodeFacts
            while let ins = decoder.next() {
                let fact = facts[Int(ins.opcode)]
                guard fact.scanned, let target = scanInstruction(ins, fact: fact, codeLength: n, problem: problem)
                else { continue }
                mark(target, Scratch.jumpTarget)
            }
            decodeError = decoder.error
        }
        var labelCount = 0
        if labels {
            for e in exceptionEntries {
                mark(e.startOffset, Scratch.labelled)
                mark(e.endOffset, Scratch.labelled)
                mark(e.targetOffset, Scratch.labelled)
            }
            // Labels number the marked offsets in ascending order.
            outside.sort()
            var next = 1
            var last: Int? = nil
            for off in outside where off < 0 && off != last {
                scratch.outsideLabels.append((off, next))
                next += 1
                last = off
            }
            scratch.labelAtCount = Scratch.reset(&scratch.labelAt, count: n + 1)
            for off in 0...n where scratch.marks[off] != 0 {
                scratch.labelAt[off] = Int32(next)
                next += 1
            }
            for off in outside where off > n && off != last {
                scratch.outsideLabels.append((off, next))
                next += 1
                last = off
            }
            labelCount = next - 1
        } else {
            scratch.labelAtCount = 0
            for e in exceptionEntries where e.end > e.start { mark(e.targetOffset, Scratch.jumpTarget) }
        }
        if let decodeError {
            problems.insert(Problem(codeName: code.nameText, message: decodeError.description), at: decodeErrorAt)
        }
        return Analysis(
            decodeError: decodeError, decodeErrorAt: decodeErrorAt, exceptionEntries: exceptionEntries,
            labelCount: labelCount)
    }

    /// The jump-target scan of one instruction that jumps or that the version does not know
    /// (`OpcodeFacts.scanned`): the offset to mark, if any; problems (a jump outside the code,
    /// an unknown opcode) go to `problem`.
    func scanInstruction(
        _ ins: ConcreteInstruction, fact: OpcodeFacts, codeLength n: Int, problem: (String) -> Void
    ) -> Int? {
        var target: Int? = nil
        let op = Int(ins.opcode)
        if !fact.jumps {
            // Not a jump.
        } else if style.labelsIgnoreExtendedArg {
            // 2.7 `findlabels`: the raw 16-bit argument, EXTENDED_ARG ignored.
            if traits.hasArgument[op], let kind = traits.jumpKind[op] {
                target = kind == .absolute ? Int(ins.rawArg) : ins.offset + 3 + Int(ins.rawArg)
            }
        } else if traits.jumpKind[op] != nil, let t = jumpTarget(ins) {
            if t < 0 || t >= n { problem("offset \(ins.offset): jump target \(t) is outside the code") }
            target = t
        }
        if !fact.known { problem("offset \(ins.offset): opcode \(ins.opcode) is unknown to \(version)") }
        return target
    }

    /// What `dis.disassemble(code)` prints for one code object, appended to `text`.
    public func disassemble(_ code: CodeObject, to text: inout [UInt8], problems: inout [Problem]) {
        var out = ByteWriter(capacity: code.codeBytes.count * 32 + 64)
        var scratch = Scratch()
        write(TreeCode(code, usesLocalsPlus: style.usesLocalsPlus), to: &out, scratch: &scratch, problems: &problems)
        text.append(contentsOf: out.bytes)
    }

    func write<S: DisassemblySource>(
        _ code: S, to out: inout ByteWriter, scratch: inout Scratch, problems: inout [Problem]
    ) {
        code.withCodeBytes { bytes in write(code, bytes: bytes, to: &out, scratch: &scratch, problems: &problems) }
    }

    func write<S: DisassemblySource>(
        _ code: S, bytes: UnsafeBufferPointer<UInt8>, to out: inout ByteWriter, scratch: inout Scratch,
        problems: inout [Problem]
    ) {
        switch style.layout {
        case .printStatement:
            write(code, bytes: bytes, layout: PrintStatementLayout.self, to: &out, scratch: &scratch, problems: &problems)
        case .fields:
            write(code, bytes: bytes, layout: FieldsLayout.self, to: &out, scratch: &scratch, problems: &problems)
        case .labels:
            write(code, bytes: bytes, layout: LabelsLayout.self, to: &out, scratch: &scratch, problems: &problems)
        }
    }

    /// `write` for the version's layout, `L` (`style.layout`): the printing loop is compiled once
    /// per layout, with the layout's tests decided.
    private func write<S: DisassemblySource, L: ListingLayout>(
        _ code: S, bytes: UnsafeBufferPointer<UInt8>, layout: L.Type, to out: inout ByteWriter,
        scratch: inout Scratch, problems: inout [Problem]
    ) {
        // Without labels, this loop marks jump targets itself: a forward target before its line
        // is printed, a backward one by writing ">>" into its line (`Scratch.printed`,
        // `markerAt`). Its problems go where `analyze` would have put them.
        let scans = L.layout != .labels
        var a = analyze(code, bytes: bytes, scratch: &scratch, problems: &problems, scanJumps: !scans)
        let scanProblemsAt = problems.count
        var scanProblems: [Problem] = []
        let lineStarts = scratch.lineStarts
        var marks = scratch.marks
        scratch.marks = []
        var markerAt = scratch.markerAt
        scratch.markerAt = []
        if scans && markerAt.count < bytes.count { markerAt += repeatElement(0, count: bytes.count - markerAt.count) }
        let markCount = scratch.markCount
        let labelAt = scratch.labelAt
        let labelAtCount = scratch.labelAtCount
        let labelTable = scratch.labels

        // Column widths.
        var linenoWidth = 3
        var showLineno = true
        switch L.layout {
        case .printStatement:
            break
        case .fields:
            if style.omitsLineColumnWithoutLines && lineStarts.isEmpty { showLineno = false }
            if style.adaptiveWidths {
                var maxLine: Int? = nil
                for s in lineStarts { if let l = s.line, l > (maxLine ?? Int.min) { maxLine = l } }
                if let maxLine, maxLine >= 1000 { linenoWidth = decimalWidth(maxLine) }
            }
        case .labels:
            var maxLine = -1
            var seen = false
            var noLine = false
            for s in lineStarts {
                guard let l = s.line else {
                    noLine = true
                    continue
                }
                if l != 0 && (!seen || l > maxLine) {
                    maxLine = l
                    seen = true
                }
            }
            if maxLine == -1 {
                showLineno = false
            } else {
                linenoWidth = max(3, decimalWidth(maxLine))
                if linenoWidth < 4 && noLine { linenoWidth = 4 }
            }
        }
        var offsetWidth = 4
        if style.adaptiveWidths && bytes.count - 2 >= 10000 { offsetWidth = decimalWidth(bytes.count - 2) }
        let labelWidth = 4 + decimalWidth(a.labelCount)

        // Constants' reprs: written when first needed, copied from there after.
        let constCount = code.constantCount
        let spanBase = scratch.constSpans.count
        scratch.constSpans.append(contentsOf: repeatElement(-1, count: constCount))

        // Instructions, written straight into `out`. Right-stripping (3.x) only ever removes the
        // padding of an opname with no argument after it, so such names are written unpadded.
        let labels = L.layout == .labels
        // Only 2.7 prints long arguments, and only 2.7 has the print-statement layout: the loop
        // tests the layout, which is decided when it is compiled.
        precondition(!style.extendedArgumentIsLong || L.layout == .printStatement)
        // Room for the fixed part of a line: columns, opname, argument (wide stores included).
        let lineRoom = 256 + linenoWidth + offsetWidth + labelWidth
        // Where decoding stopped early, if it did. The decoder itself lives inside the loop's
        // closure, where its state can stay in registers.
        var decodeError: ConcreteError? = nil
        // The bodies printed so far, taken out of the scratch while the loop fills them; the
        // stamp tells this code object's apart from earlier ones.
        let stamp = scratch.nextBodyStamp()
        let fileStamp = scratch.fileStamp
        var bodyTable = scratch.bodies
        scratch.bodies = []
        var constSpanTable = scratch.constSpans
        scratch.constSpans = []
        let digitTable = Self.fourDigits
        let codeLength = bytes.count
        withPointers(lineStarts, labelAt, digitTable) { starts, allLabels, fourDigits in
            let labelAt = UnsafeBufferPointer(rebasing: allLabels[..<labelAtCount])
            marks.withUnsafeMutableBufferPointer { allMarks in
            let marks = UnsafeMutableBufferPointer(rebasing: allMarks[..<markCount])
            markerAt.withUnsafeMutableBufferPointer { markerAt in
            bodyTable.withUnsafeMutableBufferPointer { bodies in
            constSpanTable.withUnsafeMutableBufferPointer { constSpans in
                names.blocks.withUnsafeBytes { blocks in
                    opcodeFacts.withUnsafeBufferPointer { facts in
                        // The layout's tests again, from `L` itself rather than captured: this
                        // closure (compiled on its own) then has them decided per layout. (Captured,
                        // they were loaded on every line, and the layouts shared one closure.)
                        let scans = L.layout != .labels
                        let labels = L.layout == .labels
                        let strips = L.layout != .printStatement
                        let parens27 = L.layout == .printStatement
                        let extendedIsLong = L.layout == .printStatement && style.extendedArgumentIsLong
                        var lineIndex = 0
                        var nextStart = starts.count > 0 ? starts[0].offset : Int.max
                        // The offset column (marker and offset) from a table, when it is 4 wide.
                        let tableOffsets = !labels && offsetWidth == 4
                        var decoder = InstructionDecoder(bytes, traits: traits)
                        var pendingExtended = false
                        defer { decodeError = decoder.error }
                        while let ins = decoder.next() {
                            let offset = ins.offset
                            var startsLine = false
                            if offset >= nextStart {
                                while lineIndex < starts.count && starts[lineIndex].offset < offset { lineIndex &+= 1 }
                                nextStart = lineIndex < starts.count ? starts[lineIndex].offset : Int.max
                                startsLine = nextStart == offset
                            }
                            let opcode = ins.opcode
                            let fact = facts[Int(opcode)]
                            let name = blocks.baseAddress! + Int(opcode) &* OpcodeNames.blockSize
                            let nameLength = Int(fact.nameLength)
                            let oparg = ins.oparg
                            let isLong = extendedIsLong && pendingExtended
                            let kind = fact.argumentKind
                            // The rest of the line (opname onwards) is a function of the opcode and
                            // argument, except for jumps and 2.7's long arguments: when this code
                            // object printed it before, it is copied.
                            var slot = -1
                            var key: UInt64 = 0
                            var keyStamp = fileStamp
                            var copyStart = -1
                            var copyCount = 0
                            if let arg = oparg, kind != .jump && !isLong && arg >= 0 && arg < 1 << 24 {
                                var identity: Int32 = -1
                                switch kind.dependence(arg) {
                                case .nothing: break
                                case .object(let table, let i):
                                    if let id = code.identity(of: table, i) { identity = id } else { keyStamp = stamp }
                                case .codeObject: keyStamp = stamp
                                }
                                key = Scratch.Body.key(opcode: opcode, argument: arg, identity: identity)
                                let hash = (key &* 0x9E37_79B9_7F4A_7C15) >> (64 - Scratch.bodyBits)
                                slot = Int(truncatingIfNeeded: hash)
                                let known = bodies[slot]
                                if known.key == key && known.span >> 48 == keyStamp {
                                    copyStart = Int(truncatingIfNeeded: known.span & 0xFFFF_FFFF)
                                    copyCount = Int(truncatingIfNeeded: known.span >> 32 & 0xFFFF)
                                }
                            }
                            out.withCursor(reserving: lineRoom &+ copyCount) { c, base in
                                if showLineno {
                                    if startsLine {
                                        if offset > 0 { c.byte(0x0A) }  // blank line before a new source line
                                        if let l = starts[lineIndex].line {
                                            if linenoWidth == 3 && l >= 0 && l < 1000 {
                                                // The last three characters of the four, then " ".
                                                c.store4(fourDigits[l] >> 8 | 0x2000_0000, at: 0)
                                                c.advance(4)
                                            } else {
                                                c.decimal(l, width: linenoWidth)
                                                c.byte(0x20)
                                            }
                                        } else {
                                            c.spaces(linenoWidth &- 2)
                                            c.byte(0x2D)
                                            c.byte(0x2D)
                                            c.byte(0x20)
                                        }
                                    } else {
                                        c.spaces(linenoWidth &+ 1)
                                    }
                                }
                                if labels {
                                    let l = offset < labelAt.count ? Int(labelAt[offset]) : 0
                                    if l > 0 {
                                        c.spaces(labelWidth - decimalWidth(l) - 2)
                                        c.byte(0x4C)
                                        c.decimal(l)
                                        c.byte(0x3A)
                                        c.spaces(5)  // " " + "   " + " "
                                    } else {
                                        c.spaces(labelWidth &+ 5)
                                    }
                                } else {
                                    if scans && offset < markerAt.count {
                                        marks[offset] |= Scratch.printed
                                        markerAt[offset] = UnsafePointer(c.position) - base + 4
                                    }
                                    if tableOffsets && offset < 10000 {
                                        // "   " (no current instruction) + " " + ">>" or "  " + " ",
                                        // the offset in 4 columns, " ".
                                        c.blank16()
                                        if offset < marks.count && marks[offset] & Scratch.jumpTarget != 0 {
                                            c.store4(0x2020_3E3E, at: 4)
                                        }
                                        c.store4(fourDigits[offset], at: 7)
                                        c.advance(12)
                                    } else {
                                        if offset < marks.count && marks[offset] & Scratch.jumpTarget != 0 {
                                            c.copyShort(Self.targetMark.utf8Start, count: 7)
                                        } else {
                                            c.spaces(7)
                                        }
                                        c.decimal(offset, width: offsetWidth)
                                        c.byte(0x20)
                                    }
                                }
                                if oparg == nil {
                                    c.copyShort(name, count: strips ? nameLength : max(nameLength, 20))
                                    c.byte(0x0A)
                                } else if copyStart >= 0 {
                                    c.copyShort(base + copyStart, count: copyCount)
                                    c.byte(0x0A)
                                }
                            }
                            if scans && fact.scanned,
                                let t = scanInstruction(ins, fact: fact, codeLength: codeLength, problem: {
                                    scanProblems.append(Problem(codeName: code.nameText, message: $0))
                                }), t >= 0 && t < marks.count
                            {
                                if marks[t] & Scratch.printed != 0 && marks[t] & Scratch.jumpTarget == 0 {
                                    out.overwrite(at: markerAt[t], 0x3E, 0x3E)
                                }
                                marks[t] |= Scratch.jumpTarget
                            }
                            guard let arg = oparg else { continue }
                            if copyStart >= 0 {
                                pendingExtended = fact.isExtendedArg
                                continue
                            }
                            let nameStart = out.count
                            out.withCursor(reserving: 64) { c in
                                c.copyShort(name, count: max(nameLength, 20))
                                let width = labels ? 5 &- max(0, nameLength &- 20) : 5
                                c.byte(0x20)
                                c.decimal(arg, width: isLong ? width &- 1 : width)
                                if isLong { c.byte(0x4C) }
                                // The description in parentheses, dropped below when it is empty.
                                c.byte(0x20)
                                c.byte(0x28)
                            }
                            let bodyStart = out.count
                            var clean = true  // no problem reported: the text may be copied later
                            if kind == .constant && arg >= 0 && arg < constCount {
                                // Never empty, so never truncated below: later uses may copy it.
                                let span = constSpans[spanBase &+ arg]
                                if span >= 0 {
                                    out.appendCopy(from: span >> 32, count: span & 0xFFFF_FFFF)
                                } else {
                                    code.writeConstant(arg, repr: repr, to: &out)
                                    constSpans[spanBase &+ arg] = bodyStart << 32 | (out.count &- bodyStart)
                                }
                            } else if kind != .none {
                                clean = describe(
                                    ins, kind: kind, arg: arg, isLong: isLong, code: code, labels: labelTable,
                                    into: &out, problems: &problems)
                            }
                            // 2.7 prints the parentheses whenever the opcode has a described argument,
                            // even when the description is empty (`from . import x`).
                            if out.count == bodyStart && !(parens27 && fact.parensIn27) {
                                out.truncate(to: bodyStart &- 2)
                            } else {
                                out.append(0x29)
                            }
                            if slot >= 0 && clean,
                                let span = Scratch.Body.span(stamp: keyStamp, start: nameStart, count: out.count &- nameStart)
                            {
                                bodies[slot] = Scratch.Body(key: key, span: span)
                            }
                            if fact.hasArgument {
                                pendingExtended = fact.isExtendedArg
                            }
                            out.append(0x0A)
                        }
                    }
                }
            }
            }
            }
            }
        }
        scratch.bodies = bodyTable
        scratch.constSpans = constSpanTable
        scratch.marks = marks
        scratch.markerAt = markerAt
        if scans {
            if !scanProblems.isEmpty { problems.insert(contentsOf: scanProblems, at: scanProblemsAt) }
            if let error = decodeError {
                a.decodeError = error
                problems.insert(Problem(codeName: code.nameText, message: error.description), at: a.decodeErrorAt)
            }
        }
        if let decodeError = a.decodeError {
            out.append(contentsOf: ("<pyckit: \(decodeError)>\n".utf8))
        }

        // Exception table.
        if style.printsExceptionTable && !a.exceptionEntries.isEmpty {
            out.append("ExceptionTable:\n" as StaticString)
            for e in a.exceptionEntries {
                out.append(0x20)
                out.append(0x20)
                if labels {
                    out.append(0x4C)
                    out.appendDecimal(labelTable.label(at: e.startOffset) ?? 0)
                    out.append(" to L" as StaticString)
                    out.appendDecimal(labelTable.label(at: e.endOffset) ?? 0)
                    out.append(" -> L" as StaticString)
                    out.appendDecimal(labelTable.label(at: e.targetOffset) ?? 0)
                } else {
                    out.appendDecimal(e.startOffset)
                    out.append(" to " as StaticString)
                    out.appendDecimal(e.endOffset - 2)
                    out.append(" -> " as StaticString)
                    out.appendDecimal(e.targetOffset)
                }
                out.append(" [" as StaticString)
                out.appendDecimal(e.depth)
                out.append(0x5D)
                if e.lasti { out.append(" lasti" as StaticString) }
                out.append(0x0A)
            }
        }
    }

    /// 0 to 9999 right-justified in four characters, the first in the low byte.
    static let fourDigits: [UInt32] = (0..<10000).map { v in
        var word: UInt32 = 0x2020_2020
        var m = v
        var shift: UInt32 = 24
        repeat {
            word = word & ~(0xFF << shift) | UInt32(0x30 + m % 10) << shift
            m /= 10
            shift &-= 8
        } while m > 0
        return word
    }

    /// FORMAT_VALUE's description of its argument's low three bits (the first four are also
    /// CONVERT_VALUE's).
    static let formatValueDescriptions: [[UInt8]] = (0..<8).map { bits in
        var s = ["", "str", "repr", "ascii"][bits & 3]
        if bits & 4 != 0 { s += s.isEmpty ? "with format" : ", with format" }
        return Array(s.utf8)
    }

    /// MAKE_FUNCTION's (before 3.13) description of its argument's four flag bits.
    static let functionFlagDescriptions: [[UInt8]] = (0..<16).map { bits in
        let flags = ["defaults", "kwdefaults", "annotations", "closure"]
        return Array(flags.indices.filter { bits & (1 << $0) != 0 }.map { flags[$0] }.joined(separator: ", ").utf8)
    }

    /// `"    >> "`, padded to the 32 bytes `ByteCursor.copyShort` reads.
    static let targetMark: StaticString = "    >> _________________________"

    /// The categories 2.7's `dis` describes (absolute jumps show only their number).
    static let describedIn27: OpcodeInfo.ArgumentCategories = [.const, .name, .jrel, .local, .compare, .free]

    /// The jump target `dis` computes for an instruction (3.11's `dis` leaves out caches).
    func jumpTarget(_ ins: ConcreteInstruction) -> Int? {
        traits.jumpTarget(of: ins, countingCaches: style.jumpTargetsCountCaches)
    }

    // MARK: - Argument descriptions

    /// How `dis` describes an opcode's argument (`argrepr`), decided once per opcode in the
    /// order `Lib/dis.py` tests the opcode lists.
    enum ArgumentKind: UInt8 {
        /// Nothing (also every opcode the version does not define).
        case none
        /// `repr(co_consts[arg])`.
        case constant
        /// `co_names[arg]`; LOAD_GLOBAL with a NULL bit, LOAD_ATTR / LOAD_SUPER_ATTR with a method bit.
        case name, loadGlobal, loadAttribute, loadSuperAttribute
        case jump
        /// Two `co_varnames` / `co_localsplusnames` indices in one argument (3.13).
        case localPair
        case local
        case compare
        case free
        case formatValue, convertValue, functionFlags, binaryOperator, intrinsic1, intrinsic2

        /// What an argument's description depends on besides the opcode and the argument.
        enum Dependence {
            /// Nothing.
            case nothing
            /// One object alone: a constant (table nil), or an entry of a name table.
            case object(NameTable?, Int)
            /// Anything else of the code object (two names, a jump's position).
            case codeObject
        }

        /// Mirrors `describe`: the objects it prints for each kind.
        @inline(__always)
        func dependence(_ arg: Int) -> Dependence {
            switch self {
            case .constant: return .object(nil, arg)
            case .name: return .object(.names, arg)
            case .loadGlobal, .loadAttribute: return .object(.names, arg >> 1)
            case .loadSuperAttribute: return .object(.names, arg >> 2)
            case .local: return .object(.locals, arg)
            case .free: return .object(.cells, arg)
            case .localPair, .jump: return .codeObject
            case .none, .compare, .formatValue, .convertValue, .functionFlags, .binaryOperator, .intrinsic1, .intrinsic2:
                return .nothing
            }
        }
    }

    static func argumentKinds(
        style: DisStyle, traits: InstructionTraits, names: OpcodeNames, ops: KnownOpcodes
    ) -> [ArgumentKind] {
        (0..<256).map { i -> ArgumentKind in
            let op = UInt8(i)
            let cat = names.categories[i]
            guard names.known[i] else { return .none }
            if cat.contains(.const) {
                return style.constDescriptionOnlyForLoadConst && op != ops.loadConst ? .none : .constant
            }
            if cat.contains(.name) {
                if op == ops.loadGlobal && style.nullBitStyle != nil { return .loadGlobal }
                if style.attributeMethodBit && op == ops.loadAttr { return .loadAttribute }
                if style.attributeMethodBit && op == ops.loadSuperAttr { return .loadSuperAttribute }
                return .name
            }
            if let kind = traits.jumpKind[i] {
                if kind == .absolute && !style.absoluteJumpsShowTarget { return .none }
                return style.relativeJumpsShowTarget ? .jump : .none
            }
            if op == ops.loadFastLoadFast || op == ops.storeFastLoadFast || op == ops.storeFastStoreFast {
                return .localPair
            }
            if cat.contains(.local) { return .local }
            if cat.contains(.compare) { return .compare }
            if cat.contains(.free) { return .free }
            if op == ops.formatValue { return .formatValue }
            if op == ops.convertValue { return .convertValue }
            if (op == ops.makeFunction && style.makeFunctionShowsFlags) || op == ops.setFunctionAttribute {
                return .functionFlags
            }
            if op == ops.binaryOp { return .binaryOperator }
            if op == ops.callIntrinsic1 { return .intrinsic1 }
            if op == ops.callIntrinsic2 { return .intrinsic2 }
            return .none
        }
    }

    /// Appends `argrepr` of an instruction with an argument.
    func describe<S: DisassemblySource>(
        _ ins: ConcreteInstruction, arg: Int, isLong: Bool, code: S, labels: Labels,
        into out: inout ByteWriter, problems: inout [Problem]
    ) {
        describe(
            ins, kind: argumentKinds[Int(ins.opcode)], arg: arg, isLong: isLong, code: code, labels: labels,
            into: &out, problems: &problems)
    }

    /// Returns whether it reported no problem.
    @discardableResult
    func describe<S: DisassemblySource>(
        _ ins: ConcreteInstruction, kind: ArgumentKind, arg: Int, isLong: Bool, code: S, labels: Labels,
        into out: inout ByteWriter, problems: inout [Problem]
    ) -> Bool {
        var clean = true
        func problem(_ message: String) {
            problems.append(Problem(codeName: code.nameText, message: message))
            clean = false
        }
        func name(_ table: NameTable, _ i: Int, _ what: String) -> Bool {
            guard code.writeName(table, i, repr: repr, to: &out) else {
                problem("offset \(ins.offset): \(what) index \(i) out of range (\(code.count(of: table)))")
                out.append(contentsOf: "<pyckit: bad \(what) index \(i)>".utf8)
                return false
            }
            return true
        }
        switch kind {
        case .none:
            break
        case .constant:
            let count = code.constantCount
            guard arg >= 0 && arg < count else {
                problem("offset \(ins.offset): constant index \(arg) out of range (\(count))")
                out.append(contentsOf: "<pyckit: bad constant index \(arg)>".utf8)
                return clean
            }
            code.writeConstant(arg, repr: repr, to: &out)
        case .name:
            _ = name(.names, arg, "name")
        case .loadGlobal:
            let nullStyle = style.nullBitStyle
            if arg & 1 != 0 && nullStyle == .prefix { out.append("NULL + " as StaticString) }
            let ok = name(.names, arg >> 1, "name")
            if ok && arg & 1 != 0 && nullStyle == .suffix { out.append(" + NULL" as StaticString) }
        case .loadAttribute, .loadSuperAttribute:
            let index = kind == .loadAttribute ? arg >> 1 : arg >> 2
            let prefix = style.nullBitStyle == .prefix
            if arg & 1 != 0 && prefix { out.append("NULL|self + " as StaticString) }
            let ok = name(.names, index, "name")
            if ok && arg & 1 != 0 && !prefix { out.append(" + NULL|self" as StaticString) }
        case .jump:
            let target = jumpTarget(ins) ?? 0
            if style.layout == .labels {
                out.append("to L" as StaticString)
                out.appendDecimal(labels.label(at: target) ?? 0)
            } else {
                out.append("to " as StaticString)
                out.appendDecimal(target)
                if isLong { out.append(0x4C) }
            }
        case .localPair:
            _ = name(.locals, arg >> 4, "local")
            out.append(0x2C)
            out.append(0x20)
            _ = name(.locals, arg & 15, "local")
        case .local:
            _ = name(.locals, arg, "local")
        case .compare:
            let i = arg >> style.compareShift
            let cmp = compareNames
            guard i >= 0 && i < cmp.count else {
                problem("offset \(ins.offset): comparison \(i) out of range")
                return clean
            }
            if style.compareBoolBit && arg & 16 != 0 {
                out.append("bool(" as StaticString)
                out.append(cmp[i])
                out.append(0x29)
            } else {
                out.append(cmp[i])
            }
        case .free:
            _ = name(.cells, arg, "cell or free variable")
        case .formatValue:
            out.append(Self.formatValueDescriptions[arg & 7])
        case .convertValue:
            if arg >= 0 && arg < 4 { out.append(Self.formatValueDescriptions[arg]) }
        case .functionFlags:
            out.append(Self.functionFlagDescriptions[arg & 15])
        case .binaryOperator:
            let b = binaryOperatorSymbols
            if arg >= 0 && arg < b.count { out.append(b[arg]) }
        case .intrinsic1:
            let n = intrinsic1Names
            if arg >= 0 && arg < n.count { out.append(n[arg]) }
        case .intrinsic2:
            let n = intrinsic2Names
            if arg >= 0 && arg < n.count { out.append(n[arg]) }
        }
        return clean
    }
}

/// Output and scratch space for listing many files on one thread: a buffer reused from file to
/// file allocates almost nothing once it has grown. Not for sharing between threads; hand it
/// from one to another.
public final class ListingBuffer {
    var out = ByteWriter(capacity: 1 << 16)
    var scratch = Disassembler.Scratch()
    var index = MarshalIndex()
    /// The bytes of the file being listed (`listing(pycAt:)`), reused from file to file.
    private var input: [UInt8] = []

    public init() {}

    /// Reads a `.pyc` file into memory kept from file to file and appends its listing as
    /// `Disassembler.listing(pyc:into:)` does; nil, leaving the buffer as it was, for a file that
    /// needs `PycFile(bytes:)` instead.
    public func listing(pycAt path: String) throws(FileIO.Error) -> [Disassembler.Problem]? {
        let count = try FileIO.read(path, into: &input)
        return input.withUnsafeBytes { bytes in
            Disassembler.listing(pyc: UnsafeRawBufferPointer(rebasing: bytes[..<count]), into: self)
        }
    }

    /// Bytes written since the last `removeAll()`.
    public var count: Int { out.count }

    /// Forgets the bytes written, keeping the memory.
    public func removeAll() { out.removeAll() }

    /// Appends bytes (a header before a listing, a listing made elsewhere).
    public func append(_ bytes: [UInt8]) { out.append(bytes) }

    /// The bytes written, valid during `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try out.withUnsafeBytes(body)
    }

    /// The bytes written, copied into an array.
    public var bytes: [UInt8] { out.bytes }
}

/// Each opcode's name as bytes (padded, for `dis`'s 20 columns), and which 2.7 categories it has.
struct OpcodeNames: Sendable {
    let length: [Int]
    let parensIn27: [Bool]
    /// Each opcode's argument categories, and whether the version defines it at all.
    let categories: [OpcodeInfo.ArgumentCategories]
    let known: [Bool]
    /// Opcode `op`'s name at `op * blockSize`, padded with spaces to the end of its block, so
    /// that the first 32 bytes of a block can be copied whole.
    let blocks: [UInt8]
    static let blockSize = 64

    init(_ t: OpcodeTable) {
        categories = (0..<256).map { t[UInt8($0)]?.categories ?? [] }
        known = (0..<256).map { t[UInt8($0)] != nil }
        var length: [Int] = []
        var parens: [Bool] = []
        var blocks: [UInt8] = []
        for op in 0..<256 {
            let info = t[UInt8(op)]
            let name = Array((info?.name ?? "<\(op)>").utf8)
            length.append(name.count)
            parens.append(info.map { !$0.categories.intersection(Disassembler.describedIn27).isEmpty } ?? false)
            precondition(name.count <= Self.blockSize, "opname longer than \(Self.blockSize) bytes")
            blocks += name + Array(repeating: 0x20, count: Self.blockSize - name.count)
        }
        self.length = length
        self.parensIn27 = parens
        self.blocks = blocks
    }
}

/// Opcode numbers `dis` treats specially, looked up by name once (nil where the version has none).
struct KnownOpcodes: Sendable {
    let loadConst, loadGlobal, loadAttr, loadSuperAttr, formatValue, convertValue, makeFunction,
        setFunctionAttribute, binaryOp, callIntrinsic1, callIntrinsic2, loadFastLoadFast, storeFastLoadFast,
        storeFastStoreFast: UInt8?

    init(_ t: OpcodeTable) {
        func op(_ n: String) -> UInt8? { t[n].flatMap { $0.kind == .real ? $0.byte : nil } }
        loadConst = op("LOAD_CONST")
        loadGlobal = op("LOAD_GLOBAL")
        loadAttr = op("LOAD_ATTR")
        loadSuperAttr = op("LOAD_SUPER_ATTR")
        formatValue = op("FORMAT_VALUE")
        convertValue = op("CONVERT_VALUE")
        makeFunction = op("MAKE_FUNCTION")
        setFunctionAttribute = op("SET_FUNCTION_ATTRIBUTE")
        binaryOp = op("BINARY_OP")
        callIntrinsic1 = op("CALL_INTRINSIC_1")
        callIntrinsic2 = op("CALL_INTRINSIC_2")
        loadFastLoadFast = op("LOAD_FAST_LOAD_FAST")
        storeFastLoadFast = op("STORE_FAST_LOAD_FAST")
        storeFastStoreFast = op("STORE_FAST_STORE_FAST")
    }
}

/// Calls `body` with the buffers of three arrays.
@inline(__always)
func withPointers<A, B, C, R>(
    _ a: [A], _ b: [B], _ c: [C],
    _ body: (UnsafeBufferPointer<A>, UnsafeBufferPointer<B>, UnsafeBufferPointer<C>) -> R
) -> R {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in c.withUnsafeBufferPointer { c in body(a, b, c) } }
    }
}

/// Appends a decimal integer right-justified to `width`.
@inline(__always) func appendInt(_ value: Int, width: Int, to out: inout ByteWriter) {
    out.appendDecimal(value, width: width)
}

/// The number of characters of `String(v)`, sign included.
@inline(__always) func decimalWidth(_ v: Int) -> Int {
    var n = v < 0 ? 2 : 1
    var m = v.magnitude
    while m >= 10 {
        m /= 10
        n += 1
    }
    return n
}

/// A `DisStyle.Layout` as a type, so that `Disassembler.write` is specialized per layout.
protocol ListingLayout {
    static var layout: DisStyle.Layout { get }
}

enum PrintStatementLayout: ListingLayout {
    static var layout: DisStyle.Layout { .printStatement }
}

enum FieldsLayout: ListingLayout {
    static var layout: DisStyle.Layout { .fields }
}

enum LabelsLayout: ListingLayout {
    static var layout: DisStyle.Layout { .labels }
}
