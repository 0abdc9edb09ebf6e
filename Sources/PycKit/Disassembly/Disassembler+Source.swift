// MARK: - What the printer reads

extension Disassembler {
    /// Which of a code object's name tables an argument indexes.
    enum NameTable {
        /// `co_names`.
        case names
        /// `co_varnames`, or from 3.11 `co_localsplusnames`.
        case locals
        /// `co_cellvars + co_freevars`, or from 3.11 `co_localsplusnames`.
        case cells
    }
}

/// One code object as the printer reads it: from the tree (`TreeCode`, over a `CodeObject`) or
/// in place in the marshal bytes (`IndexedCode`, over a `MarshalIndex`). Both give the same
/// listing; the second builds no object per name or constant.
protocol DisassemblySource {
    /// `co_firstlineno`.
    var firstLine: Int { get }
    /// `co_name` as text, for problem messages.
    var nameText: String { get }
    /// Calls `body` with `co_code`, empty when it is not bytes.
    func withCodeBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
    /// Calls `body` with `co_lnotab` / `co_linetable`, or with nil when it is not bytes.
    func withLineTable<R>(_ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R
    /// `co_exceptiontable`, nil when it is not bytes; a source without an array of it fills `scratch`.
    func exceptionTable(using scratch: inout [UInt8]) -> [UInt8]?
    /// `len(co_consts)` (0 when it is not a sequence).
    var constantCount: Int { get }
    /// Constant `i`, if it is a code object.
    func nestedCode(_ i: Int) -> Self?
    /// Appends `repr(co_consts[i])`.
    func writeConstant(_ i: Int, repr: PyRepr, to out: inout ByteWriter)
    /// The number of entries of `table`.
    func count(of table: Disassembler.NameTable) -> Int
    /// Appends entry `i` of `table` as `dis` prints a name: the text itself (2.7 `str` bytes as
    /// they are; 3.x text as UTF-8, lone surrogates as `\udXXX` like the reference script's
    /// `backslashreplace`), the repr of anything else. Returns false, writing nothing, when the
    /// table has no entry `i`.
    func writeName(_ table: Disassembler.NameTable, _ i: Int, repr: PyRepr, to out: inout ByteWriter) -> Bool
    /// An identity of constant `i` (`table` nil) or of entry `i` of `table`: equal for two
    /// such entries of code objects of the same file exactly when they are the same object, so
    /// that what is printed for one is printed for the other. Nil when `i` is out of range, or
    /// the source cannot tell.
    func identity(of table: Disassembler.NameTable?, _ i: Int) -> Int32?
}

// MARK: - The tree

/// A `CodeObject` with its constant and name tables taken out once.
struct TreeCode: DisassemblySource {
    let code: CodeObject
    let consts: [PyObject]
    let names: [PyObject]
    let locals: [PyObject]
    let cells: [PyObject]
    let usesLocalsPlus: Bool

    init(_ code: CodeObject, usesLocalsPlus: Bool) {
        self.code = code
        self.usesLocalsPlus = usesLocalsPlus
        consts = code.constants
        names = code.names.value.items ?? []
        if usesLocalsPlus {
            locals = code.localsplusnames.value.items ?? []
            cells = locals
        } else {
            locals = code.varnames.value.items ?? []
            cells = (code.cellvars.value.items ?? []) + (code.freevars.value.items ?? [])
        }
    }

    var firstLine: Int { Int(code.firstlineno) }
    var nameText: String { code.nameText }

    func identity(of table: Disassembler.NameTable?, _ i: Int) -> Int32? { nil }

    func withCodeBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        code.codeBytes.withUnsafeBufferPointer { body($0) }
    }

    func withLineTable<R>(_ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        if case .bytes(let table) = code.linetable.value { return table.withUnsafeBufferPointer { body($0) } }
        return body(nil)
    }

    func exceptionTable(using scratch: inout [UInt8]) -> [UInt8]? {
        if case .bytes(let table) = code.exceptiontable.value { return table }
        return nil
    }

    var constantCount: Int { consts.count }

    func nestedCode(_ i: Int) -> TreeCode? {
        guard case .code(let nested) = consts[i].value else { return nil }
        return TreeCode(nested, usesLocalsPlus: usesLocalsPlus)
    }

    func writeConstant(_ i: Int, repr: PyRepr, to out: inout ByteWriter) {
        repr.write(some: consts[i].value, to: &out)
    }

    func count(of table: Disassembler.NameTable) -> Int {
        switch table {
        case .names: return names.count
        case .locals: return locals.count
        case .cells: return cells.count
        }
    }

    func writeName(_ table: Disassembler.NameTable, _ i: Int, repr: PyRepr, to out: inout ByteWriter) -> Bool {
        let list: [PyObject]
        switch table {
        case .names: list = names
        case .locals: list = locals
        case .cells: list = cells
        }
        guard i >= 0 && i < list.count else { return false }
        let value = list[i].value
        switch value {
        case .bytes(let b): out.append(b)
        case .str(let s):
            s.utf8.withUnsafeBufferPointer { appendName(text: $0, isASCII: s.isASCII, to: &out) }
        default:
            repr.write(some: value, to: &out)
        }
        return true
    }
}

