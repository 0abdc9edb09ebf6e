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
            try cursor.require(count * 2, "long digits")
            var digits: [UInt16] = []
            digits.reserveCapacity(count)
            for _ in 0..<count {
                let d = try cursor.u16("a long digit")
                guard d < 0x8000 else { throw MarshalError(.badLongDigits, at: at) }
                digits.append(d)
            }
            if let top = digits.last, top == 0 { throw MarshalError(.badLongDigits, at: at) }
            // Values that fit in 64 bits stay plain integers (3.x) unless the type is 2.7's long.
            // Five 15-bit digits hold up to 75 bits: they fit in 64 when the top one is below 2**4.
            if !separateLong && (count < 5 || (count == 5 && digits[4] < 16)) {
                var mag: UInt64 = 0
                for d in digits.reversed() { mag = mag << 15 | UInt64(d) }
                if mag <= UInt64(Int64.max) {
                    return .int(n < 0 ? -Int64(mag) : Int64(mag))
                }
                if n < 0 && mag == UInt64(Int64.max) + 1 {
                    return .int(Int64.min)
                }
            }
            var big = BigInt(0)
            for d in digits.reversed() { big = big << 15 | BigInt(d) }
            return .long(n < 0 ? -big : big)
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
