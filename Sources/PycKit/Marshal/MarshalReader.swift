import BigInt

/// Reads one marshalled object the way `marshal.loads` of `version` does, keeping each object's
/// encoding (`MarshalEncoding`) so that `MarshalWriter` gives back the same bytes.
///
/// Every length is checked against the bytes left before anything is allocated, nesting is
/// bounded like CPython's (`MAX_MARSHAL_STACK_DEPTH` = 2000) and every back-reference is
/// validated, so hostile input gives a `MarshalError` naming the offset, never a trap.
public struct MarshalReader: Sendable {
    /// CPython's `MAX_MARSHAL_STACK_DEPTH`.
    public static let maxDepth = 2000

    public let version: PythonVersion

    public init(version: PythonVersion) { self.version = version }

    /// Decodes the object at `offset` of `bytes`; returns it and the offset just after it.
    public func read(_ bytes: [UInt8], at offset: Int = 0) throws(MarshalError) -> (object: PyObject, end: Int) {
        // Shallow first, on the caller's stack; input nested deeper is redone on a large stack.
        let shallow = read(bytes, at: offset, depthLimit: LargeStack.shallowDepth)
        if case .failure(let e) = shallow, case .tooDeep = e.kind {
            return try LargeStack.run { read(bytes, at: offset, depthLimit: Self.maxDepth) }.get()
        }
        return try shallow.get()
    }