/// Appends text as `dis` prints a name: UTF-8 as it is, each encoded surrogate as `\udXXX`.
@inline(__always)
func appendName(text b: UnsafeBufferPointer<UInt8>, isASCII: Bool, to out: inout ByteWriter) {
    guard let base = b.baseAddress else { return }
    if isASCII {
        out.append(base, count: b.count)
        return
    }
    var i = 0
    var run = 0
    while i < b.count {
        if b[i] == 0xED, i + 2 < b.count, b[i + 1] >= 0xA0 {
            if run < i { out.append(base + run, count: i - run) }
            let cp = (UInt32(b[i] & 0x0F) << 12) | (UInt32(b[i + 1] & 0x3F) << 6) | UInt32(b[i + 2] & 0x3F)
            out.append(0x5C)
            out.append(0x75)
            for shift in stride(from: 12, through: 0, by: -4) {
                let d = UInt8((cp >> UInt32(shift)) & 15)
                out.append(d < 10 ? 0x30 + d : 0x57 + d)
            }
            i += 3
            run = i
        } else {
            i += 1
        }
    }
    if run < b.count { out.append(base + run, count: b.count - run) }
}

// MARK: - In place

extension MarshalIndex {
    /// The index's tables and the bytes they describe, as pointers valid while the listing that
    /// uses them runs (`Disassembler.listing(pyc:into:)`). Every index in them comes from the
    /// index itself; every payload was bounds-checked when it was indexed.
    struct View {
        let bytes: UnsafeRawPointer
        /// The end of the bytes: a payload ending at least 32 bytes before it can be copied with
        /// wide loads (`ByteCursor.copyShort`).
        let end: UnsafeRawPointer
        let entries: UnsafePointer<Entry>
        let items: UnsafeBufferPointer<Int32>
        let codes: UnsafePointer<Code>
        let separateLong: Bool

        @inline(__always) func entry(_ e: Int32) -> Entry { entries[Int(e)] }

