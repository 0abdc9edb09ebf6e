/// Prints code objects exactly as a given version's `dis` module does: the reference listing of
/// ARCHITECTURE.md (`dis.disassemble` of the code, then every nested code object depth-first in
/// `co_consts` order under a blank line and `Disassembly of <repr>:`).
///
/// Argument resolution (`argrepr`) follows each release's `Lib/dis.py`; the differences are the
/// version's `DisStyle`. Malformed code is printed as far as it can be decoded; each problem is
/// reported and marked in the text with a `<pyckit: …>` line.
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

    public init(version: PythonVersion) {
        self = Self.shared[version.index]
    }

    private init(building version: PythonVersion) {
        self.version = version
        style = version.disStyle
        repr = PyRepr.of(version)
        traits = version.instructionTraits
        ops = KnownOpcodes(version.opcodes)
        names = OpcodeNames(version.opcodes)
    }

    private static let shared: [Disassembler] = PythonVersion.all.map { Disassembler(building: $0) }

    /// The full reference listing of a module code object and everything nested in it.
    public func listing(_ code: CodeObject) -> (text: [UInt8], problems: [Problem]) {
        var out = ByteWriter(capacity: code.codeBytes.count * 32 + 256)
        var problems: [Problem] = []
        writeRecursive(code, to: &out, problems: &problems, depth: 0)
        return (out.bytes, problems)
    }

    func writeRecursive(_ code: CodeObject, to out: inout ByteWriter, problems: inout [Problem], depth: Int) {
        write(code, to: &out, problems: &problems)
        guard depth < MarshalReader.maxDepth else { return }
        for c in code.constants {
            guard case .code(let nested) = c.value else { continue }
            out.append(0x0A)
            out.append(contentsOf: "Disassembly of ".utf8)
            var r: [UInt8] = []
            repr.write(c.value, to: &r)
            out.append(r)
            out.append(contentsOf: ":\n".utf8)
            writeRecursive(nested, to: &out, problems: &problems, depth: depth + 1)
        }
    }

    // MARK: - One code object

    /// What `dis` works out about one code object before printing it.
    struct Analysis {
        var instructions: [ConcreteInstruction]
        var decodeError: ConcreteError?
        /// Offset → line (nil: "no line", 3.13 only), ascending; later duplicates win, like `dict()`.
        var lineStarts: [(offset: Int, line: Int?)]
        var exceptionEntries: [ExceptionTableEntry]
        /// Jump (and, 3.11/3.12, exception handler) targets marked `>>`.
        var targets: Set<Int>
        /// 3.13: offset → label number.
        var labels: [Int: Int]
    }

    func analyze(_ code: CodeObject, problem: (String) -> Void) -> Analysis {
        let bytes = code.codeBytes
        let (instructions, decodeError) = version.decodeInstructionsLeniently(bytes)
        if let decodeError { problem(decodeError.description) }

        var lineStarts: [(offset: Int, line: Int?)] = []
        if case .bytes(let table) = code.linetable.value {
            do {
                let starts = try LineTable.lineStarts(
                    table, format: version.lineTableFormat, firstLine: Int(code.firstlineno), codeLength: bytes.count)
                for s in starts {
                    if let last = lineStarts.last, last.offset == s.offset {
                        lineStarts[lineStarts.count - 1] = (s.offset, s.line)
                    } else {
                        lineStarts.append((s.offset, s.line))
                    }
                }
            } catch {
                problem("\(version.lineTableFieldName): \(error)")
            }
        }

        var exceptionEntries: [ExceptionTableEntry] = []
        if style.printsExceptionTable, case .bytes(let table) = code.exceptiontable.value {
            do {
                exceptionEntries = try ExceptionTable.decode(table)
            } catch {
                problem("co_exceptiontable: \(error)")
            }
        }

        var targets = Set<Int>()
        for ins in instructions {
            if style.labelsIgnoreExtendedArg {
                // 2.7 `findlabels`: the raw 16-bit argument, EXTENDED_ARG ignored.
                if traits.hasArgument[Int(ins.opcode)], let kind = traits.jumpKind[Int(ins.opcode)] {
                    targets.insert(kind == .absolute ? Int(ins.rawArg) : ins.offset + 3 + Int(ins.rawArg))
                }
            } else if let t = jumpTarget(ins) {
                if t < 0 || t >= bytes.count { problem("offset \(ins.offset): jump target \(t) is outside the code") }
                targets.insert(t)
            }
            if !names.known[Int(ins.opcode)] { problem("offset \(ins.offset): opcode \(ins.opcode) is unknown to \(version)") }
        }
        var labels: [Int: Int] = [:]
        if style.layout == .labels {
            var all = targets
            for e in exceptionEntries {
                all.insert(e.startOffset)
                all.insert(e.endOffset)
                all.insert(e.targetOffset)
            }
            for (i, off) in all.sorted().enumerated() { labels[off] = i + 1 }
        } else {
            for e in exceptionEntries where e.end > e.start { targets.insert(e.targetOffset) }
        }
        return Analysis(
            instructions: instructions, decodeError: decodeError, lineStarts: lineStarts,
            exceptionEntries: exceptionEntries, targets: targets, labels: labels)
    }

    /// What `dis.disassemble(code)` prints for one code object, appended to `text`.
    public func disassemble(_ code: CodeObject, to text: inout [UInt8], problems: inout [Problem]) {
        var out = ByteWriter(capacity: code.codeBytes.count * 32 + 64)
        write(code, to: &out, problems: &problems)
        text.append(contentsOf: out.bytes)
    }

    func write(_ code: CodeObject, to out: inout ByteWriter, problems: inout [Problem]) {
        let name = code.nameText
        func problem(_ message: String) {
            problems.append(Problem(codeName: name, message: message))
        }
        let bytes = code.codeBytes
        let a = analyze(code, problem: problem)
        let instructions = a.instructions, decodeError = a.decodeError, lineStarts = a.lineStarts
        let exceptionEntries = a.exceptionEntries, targets = a.targets, labels = a.labels
        let context = Context(code: code, style: style)
        var pendingExtended = false

        var isTarget = [Bool](repeating: false, count: bytes.count)
        for t in targets where t >= 0 && t < bytes.count { isTarget[t] = true }

        // Column widths.
        let knownLines = lineStarts.compactMap(\.line)
        var linenoWidth = 3
        var showLineno = true
        switch style.layout {
        case .printStatement:
            break
        case .fields:
            if style.omitsLineColumnWithoutLines && lineStarts.isEmpty { showLineno = false }
            if style.adaptiveWidths, let maxLine = knownLines.max(), maxLine >= 1000 {
                linenoWidth = String(maxLine).utf8.count
            }
        case .labels:
            let maxLine = knownLines.filter { $0 != 0 }.max() ?? -1
            if maxLine == -1 {
                showLineno = false
            } else {
                linenoWidth = max(3, String(maxLine).utf8.count)
                if linenoWidth < 4 && lineStarts.contains(where: { $0.line == nil }) { linenoWidth = 4 }
            }
        }
        var offsetWidth = 4
        if style.adaptiveWidths && bytes.count - 2 >= 10000 { offsetWidth = String(bytes.count - 2).utf8.count }
        let labelWidth = 4 + String(labels.count).utf8.count

        // Instructions, written straight into `out`. Right-stripping (3.x) only ever removes the
        // padding of an opname with no argument after it, so such names are written unpadded.
        var lineIndex = 0
        var labelAt: [Int32] = []
        if style.layout == .labels {
            labelAt = [Int32](repeating: 0, count: bytes.count)
            for (off, l) in labels where off >= 0 && off < bytes.count { labelAt[off] = Int32(l) }
        }
        let strips = style.layout != .printStatement
        var constCache = [[UInt8]?](repeating: nil, count: context.consts.count)
        var scratch: [UInt8] = []
        for ins in instructions {
            while lineIndex < lineStarts.count && lineStarts[lineIndex].offset < ins.offset { lineIndex += 1 }
            let startsLine = lineIndex < lineStarts.count && lineStarts[lineIndex].offset == ins.offset
            if startsLine && showLineno && ins.offset > 0 { out.append(0x0A) }  // blank line before a new source line
            if showLineno {
                if startsLine {
                    if let l = lineStarts[lineIndex].line {
                        appendInt(l, width: linenoWidth, to: &out)
                    } else {
                        appendPadded("--", width: linenoWidth, to: &out)
                    }
                } else {
                    out.append(repeating: 0x20, count: linenoWidth)
                }
                out.append(0x20)
            }
            let opcodeIndex = Int(ins.opcode)
            switch style.layout {
            case .printStatement, .fields:
                out.append(contentsOf: [0x20, 0x20, 0x20, 0x20])  // "   " (no current instruction) + " "
                let marked = ins.offset < isTarget.count && isTarget[ins.offset]
                out.append(marked ? 0x3E : 0x20)
                out.append(marked ? 0x3E : 0x20)
                out.append(0x20)
                appendInt(ins.offset, width: offsetWidth, to: &out)
                out.append(0x20)
            case .labels:
                let l = ins.offset < labelAt.count ? Int(labelAt[ins.offset]) : 0
                if l > 0 {
                    let digits = decimalDigits(l)
                    out.append(repeating: 0x20, count: labelWidth - digits - 2)
                    out.append(0x4C)
                    appendInt(l, width: 0, to: &out)
                    out.append(0x3A)
                } else {
                    out.append(repeating: 0x20, count: labelWidth)
                }
                out.append(contentsOf: [0x20, 0x20, 0x20, 0x20])  // " " + "   "
                out.append(0x20)
            }
            guard let arg = ins.oparg else {
                if strips {
                    out.append(contentsOf: names.padded[opcodeIndex].prefix(names.length[opcodeIndex]))
                } else {
                    out.append(contentsOf: names.padded[opcodeIndex])
                }
                out.append(0x0A)
                continue
            }
            out.append(contentsOf: names.padded[opcodeIndex])
            let isLong = style.extendedArgumentIsLong && pendingExtended
            let width = style.layout == .labels ? 5 - max(0, names.length[opcodeIndex] - 20) : 5
            out.append(0x20)
            appendInt(arg, width: isLong ? width - 1 : width, to: &out)
            if isLong { out.append(0x4C) }
            // The description in parentheses; 2.7 prints the parentheses whenever the opcode has
            // a described argument, even when the description is empty (`from . import x`).
            let mark = out.count
            out.append(contentsOf: [0x20, 0x28])
            let bodyStart = out.count
            if names.categories[opcodeIndex].contains(.const), !(style.constDescriptionOnlyForLoadConst && ins.opcode != ops.loadConst), arg >= 0, arg < constCache.count {
                if let cached = constCache[arg] {
                    out.append(contentsOf: cached)
                } else {
                    var r: [UInt8] = []
                    repr.write(context.consts[arg].value, to: &r)
                    constCache[arg] = r
                    out.append(contentsOf: r)
                }
            } else {
                scratch.removeAll(keepingCapacity: true)
                describe(ins, arg: arg, isLong: isLong, context: context, labels: labels, into: &scratch, problem: problem)
                out.append(scratch)
            }
            if out.count == bodyStart && !(style.layout == .printStatement && names.parensIn27[opcodeIndex]) {
                out.truncate(to: mark)
            } else {
                out.append(0x29)
            }
            if traits.hasArgument[opcodeIndex] {
                pendingExtended = ins.opcode == traits.extendedArg
            }
            out.append(0x0A)
        }
        if let decodeError {
            out.append(contentsOf: ("<pyckit: \(decodeError)>\n".utf8))
        }

        // Exception table.
        if style.printsExceptionTable && !exceptionEntries.isEmpty {
            out.append(contentsOf: ("ExceptionTable:\n".utf8))
            for e in exceptionEntries {
                var s: String
                if style.layout == .labels {
                    s = "  L\(labels[e.startOffset] ?? 0) to L\(labels[e.endOffset] ?? 0) -> L\(labels[e.targetOffset] ?? 0) [\(e.depth)]"
                } else {
                    s = "  \(e.startOffset) to \(e.endOffset - 2) -> \(e.targetOffset) [\(e.depth)]"
                }
                if e.lasti { s += " lasti" }
                out.append(contentsOf: s.utf8)
                out.append(0x0A)
            }
        }
    }

    /// The categories 2.7's `dis` describes (absolute jumps show only their number).
    static let describedIn27: OpcodeInfo.ArgumentCategories = [.const, .name, .jrel, .local, .compare, .free]

    /// The jump target `dis` computes for an instruction (3.11's `dis` leaves out caches).
    func jumpTarget(_ ins: ConcreteInstruction) -> Int? {
        version.jumpTarget(of: ins, countingCaches: style.jumpTargetsCountCaches)
    }

    // MARK: - Argument descriptions

    struct Context {
        let consts: [PyObject]
        let names: [PyObject]
        let locals: [PyObject]
        let cells: [PyObject]

        init(code: CodeObject, style: DisStyle) {
            consts = code.constants
            names = code.names.value.items ?? []
            if style.usesLocalsPlus {
                locals = code.localsplusnames.value.items ?? []
                cells = locals
            } else {
                locals = code.varnames.value.items ?? []
                cells = (code.cellvars.value.items ?? []) + (code.freevars.value.items ?? [])
            }
        }
    }

    func describe(
        _ ins: ConcreteInstruction, arg: Int, isLong: Bool, context: Context, labels: [Int: Int],
        into out: inout [UInt8], problem: (String) -> Void
    ) {
        let op = ins.opcode
        guard names.known[Int(op)] else { return }
        let cat = names.categories[Int(op)]
        func name(_ list: [PyObject], _ i: Int, _ what: String) -> Bool {
            guard i >= 0 && i < list.count else {
                problem("offset \(ins.offset): \(what) index \(i) out of range (\(list.count))")
                out.append(contentsOf: ("<pyckit: bad \(what) index \(i)>".utf8))
                return false
            }
            appendName(list[i].value, to: &out)
            return true
        }
        if cat.contains(.const) {
            if style.constDescriptionOnlyForLoadConst && op != ops.loadConst { return }
            guard arg >= 0 && arg < context.consts.count else {
                problem("offset \(ins.offset): constant index \(arg) out of range (\(context.consts.count))")
                out.append(contentsOf: ("<pyckit: bad constant index \(arg)>".utf8))
                return
            }
            repr.write(context.consts[arg].value, to: &out)
        } else if cat.contains(.name) {
            if op == ops.loadGlobal, let nullStyle = style.nullBitStyle {
                if arg & 1 != 0 && nullStyle == .prefix { out.append(contentsOf: ("NULL + ".utf8)) }
                let ok = name(context.names, arg >> 1, "name")
                if ok && arg & 1 != 0 && nullStyle == .suffix { out.append(contentsOf: (" + NULL".utf8)) }
            } else if style.attributeMethodBit && (op == ops.loadAttr || op == ops.loadSuperAttr) {
                let index = op == ops.loadAttr ? arg >> 1 : arg >> 2
                let prefix = style.nullBitStyle == .prefix
                if arg & 1 != 0 && prefix { out.append(contentsOf: ("NULL|self + ".utf8)) }
                let ok = name(context.names, index, "name")
                if ok && arg & 1 != 0 && !prefix { out.append(contentsOf: (" + NULL|self".utf8)) }
            } else {
                _ = name(context.names, arg, "name")
            }
        } else if let kind = traits.jumpKind[Int(op)] {
            if kind == .absolute && !style.absoluteJumpsShowTarget { return }
            if !style.relativeJumpsShowTarget { return }
            let target = jumpTarget(ins) ?? 0
            if style.layout == .labels {
                out.append(contentsOf: ("to L\(labels[target] ?? 0)".utf8))
            } else {
                out.append(contentsOf: ("to \(target)\(isLong ? "L" : "")".utf8))
            }
        } else if op == ops.loadFastLoadFast || op == ops.storeFastLoadFast || op == ops.storeFastStoreFast {
            _ = name(context.locals, arg >> 4, "local")
            out.append(contentsOf: [0x2C, 0x20])
            _ = name(context.locals, arg & 15, "local")
        } else if cat.contains(.local) {
            _ = name(context.locals, arg, "local")
        } else if cat.contains(.compare) {
            let i = arg >> style.compareShift
            let cmp = traits.opcodes.cmpOp
            guard i >= 0 && i < cmp.count else {
                problem("offset \(ins.offset): comparison \(i) out of range")
                return
            }
            if style.compareBoolBit && arg & 16 != 0 {
                out.append(contentsOf: ("bool(\(cmp[i]))".utf8))
            } else {
                out.append(contentsOf: Array(cmp[i].utf8))
            }
        } else if cat.contains(.free) {
            _ = name(context.cells, arg, "cell or free variable")
        } else if op == ops.formatValue {
            var s = ["", "str", "repr", "ascii"][arg & 3]
            if arg & 4 != 0 { s += s.isEmpty ? "with format" : ", with format" }
            out.append(contentsOf: Array(s.utf8))
        } else if op == ops.convertValue {
            if arg >= 0 && arg < 4 { out.append(contentsOf: Array(["", "str", "repr", "ascii"][arg].utf8)) }
        } else if (op == ops.makeFunction && style.makeFunctionShowsFlags) || op == ops.setFunctionAttribute {
            let flags = ["defaults", "kwdefaults", "annotations", "closure"]
            let s = flags.indices.filter { arg & (1 << $0) != 0 }.map { flags[$0] }.joined(separator: ", ")
            out.append(contentsOf: Array(s.utf8))
        } else if op == ops.binaryOp {
            let b = traits.opcodes.binaryOps
            if arg >= 0 && arg < b.count { out.append(contentsOf: Array(b[arg].symbol.utf8)) }
        } else if op == ops.callIntrinsic1 {
            let n = traits.opcodes.intrinsic1Names
            if arg >= 0 && arg < n.count { out.append(contentsOf: Array(n[arg].utf8)) }
        } else if op == ops.callIntrinsic2 {
            let n = traits.opcodes.intrinsic2Names
            if arg >= 0 && arg < n.count { out.append(contentsOf: Array(n[arg].utf8)) }
        }
    }

    /// A name as `dis` prints it: the text itself (2.7 `str` bytes as they are; 3.x text as
    /// UTF-8, lone surrogates as `\udXXX` like the reference script's `backslashreplace`).
    func appendName(_ value: PyValue, to out: inout [UInt8]) {
        switch value {
        case .bytes(let b): out.append(contentsOf: b)
        case .str(let s):
            if s.isASCII {
                out.append(contentsOf: s.utf8)
            } else {
                appendBackslashReplacingSurrogates(s.utf8, to: &out)
            }
        default: repr.write(value, to: &out)
        }
    }
}