    private func read(_ bytes: [UInt8], at offset: Int, depthLimit: Int) -> Result<(object: PyObject, end: Int), MarshalError> {
        bytes.withUnsafeBytes { raw in
            var state = State(ByteReader(raw, offset: offset), version: version, depthLimit: depthLimit)
            do throws(MarshalError) {
                let obj = try state.object(depth: 0)
                return .success((obj, state.cursor.offset))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Decodes a whole buffer that holds exactly one object (like `marshal.loads`, but trailing
    /// bytes are an error).
    public func loads(_ bytes: [UInt8]) throws(MarshalError) -> PyObject {
        let (obj, end) = try read(bytes)
        guard end == bytes.count else { throw MarshalError(.trailingBytes(count: bytes.count - end), at: end) }
        return obj
    }
}

extension MarshalReader {
    fileprivate struct State: ~Copyable {
        var cursor: ByteReader
        let version: PythonVersion
        let stringTable: Bool
        let bytesAreStr: Bool
        let separateLong: Bool
        /// The reference table: 3.x FLAG_REF slots, or 2.7's interned-string table.
        var refs: [PyObject] = []
        /// Whether each slot's object has been completely read.
        var complete: [Bool] = []

        /// Nesting allowed in this pass (`MarshalReader.maxDepth` on a large stack).
        let depthLimit: Int

        init(_ cursor: consuming ByteReader, version: PythonVersion, depthLimit: Int) {
            self.cursor = cursor
            self.depthLimit = depthLimit
            self.version = version
            self.stringTable = version.usesStringTable
            self.bytesAreStr = version.marshalsBytesAsStr
            self.separateLong = version.hasSeparateLongType
        }

        mutating func object(depth: Int) throws(MarshalError) -> PyObject {
            let start = cursor.offset
            guard depth < depthLimit else { throw MarshalError(.tooDeep(limit: depthLimit), at: start) }
            let byte = try cursor.u8("a type code")
            var flagged = byte & MarshalType.flagRef != 0
            let type = byte & ~MarshalType.flagRef
            if stringTable && flagged { throw MarshalError(.unknownType(byte), at: start) }

            // Reserve the slot before the payload: slots are numbered in pre-order.
            var slot: Int32 = -1
            if flagged {
                switch type {
                case MarshalType.null, MarshalType.none, MarshalType.false, MarshalType.true,
                    MarshalType.stopIteration, MarshalType.ellipsis, MarshalType.ref:
                    // CPython never flags these; a flag on them takes no slot.
                    flagged = true
                default:
                    slot = Int32(refs.count)
                    refs.append(PyObject(.null))
                    complete.append(false)
                }
            }

            let value: PyValue
            switch type {
            case MarshalType.null: value = .null
            case MarshalType.none: value = .none
            case MarshalType.false: value = .bool(false)
            case MarshalType.true: value = .bool(true)
            case MarshalType.stopIteration: value = .stopIteration
            case MarshalType.ellipsis: value = .ellipsis
            case MarshalType.int:
                let v = Int64(try cursor.i32("an int32"))
                value = .int(v)
            case MarshalType.int64:
                value = .int(Int64(bitPattern: try cursor.u64("an int64")))
            case MarshalType.long:
                value = try long()
            case MarshalType.floatBinary:
                value = .float(Double(bitPattern: try cursor.u64("a binary float")))
            case MarshalType.complexBinary:
                let re = Double(bitPattern: try cursor.u64("a binary float"))
                let im = Double(bitPattern: try cursor.u64("a binary float"))
                value = .complex(real: re, imag: im)
            case MarshalType.floatText:
                value = .float(try textFloat())
            case MarshalType.complexText:
                let re = try textFloat()
                let im = try textFloat()
                value = .complex(real: re, imag: im)
            case MarshalType.string:
                let n = try length("a string length")
                let b = try cursor.bytes(n, "string bytes")
                value = .bytes(b)
            case MarshalType.interned:
                let n = try length("a string length")
                if stringTable {
                    // 2.7: an interned str, appended to the string table.
                    let b = try cursor.bytes(n, "string bytes")
                    slot = Int32(refs.count)
                    let obj = PyObject(.bytes(b), encoding: MarshalEncoding(typeCode: type, flagged: false, slot: slot))
                    refs.append(obj)
                    complete.append(true)
                    return obj
                }
                value = .str(try utf8(n))
            case MarshalType.unicode:
                let n = try length("a string length")
                value = .str(try utf8(n))
            case MarshalType.ascii, MarshalType.asciiInterned:
                guard !stringTable else { throw MarshalError(.unknownType(byte), at: start) }
                let n = try length("a string length")
                value = .str(PyString(latin1: try cursor.bytes(n, "ASCII bytes")))
            case MarshalType.shortASCII, MarshalType.shortASCIIInterned:
                guard !stringTable else { throw MarshalError(.unknownType(byte), at: start) }
                let n = Int(try cursor.u8("a short string length"))
                value = .str(PyString(latin1: try cursor.bytes(n, "ASCII bytes")))
            case MarshalType.tuple:
                let n = try length("a tuple size")
                value = .tuple(try items(n, depth: depth))
            case MarshalType.smallTuple:
                guard !stringTable else { throw MarshalError(.unknownType(byte), at: start) }
                let n = Int(try cursor.u8("a small tuple size"))
                value = .tuple(try items(n, depth: depth))
            case MarshalType.list:
                let n = try length("a list size")
                value = .list(try items(n, depth: depth))
            case MarshalType.set:
                let n = try length("a set size")
                value = .set(try items(n, depth: depth))
            case MarshalType.frozenset:
                let n = try length("a frozenset size")
                value = .frozenset(try items(n, depth: depth))
            case MarshalType.dict:
                var entries: [PyDictEntry] = []
                while true {
                    let key = try object(depth: depth + 1)
                    if case .null = key.value { break }
                    let v = try object(depth: depth + 1)
                    entries.append(PyDictEntry(key: key, value: v))
                }
                value = .dict(entries)
            case MarshalType.code:
                value = .code(try code(depth: depth))
            case MarshalType.ref where !stringTable, MarshalType.stringRef where stringTable:
                return try backReference(start: start)
            default:
                throw MarshalError(.unknownType(byte), at: start)
            }
            let obj = PyObject(value, encoding: MarshalEncoding(typeCode: type, flagged: flagged, slot: slot))
            if slot >= 0 && !stringTable {
                refs[Int(slot)] = obj
                complete[Int(slot)] = true
            }
            return obj
        }

        mutating func backReference(start: Int) throws(MarshalError) -> PyObject {
            let index = Int64(try cursor.i32("a reference index"))
            guard index >= 0, index < Int64(refs.count) else {
                throw MarshalError(.invalidReference(index: index, tableSize: refs.count), at: start)
            }
            guard complete[Int(index)] else { throw MarshalError(.recursiveReference(index: index), at: start) }
            var obj = refs[Int(index)]
            obj.encoding.isBackReference = true
            obj.encoding.slot = Int32(index)
            return obj
        }

        /// An i32 length or count, which must be non-negative and fit in the bytes left
        /// (every element takes at least one byte).
        mutating func length(_ what: StaticString) throws(MarshalError) -> Int {
            let at = cursor.offset
            let n = Int64(try cursor.i32(what))
            guard n >= 0, n <= Int64(cursor.remaining) else {
                if n < 0 { throw MarshalError(.badLength(what: "\(what)", value: n), at: at) }
                // "a string length" announces n bytes; a container size at least n (one per item).
                let payload = "\(what)".hasSuffix(" size") ? "the items \(what) of \(n) announces" : "the bytes \(what) of \(n) announces"
                throw MarshalError(.truncated(expected: payload, needed: Int(n), available: cursor.remaining), at: at)
            }
            return Int(n)
        }

        mutating func items(_ n: Int, depth: Int) throws(MarshalError) -> [PyObject] {
            var out: [PyObject] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(try object(depth: depth + 1)) }
            return out
        }

        mutating func utf8(_ n: Int) throws(MarshalError) -> PyString {
            let at = cursor.offset
            let view = try cursor.view(n, "UTF-8 bytes")
            guard let ascii = validateSurrogatePassUTF8(view) else { throw MarshalError(.invalidUTF8, at: at) }
            return PyString(utf8: [UInt8](view), isASCII: ascii)
        }

        mutating func textFloat() throws(MarshalError) -> Double {
            let at = cursor.offset
            let n = Int(try cursor.u8("a float text length"))
            let text = String(decoding: try cursor.view(n, "float text"), as: UTF8.self)
            guard let d = parsePythonFloat(text) else { throw MarshalError(.badFloatText(text), at: at) }
            return d
        }

        /// `l`: i32 n (sign = sign of the value, |n| digits), then |n| 15-bit digits, least
        /// significant first, the top one non-zero (`r_PyLong` in `Python/marshal.c`).
        mutating func long() throws(MarshalError) -> PyValue {
            let at = cursor.offset
            let n = Int64(try cursor.i32("a long digit count"))
            let count = Int(n.magnitude)
            let digits = try cursor.view(count * 2, "long digits")
            guard checkLongDigits(digits) else { throw MarshalError(.badLongDigits, at: at) }
            return longValue(digits, negative: n < 0, separateLong: separateLong)
        }

        mutating func code(depth: Int) throws(MarshalError) -> CodeObject {
            var c = CodeObject()
            for field in version.codeLayout {
                if field.isInteger {
                    c[integer: field] = try cursor.i32("a code object field")
                } else {
                    c[object: field] = try object(depth: depth + 1)
                }
            }
            return c
        }
    }
}

/// Whether a long's 15-bit digits (little-endian u16s, least significant first) are valid:
/// each below 2**15, the top one non-zero (`r_PyLong` in `Python/marshal.c`).
func checkLongDigits(_ digits: UnsafeRawBufferPointer) -> Bool {
    let count = digits.count / 2
    var i = 0
    while i < count {
        let d = UInt16(digits[2 * i]) | UInt16(digits[2 * i + 1]) << 8
        guard d < 0x8000 else { return false }
        if i == count - 1 && d == 0 { return false }
        i += 1
    }
    return true
}

/// The value of checked long digits: a plain integer when it fits in 64 bits (3.x) unless the
/// type is 2.7's `long` (`separateLong`), else a `BigInt`.
func longValue(_ digits: UnsafeRawBufferPointer, negative: Bool, separateLong: Bool) -> PyValue {
    let count = digits.count / 2
    @inline(__always) func digit(_ i: Int) -> UInt16 { UInt16(digits[2 * i]) | UInt16(digits[2 * i + 1]) << 8 }
    // Five 15-bit digits hold up to 75 bits: they fit in 64 when the top one is below 2**4.
    if !separateLong && (count < 5 || (count == 5 && digit(4) < 16)) {
        var mag: UInt64 = 0
        for i in stride(from: count - 1, through: 0, by: -1) { mag = mag << 15 | UInt64(digit(i)) }
        if mag <= UInt64(Int64.max) {
            return .int(negative ? -Int64(mag) : Int64(mag))
        }
        if negative && mag == UInt64(Int64.max) + 1 {
            return .int(Int64.min)
        }
    }
    var big = BigInt(0)
    for i in stride(from: count - 1, through: 0, by: -1) { big = big << 15 | BigInt(digit(i)) }
    return .long(negative ? -big : big)
}

/// Parses the text forms marshal writes for floats (`%.17g`, `inf`, `nan`, `-0`).
func parsePythonFloat(_ text: String) -> Double? {
    switch text.lowercased() {
    case "inf", "+inf", "infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan", "+nan": return .nan
    case "-nan": return -Double.nan
    default: return Double(text)
    }
}

// MARK: - Index

/// One marshalled object tree read in place: an entry per object, its payload left in the
/// bytes. `pyckit dis` reads code objects through it without building a `PyObject` per name
/// and constant (`MarshalIndex.View` in `Disassembly/`).
///
/// It reads what CPython writes and checks all that `MarshalReader` checks; what it does not
/// handle — dicts, text floats, `a`/`z` strings with bytes ≥ 0x80, nesting deeper than
/// `LargeStack.shallowDepth`, or any error — makes `read` return nil, and the caller falls back
/// to `MarshalReader`, which builds the tree or reports the error.
struct MarshalIndex {
    enum Kind: UInt8 {
        case null, none, stopIteration, ellipsis, `false`, `true`
        /// `offset`: the i32 or i64 payload.
        case int32, int64
        /// `offset`: the digits; `count`: the signed digit count as stored.
        case long
        /// `offset`: one or two binary doubles.
        case float, complex
        /// `offset`, `count`: the payload bytes (`text`: UTF-8, surrogates as `surrogatepass`).
        case bytes, text
        /// `offset`: the first item's position in `items`; `count`: the item count.
        case tuple, list, set, frozenset
        /// `offset`: the index in `codes`.
        case code
    }

    struct Entry {
        var kind: Kind
        /// For `.text`: every byte is ASCII.
        var isASCII = false
        /// Whether the object has been read completely (a back-reference to it is valid).
        var complete = false
        var offset: Int32 = 0
        var count: Int32 = 0
    }

    /// A code object's fields: the integers, and an entry index per object field (-1: the
    /// version has no such field, which reads as `None`).
    struct Code {
        var argcount: Int32 = 0, posonlyargcount: Int32 = 0, kwonlyargcount: Int32 = 0, nlocals: Int32 = 0
        var stacksize: Int32 = 0, flags: Int32 = 0, firstlineno: Int32 = 0
        var code: Int32 = -1, consts: Int32 = -1, names: Int32 = -1, varnames: Int32 = -1
        var freevars: Int32 = -1, cellvars: Int32 = -1, localsplusnames: Int32 = -1
        var localspluskinds: Int32 = -1, filename: Int32 = -1, name: Int32 = -1, qualname: Int32 = -1
        var linetable: Int32 = -1, exceptiontable: Int32 = -1
    }

    /// Entries, container items (each container's contiguous, entry indices) and the reference
    /// table (3.x FLAG_REF slots, or 2.7's interned strings; entry indices). The arrays are
    /// storage, kept from file to file and grown to fit each input; the counts say how much of
    /// them the last `read` filled.
    private(set) var entries: [Entry] = []
    private(set) var entryCount = 0
    private(set) var items: [Int32] = []
    private(set) var itemCount = 0
    private var refs: [Int32] = []
    var codes: [Code] = []
    var layout: [CodeObject.Field] = []
    var layoutVersion: PythonVersion? = nil

    /// Why `read` stops: the input needs `MarshalReader`.
    struct Decline: Error {}

    /// Indexes the object at `offset` of `bytes`; returns its entry index (an entry of kind
    /// `.code`), or nil when the input needs `MarshalReader` (see the type's description).
    mutating func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, version: PythonVersion) -> Int32? {
        if layoutVersion != version {
            layout = version.codeLayout
            layoutVersion = version
        }
        guard bytes.count < Int(Int32.max), offset >= 0, offset <= bytes.count else { return nil }
        // Every entry, item and reference takes at least one byte of the input: room for one
        // each per byte left can never run out. The storage starts smaller and doubles (up to
        // that) whenever an input needs more, the input then read again.
        let room = bytes.count - offset + 1
        if entries.count < min(room, 1 << 14) { grow(to: min(room, 1 << 14)) }
        while true {
            switch attempt(bytes, at: offset, version: version) {
            case .root(let root): return root
            case .declined: return nil
            case .outOfRoom:
                guard entries.count < room else { return nil }  // never: see above
                grow(to: min(room, 2 * entries.count))
            }
        }
    }

    /// Makes the entry, item and reference storage `n` long.
    private mutating func grow(to n: Int) {
        entries += repeatElement(Entry(kind: .none), count: n - entries.count)
        items += repeatElement(-1, count: n - items.count)
        refs += repeatElement(-1, count: n - refs.count)
    }

    private enum Attempt {
        case root(Int32)
        case declined
        case outOfRoom
    }

    private mutating func attempt(_ bytes: UnsafeRawBufferPointer, at offset: Int, version: PythonVersion) -> Attempt {
        entryCount = 0
        itemCount = 0
        codes.removeAll(keepingCapacity: true)
        var entryStorage = entries
        var itemStorage = items
        var refStorage = refs
        entries = []
        items = []
        refs = []
        defer {
            entries = entryStorage
            items = itemStorage
            refs = refStorage
        }
        return entryStorage.withUnsafeMutableBufferPointer { e in
            itemStorage.withUnsafeMutableBufferPointer { i in
                refStorage.withUnsafeMutableBufferPointer { r in
                    var state = State(
                        cursor: ByteReader(bytes, offset: offset), stringTable: version.usesStringTable,
                        separateLong: version.hasSeparateLongType, entries: e, items: i, refs: r)
                    do throws(Decline) {
                        let root = try state.object(&self, depth: 0)
                        entryCount = state.entryCount
                        itemCount = state.itemCount
                        guard e[Int(root)].kind == .code else { return .declined }
                        return .root(root)
                    } catch {
                        return state.outOfRoom ? .outOfRoom : .declined
                    }
                }
            }
        }
    }

    private struct State: ~Copyable {
        var cursor: ByteReader
        let stringTable: Bool
        let separateLong: Bool
        let entries: UnsafeMutableBufferPointer<Entry>
        let items: UnsafeMutableBufferPointer<Int32>
        let refs: UnsafeMutableBufferPointer<Int32>
        var entryCount = 0
        var itemCount = 0
        var refCount = 0
        /// Why it declined: the storage is too small (not the input's fault).
        var outOfRoom = false

        init(
            cursor: consuming ByteReader, stringTable: Bool, separateLong: Bool, entries: UnsafeMutableBufferPointer<Entry>,
            items: UnsafeMutableBufferPointer<Int32>, refs: UnsafeMutableBufferPointer<Int32>
        ) {
            self.cursor = cursor
            self.stringTable = stringTable
            self.separateLong = separateLong
            self.entries = entries
            self.items = items
            self.refs = refs
        }

        /// The decline when the storage is too small (not the input's fault): `read` grows it and
        /// reads the input again.
        mutating func outOfRoomDecline() -> Decline {
            outOfRoom = true
            return Decline()
        }

        /// Appends an entry; returns its index.
        @inline(__always) mutating func append(_ e: Entry) throws(Decline) -> Int32 {
            guard entryCount < entries.count else { throw outOfRoomDecline() }
            entries[entryCount] = e
            entryCount &+= 1
            return Int32(truncatingIfNeeded: entryCount &- 1)
        }

        @inline(__always) mutating func appendRef(_ e: Int32) throws(Decline) {
            guard refCount < refs.count else { throw outOfRoomDecline() }
            refs[refCount] = e
            refCount &+= 1
        }

        @inline(__always) mutating func u8() throws(Decline) -> UInt8 {
            do { return try cursor.u8("") } catch { throw Decline() }
        }

        @inline(__always) mutating func i32() throws(Decline) -> Int32 {
            do { return try cursor.i32("") } catch { throw Decline() }
        }

        /// Skips `n` bytes; returns where they start.
        @inline(__always) mutating func skip(_ n: Int) throws(Decline) -> Int32 {
            let at = cursor.offset
            do { _ = try cursor.view(n, "") } catch { throw Decline() }
            return Int32(at)
        }

        /// A non-negative i32 length that fits in the bytes left (`MarshalReader`'s `length`).
        @inline(__always) mutating func length() throws(Decline) -> Int {
            let n = Int(try i32())
            guard n >= 0, n <= cursor.remaining else { throw Decline() }
            return n
        }

        /// A container's item: references and short ASCII strings (3.x), the commonest items,
        /// are read here without a call to `object`, which reads the rest; `depth` is checked
        /// by the caller.
        @inline(__always) mutating func item(_ index: inout MarshalIndex, depth: Int) throws(Decline) -> Int32 {
            if !stringTable && cursor.offset < cursor.end {
                let byte = cursor.base[cursor.offset]
                let type = byte & ~MarshalType.flagRef
                if type == MarshalType.ref {
                    _ = try u8()
                    return try reference()
                }
                if type == MarshalType.shortASCII || type == MarshalType.shortASCIIInterned {
                    _ = try u8()
                    if byte & MarshalType.flagRef != 0 { try appendRef(Int32(truncatingIfNeeded: entryCount)) }
                    return try append(try asciiText(Int(try u8())))
                }
            }
            return try object(&index, depth: depth)
        }

        /// The entry of `n` bytes of ASCII text (3.x `a`, `A`, `z`, `Z`), its length read.
        @inline(__always) mutating func asciiText(_ n: Int) throws(Decline) -> Entry {
            let at = try skip(n)
            // Latin-1 bytes ≥ 0x80 would need re-encoding as UTF-8; CPython never writes them.
            guard isASCII(UnsafeRawBufferPointer(rebasing: cursor.base[Int(at)..<(Int(at) + n)])) else {
                throw Decline()
            }
            return Entry(kind: .text, isASCII: true, complete: true, offset: at, count: Int32(n))
        }

        /// The target of a reference, its type byte read.
        @inline(__always) mutating func reference() throws(Decline) -> Int32 {
            let i = Int(try i32())
            guard i >= 0, i < refCount else { throw Decline() }
            let target = refs[i]
            guard entries[Int(target)].complete else { throw Decline() }
            return target
        }

        mutating func object(_ index: inout MarshalIndex, depth: Int) throws(Decline) -> Int32 {
            guard depth < LargeStack.shallowDepth else { throw Decline() }
            let byte = try u8()
            let flagged = byte & MarshalType.flagRef != 0
            let type = byte & ~MarshalType.flagRef
            if stringTable && flagged { throw Decline() }
            let e = Int32(truncatingIfNeeded: entryCount)
            switch type {
            case MarshalType.ref where !stringTable, MarshalType.stringRef where stringTable:
                return try reference()
            case MarshalType.null, MarshalType.none, MarshalType.false, MarshalType.true,
                MarshalType.stopIteration, MarshalType.ellipsis:
                // CPython never flags these; a flag on them takes no slot.
                let kind: Kind
                switch type {
                case MarshalType.null: kind = .null
                case MarshalType.none: kind = .none
                case MarshalType.false: kind = .false
                case MarshalType.true: kind = .true
                case MarshalType.stopIteration: kind = .stopIteration
                default: kind = .ellipsis
                }
                return try append(Entry(kind: kind, complete: true))
            default:
                break
            }
            if flagged { try appendRef(e) }
            // A leaf is complete once read: it is appended whole. A container or code object
            // takes its entry first (entries are numbered in pre-order) and is completed last.
            let leaf: Entry
            switch type {
            case MarshalType.int:
                leaf = Entry(kind: .int32, complete: true, offset: try skip(4))
            case MarshalType.int64:
                leaf = Entry(kind: .int64, complete: true, offset: try skip(8))
            case MarshalType.long:
                let n = try i32()
                let at = try skip(Int(n.magnitude) * 2)
                let digits = UnsafeRawBufferPointer(rebasing: cursor.base[Int(at)..<(Int(at) + Int(n.magnitude) * 2)])
                guard checkLongDigits(digits) else { throw Decline() }
                leaf = Entry(kind: .long, complete: true, offset: at, count: n)
            case MarshalType.floatBinary:
                leaf = Entry(kind: .float, complete: true, offset: try skip(8))
            case MarshalType.complexBinary:
                leaf = Entry(kind: .complex, complete: true, offset: try skip(16))
            case MarshalType.string:
                let n = try length()
                leaf = Entry(kind: .bytes, complete: true, offset: try skip(n), count: Int32(n))
            case MarshalType.interned where stringTable:
                // 2.7: an interned str, appended to the string table.
                let n = try length()
                leaf = Entry(kind: .bytes, complete: true, offset: try skip(n), count: Int32(n))
                try appendRef(e)
            case MarshalType.interned, MarshalType.unicode:
                let n = try length()
                let at = try skip(n)
                let text = UnsafeRawBufferPointer(rebasing: cursor.base[Int(at)..<(Int(at) + n)])
                guard let ascii = validateSurrogatePassUTF8(text) else { throw Decline() }
                leaf = Entry(kind: .text, isASCII: ascii, complete: true, offset: at, count: Int32(n))
            case MarshalType.shortASCII, MarshalType.shortASCIIInterned, MarshalType.ascii, MarshalType.asciiInterned:
                guard !stringTable else { throw Decline() }
                let short = type == MarshalType.shortASCII || type == MarshalType.shortASCIIInterned
                leaf = try asciiText(short ? Int(try u8()) : try length())
            case MarshalType.tuple, MarshalType.smallTuple, MarshalType.list, MarshalType.set, MarshalType.frozenset:
                let n: Int
                let kind: Kind
                switch type {
                case MarshalType.tuple: (n, kind) = (try length(), .tuple)
                case MarshalType.smallTuple:
                    guard !stringTable else { throw Decline() }
                    (n, kind) = (Int(try u8()), .tuple)
                case MarshalType.list: (n, kind) = (try length(), .list)
                case MarshalType.set: (n, kind) = (try length(), .set)
                default: (n, kind) = (try length(), .frozenset)
                }
                _ = try append(Entry(kind: kind))
                let first = itemCount
                guard n <= items.count - first else { throw outOfRoomDecline() }
                itemCount += n
                // `item` is `object(depth: depth + 1)` with the depth checked once here.
                if n > 0 && depth + 1 >= LargeStack.shallowDepth { throw Decline() }
                for k in 0..<n { items[first + k] = try item(&index, depth: depth + 1) }
                entries[Int(e)] = Entry(kind: kind, complete: true, offset: Int32(first), count: Int32(n))
                return e
            case MarshalType.code:
                _ = try append(Entry(kind: .code))
                let c = index.codes.count
                index.codes.append(Code())
                // Filled here and stored once: nested code objects append to `codes` meanwhile.
                var code = Code()
                for field in index.layout {
                    if field.isInteger {
                        let v = try i32()
                        switch field {
                        case .argcount: code.argcount = v
                        case .posonlyargcount: code.posonlyargcount = v
                        case .kwonlyargcount: code.kwonlyargcount = v
                        case .nlocals: code.nlocals = v
                        case .stacksize: code.stacksize = v
                        case .flags: code.flags = v
                        default: code.firstlineno = v
                        }
                    } else {
                        let v = try object(&index, depth: depth + 1)
                        switch field {
                        case .code: code.code = v
                        case .consts: code.consts = v
                        case .names: code.names = v
                        case .varnames: code.varnames = v
                        case .freevars: code.freevars = v
                        case .cellvars: code.cellvars = v
                        case .localsplusnames: code.localsplusnames = v
                        case .localspluskinds: code.localspluskinds = v
                        case .filename: code.filename = v
                        case .name: code.name = v
                        case .qualname: code.qualname = v
                        case .linetable: code.linetable = v
                        default: code.exceptiontable = v
                        }
                    }
                }
                index.codes[c] = code
                entries[Int(e)] = Entry(kind: .code, complete: true, offset: Int32(c))
                return e
            default:
                // Dicts, text floats, unknown types: the reader's business.
                throw Decline()
            }
            return try append(leaf)
        }

        /// Whether every byte is below 0x80, eight at a time.
        private func isASCII(_ b: UnsafeRawBufferPointer) -> Bool {
            var i = 0
            var acc: UInt64 = 0
            while i + 8 <= b.count {
                acc |= b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < b.count {
                acc |= UInt64(b[i])
                i += 1
            }
            return acc & 0x8080_8080_8080_8080 == 0
        }
    }
}