        /// The payload of a `.bytes` or `.text` entry.
        @inline(__always) func payload(_ e: Entry) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: (bytes + Int(e.offset)).assumingMemoryBound(to: UInt8.self), count: Int(e.count))
        }

        /// The items of a tuple, list, set or frozenset entry (none for anything else, or -1).
        @inline(__always) func sequence(_ e: Int32) -> (first: Int, count: Int) {
            guard e >= 0 else { return (0, 0) }
            let x = entries[Int(e)]
            switch x.kind {
            case .tuple, .list, .set, .frozenset: return (Int(x.offset), Int(x.count))
            default: return (0, 0)
            }
        }
    }

    /// One object of the index, for `ReprWriter`; entry -1 stands for a field the version lacks
    /// (`None`).
    struct Value: ReprValue {
        let view: View
        let entry: Int32

        var reprContainer: (kind: ReprContainerKind, count: Int)? {
            guard entry >= 0 else { return nil }
            let e = view.entry(entry)
            switch e.kind {
            case .tuple: return (.tuple, Int(e.count))
            case .list: return (.list, Int(e.count))
            case .set: return (.set, Int(e.count))
            case .frozenset: return (.frozenset, Int(e.count))
            default: return nil
            }
        }

        func reprItem(_ i: Int) -> Value {
            Value(view: view, entry: view.items[Int(view.entry(entry).offset) + i])
        }

        func writeScalarRepr(to w: inout ReprWriter) {
            guard entry >= 0 else { return w.append("None") }
            let e = view.entry(entry)
            let at = Int(e.offset)
            switch e.kind {
            case .null: w.append("NULL")
            case .none: w.append("None")
            case .ellipsis: w.append("Ellipsis")
            case .stopIteration: w.out.append(w.traits.stopIteration)
            case .false: w.append("False")
            case .true: w.append("True")
            case .int32: w.int(Int64(Int32(littleEndian: view.bytes.loadUnaligned(fromByteOffset: at, as: Int32.self))))
            case .int64: w.int(Int64(littleEndian: view.bytes.loadUnaligned(fromByteOffset: at, as: Int64.self)))
            case .long:
                let digits = UnsafeRawBufferPointer(start: view.bytes + at, count: Int(e.count.magnitude) * 2)
                w.scalar(longValue(digits, negative: e.count < 0, separateLong: view.separateLong))
            case .float:
                w.float(double(at), addDotZero: true, alwaysSign: false)
            case .complex:
                w.complex(real: double(at), imag: double(at + 8))
            case .bytes: w.bytes(view.payload(e))
            case .text: w.text(view.payload(e))
            case .code:
                let c = view.codes[at]
                w.code(
                    name: Value(view: view, entry: c.name), filename: Value(view: view, entry: c.filename),
                    firstlineno: c.firstlineno)
            case .tuple, .list, .set, .frozenset: w.value(self, depth: ReprWriter.recursionDepth)
            }
        }

        private func double(_ at: Int) -> Double {
            Double(bitPattern: UInt64(littleEndian: view.bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        }

        func withStringBytes<R>(_ body: (Bool?, UnsafeBufferPointer<UInt8>) -> R) -> R {
            if entry >= 0 {
                let e = view.entry(entry)
                if e.kind == .text { return body(true, view.payload(e)) }
                if e.kind == .bytes { return body(false, view.payload(e)) }
            }
            return body(nil, UnsafeBufferPointer(start: nil, count: 0))
        }
    }
}

/// A code object read in place through a `MarshalIndex`.
struct IndexedCode: DisassemblySource {
    let view: MarshalIndex.View
    /// The code object's index in `view.codes`.
    let index: Int
    let usesLocalsPlus: Bool
    /// Where the name tables' items are in `view.items`: `co_names`; `co_varnames` or
    /// `co_localsplusnames`; `co_cellvars` then `co_freevars`, or `co_localsplusnames` and none.
    private let names: (first: Int, count: Int)
    private let locals: (first: Int, count: Int)
    private let cells: (first: Int, count: Int)
    private let free: (first: Int, count: Int)

    init(view: MarshalIndex.View, index: Int, usesLocalsPlus: Bool) {
        self.view = view
        self.index = index
        self.usesLocalsPlus = usesLocalsPlus
        let c = view.codes[index]
        names = view.sequence(c.names)
        if usesLocalsPlus {
            locals = view.sequence(c.localsplusnames)
            cells = locals
            free = (0, 0)
        } else {
            locals = view.sequence(c.varnames)
            cells = view.sequence(c.cellvars)
            free = view.sequence(c.freevars)
        }
    }

    private var code: MarshalIndex.Code { view.codes[index] }

    var firstLine: Int { Int(code.firstlineno) }

    var nameText: String {
        MarshalIndex.Value(view: view, entry: code.name).withStringBytes { isText, b in
            isText == nil ? "" : String(decoding: b, as: UTF8.self)
        }
    }

    /// The payload of a field if it is bytes.
    private func bytesField(_ e: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard e >= 0 else { return nil }
        let x = view.entry(e)
        return x.kind == .bytes ? view.payload(x) : nil
    }

    func withCodeBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        body(bytesField(code.code) ?? UnsafeBufferPointer(start: nil, count: 0))
    }

    func withLineTable<R>(_ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R { body(bytesField(code.linetable)) }

    func exceptionTable(using scratch: inout [UInt8]) -> [UInt8]? {
        guard let b = bytesField(code.exceptiontable) else { return nil }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: b)
        return scratch
    }

    var constantCount: Int { view.sequence(code.consts).count }

    private func constant(_ i: Int) -> Int32 { view.items[view.sequence(code.consts).first + i] }

    func nestedCode(_ i: Int) -> IndexedCode? {
        let e = view.entry(constant(i))
        guard e.kind == .code else { return nil }
        return IndexedCode(view: view, index: Int(e.offset), usesLocalsPlus: usesLocalsPlus)
    }

    func writeConstant(_ i: Int, repr: PyRepr, to out: inout ByteWriter) {
        repr.write(some: MarshalIndex.Value(view: view, entry: constant(i)), to: &out)
    }

    func count(of table: Disassembler.NameTable) -> Int {
        switch table {
        case .names: return names.count
        case .locals: return locals.count
        case .cells: return cells.count + free.count
        }
    }

    /// The entry of a name table's item `i`, if it has one.
    @inline(__always)
    private func nameEntry(_ table: Disassembler.NameTable, _ i: Int) -> Int32? {
        guard i >= 0 else { return nil }
        switch table {
        case .names:
            guard i < names.count else { return nil }
            return view.items[names.first &+ i]
        case .locals:
            guard i < locals.count else { return nil }
            return view.items[locals.first &+ i]
        case .cells:
            if i < cells.count {
                return view.items[cells.first &+ i]
            } else if i &- cells.count < free.count {
                return view.items[free.first &+ i &- cells.count]
            } else {
                return nil
            }
        }
    }

    /// The object's entry in the file's index.
    @inline(__always)
    func identity(of table: Disassembler.NameTable?, _ i: Int) -> Int32? {
        guard let table else { return i >= 0 && i < constantCount ? constant(i) : nil }
        return nameEntry(table, i)
    }

    @inline(__always)
    func writeName(_ table: Disassembler.NameTable, _ i: Int, repr: PyRepr, to out: inout ByteWriter) -> Bool {
        guard let e = nameEntry(table, i) else { return false }
        let x = view.entry(e)
        switch x.kind {
        case .text where x.isASCII && x.count <= 32:
            let p = view.bytes + Int(x.offset)
            if view.end - p >= 32 {
                out.appendShort(p, count: Int(x.count))
            } else {
                out.append(p, count: Int(x.count))
            }
        case .text: appendName(text: view.payload(x), isASCII: x.isASCII, to: &out)
        case .bytes:
            let b = view.payload(x)
            if let base = b.baseAddress { out.append(base, count: b.count) }
        default:
            repr.write(some: MarshalIndex.Value(view: view, entry: e), to: &out)
        }
        return true
    }
}