/// Each opcode's name as bytes, padded to `dis`'s 20 columns, and which 2.7 categories it has.
struct OpcodeNames: Sendable {
    let padded: [[UInt8]]
    let length: [Int]
    let parensIn27: [Bool]
    /// Each opcode's argument categories, and whether the version defines it at all.
    let categories: [OpcodeInfo.ArgumentCategories]
    let known: [Bool]

    init(_ t: OpcodeTable) {
        categories = (0..<256).map { t[UInt8($0)]?.categories ?? [] }
        known = (0..<256).map { t[UInt8($0)] != nil }
        var padded: [[UInt8]] = []
        var length: [Int] = []
        var parens: [Bool] = []
        for op in 0..<256 {
            let info = t[UInt8(op)]
            let name = Array((info?.name ?? "<\(op)>").utf8)
            length.append(name.count)
            padded.append(name + Array(repeating: 0x20, count: max(0, 20 - name.count)))
            parens.append(info.map { !$0.categories.intersection(Disassembler.describedIn27).isEmpty } ?? false)
        }
        self.padded = padded
        self.length = length
        self.parensIn27 = parens
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

/// Appends a decimal integer right-justified to `width`.
@inline(__always) func appendInt(_ value: Int, width: Int, to out: inout ByteWriter) {
    let digits = decimalDigits(Int(value.magnitude)) + (value < 0 ? 1 : 0)
    out.append(repeating: 0x20, count: width - digits)
    if value < 0 { out.append(0x2D) }
    var m = value.magnitude
    var buf: (UInt64, UInt64, UInt64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &buf) { d in
        var n = 0
        repeat {
            d[23 - n] = 0x30 + UInt8(m % 10)
            m /= 10
            n += 1
        } while m > 0
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[(24 - n)...]))
    }
}

@inline(__always) func appendPadded(_ s: String, width: Int, to out: inout ByteWriter) {
    out.append(repeating: 0x20, count: width - s.utf8.count)
    out.append(contentsOf: s.utf8)
}

/// Number of decimal digits of a non-negative integer.
@inline(__always) func decimalDigits(_ v: Int) -> Int {
    var n = 1
    var m = v
    while m >= 10 {
        m /= 10
        n += 1
    }
    return n
}

/// Copies UTF-8 (with `surrogatepass` surrogates) and writes each encoded surrogate as `\udXXX`.
func appendBackslashReplacingSurrogates(_ b: [UInt8], to out: inout [UInt8]) {
    var i = 0
    let hex = Array("0123456789abcdef".utf8)
    while i < b.count {
        if b[i] == 0xED, i + 2 < b.count, b[i + 1] >= 0xA0 {
            let cp = (UInt32(b[i] & 0x0F) << 12) | (UInt32(b[i + 1] & 0x3F) << 6) | UInt32(b[i + 2] & 0x3F)
            out.append(contentsOf: [0x5C, 0x75])
            for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((cp >> UInt32(shift)) & 15)]) }
            i += 3
        } else {
            out.append(b[i])
            i += 1
        }
    }
}
