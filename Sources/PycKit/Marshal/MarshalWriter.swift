import BigInt
import Foundation

/// Writes objects the way `marshal.dumps` of `version` does.
///
/// An object read by `MarshalReader` is written in the form it was read in (type code, FLAG_REF,
/// back-references), so unedited input comes back byte for byte. An object built in Swift (empty
/// encoding), or one whose value no longer fits its recorded form, gets the form that version's
/// CPython writes for a freshly created object: see `defaultTypeCode` and `defaultFlag`.
public struct MarshalWriter: Sendable {
    public let version: PythonVersion

    public init(version: PythonVersion) { self.version = version }

    /// The bytes of `object`, appended to `prefix`.
    public func dumps(_ object: PyObject, prefix: [UInt8] = []) throws(MarshalError) -> [UInt8] {
        // Shallow first, on the caller's stack; values nested deeper are redone on a large stack.
        let shallow = dumps(object, prefix: prefix, depthLimit: LargeStack.shallowDepth)
        if case .failure(let e) = shallow, case .unencodable(let what) = e.kind, what == State.tooDeepMessage {
            return try LargeStack.run { dumps(object, prefix: prefix, depthLimit: MarshalReader.maxDepth) }.get()
        }
        return try shallow.get()
    }

    private func dumps(_ object: PyObject, prefix: [UInt8], depthLimit: Int) -> Result<[UInt8], MarshalError> {
        var state = State(version: version, capacity: prefix.count + 4096, depthLimit: depthLimit)
        state.out.append(prefix)
        if !version.flagsEveryInternedString && !version.usesStringTable {
            state.countFreshInternedStrings(object, depth: 0)
        }
        do throws(MarshalError) {
            try state.write(object, depth: 0, topLevel: true)
        } catch {
            return .failure(error)
        }
        return .success(state.out.bytes)
    }
}

/// What identifies a cached or interned object CPython would write once and then refer to.
enum SharingKey: Hashable {
    case int(Int64)
    case emptyTuple
    case emptyFrozenset
    case bytes([UInt8])
    case str([UInt8])
}

extension MarshalWriter {
    fileprivate struct State: ~Copyable {
        let version: PythonVersion
        let stringTable: Bool
        var out: ByteWriter
        var nextSlot: Int32 = 0
        /// Original slot (as read) → slot in this output; -1 when not written yet.
        var slotMap: [Int32] = []
        /// The value written in each output slot, so a back-reference is only written when its
        /// value is still the one in the slot (an edit to either side breaks the sharing).
        var slotValues: [PyValue] = []
        /// How often each interned string built in Swift occurs in the value being written
        /// (before 3.11 only an interned string held more than once gets FLAG_REF).
        var freshInternedCounts: [[UInt8]: Int] = [:]
        /// Fresh objects CPython would share, by value → their slot.
        var shared: [SharingKey: Int32] = [:]
        /// 2.7: interned strings written so far → their string-table index (CPython dedupes by value).
        var internedIndex: [[UInt8]: Int32] = [:]

        /// Nesting allowed in this pass (`MarshalReader.maxDepth` on a large stack).
        let depthLimit: Int
        static let tooDeepMessage = "objects nested deeper than \(MarshalReader.maxDepth) levels"

        init(version: PythonVersion, capacity: Int, depthLimit: Int) {
            self.depthLimit = depthLimit
            self.version = version
            self.stringTable = version.usesStringTable
            self.out = ByteWriter(capacity: capacity)
        }

        /// The output slot holding the object that `obj`, a back-reference, referred to when it
        /// was read; -1 when that object was not written or now has another value.
        @inline(__always) func target(of obj: PyObject) -> Int32 {
            let slot = obj.encoding.slot
            guard slot >= 0 && Int(slot) < slotMap.count else { return -1 }
            let t = slotMap[Int(slot)]
            guard t >= 0 && obj.value == slotValues[Int(t)] else { return -1 }
            return t
        }

        /// Gives `obj` the next output slot, remembering which slot it had when read.
        @inline(__always) mutating func register(_ obj: PyObject) {
            slotValues.append(obj.value)
            record(original: obj.encoding.slot, as: nextSlot)
            nextSlot += 1
        }

        @inline(__always) mutating func record(original slot: Int32, as new: Int32) {
            guard slot >= 0 else { return }
            let i = Int(slot)
            if i >= slotMap.count { slotMap.append(contentsOf: repeatElement(-1, count: i + 1 - slotMap.count)) }
            slotMap[i] = new
        }

        /// Counts the interned strings built in Swift (empty encoding, interned hint) in `obj`.
        mutating func countFreshInternedStrings(_ obj: PyObject, depth: Int) {
            guard depth < depthLimit else { return }
            switch obj.value {
            case .str(let s):
                if obj.encoding.typeCode == 0 && obj.encoding.internedHint { freshInternedCounts[s.utf8, default: 0] += 1 }
            case .tuple(let items), .list(let items), .set(let items), .frozenset(let items):
                for i in items { countFreshInternedStrings(i, depth: depth + 1) }
            case .dict(let entries):
                for e in entries {
                    countFreshInternedStrings(e.key, depth: depth + 1)
                    countFreshInternedStrings(e.value, depth: depth + 1)
                }
            case .code(let c):
                for field in version.codeLayout where !field.isInteger {
                    countFreshInternedStrings(c[object: field], depth: depth + 1)
                }
            default:
                break
            }
        }

        /// The order a set's elements are written in: as given, except that from 3.11 CPython
        /// sorts the elements of a set it writes by their own marshalled bytes (bpo-37596), which
        /// PycKit does for sets built in Swift (elements with empty encodings).
        func setOrder(_ items: [PyObject]) throws(MarshalError) -> [PyObject] {
            guard version.sortsSetElements, items.count > 1, items.allSatisfy({ $0.encoding.typeCode == 0 }) else {
                return items
            }
            var keyed: [([UInt8], PyObject)] = []
            for item in items {
                keyed.append((try MarshalWriter(version: version).dumps(item), item))
            }
            keyed.sort { $0.0.lexicographicallyPrecedes($1.0) }
            return keyed.map(\.1)
        }

        mutating func write(_ obj: PyObject, depth: Int, topLevel: Bool = false, inSet: Bool = false) throws(MarshalError) {
            guard depth < depthLimit else { throw MarshalError(.unencodable(Self.tooDeepMessage), at: out.count) }
            let enc = obj.encoding
            if enc.isBackReference && !stringTable {
                let target = target(of: obj)
                if target >= 0 {
                    out.u8(MarshalType.ref)
                    out.i32(target)
                    return
                }
            }
            var type = enc.typeCode
            var flag = enc.isFlagged
            if type == 0 || !fits(type, obj.value) {
                type = defaultTypeCode(obj)
                flag = defaultFlag(obj, type: type, topLevel: topLevel || (inSet && version.flagsSetElements))
            }
            if stringTable {
                try writePy2(obj, type: type, depth: depth)
                return
            }
            var key: SharingKey? = nil
            if flag, let k = sharingKey(obj, type: type) {
                if let slot = shared[k] {
                    out.u8(MarshalType.ref)
                    out.i32(slot)
                    return
                }
                key = k
            }
            switch type {
            case MarshalType.null, MarshalType.none, MarshalType.false, MarshalType.true, MarshalType.stopIteration,
                MarshalType.ellipsis:
                break  // singletons never take a slot, flagged or not (`r_object`)
            default:
                if flag {
                    if let key { shared[key] = nextSlot }
                    register(obj)
                }
            }
            out.u8(flag ? type | MarshalType.flagRef : type)
            try payload(obj.value, type: type, depth: depth)
        }

        /// 2.7: no FLAG_REF; interned `str` go through the string table.
        mutating func writePy2(_ obj: PyObject, type: UInt8, depth: Int) throws(MarshalError) {
            if type == MarshalType.interned, case .bytes(let b) = obj.value {
                let enc = obj.encoding
                if enc.isBackReference, case let t = target(of: obj), t >= 0 {
                    out.u8(MarshalType.stringRef)
                    out.i32(t)
                    return
                }
                if enc.typeCode == 0, let t = internedIndex[b] {
                    out.u8(MarshalType.stringRef)
                    out.i32(t)
                    return
                }
                if internedIndex[b] == nil { internedIndex[b] = nextSlot }
                register(obj)
            }
            out.u8(type)
            try payload(obj.value, type: type, depth: depth)
        }

        mutating func payload(_ value: PyValue, type: UInt8, depth: Int) throws(MarshalError) {
            switch value {
            case .null, .none, .stopIteration, .ellipsis, .bool:
                break
            case .int(let v):
                switch type {
                case MarshalType.int: out.i32(Int32(truncatingIfNeeded: v))
                case MarshalType.int64: out.u64(UInt64(bitPattern: v))
                default: writeLong(BigInt(v))
                }
            case .long(let v):
                writeLong(v)
            case .float(let d):
                if type == MarshalType.floatText { writeTextFloat(d) } else { out.u64(d.bitPattern) }
            case .complex(let re, let im):
                if type == MarshalType.complexText {
                    writeTextFloat(re)
                    writeTextFloat(im)
                } else {
                    out.u64(re.bitPattern)
                    out.u64(im.bitPattern)
                }
            case .bytes(let b):
                try writeLength(b.count)
                out.append(b)
            case .str(let s):
                if type == MarshalType.shortASCII || type == MarshalType.shortASCIIInterned {
                    out.u8(UInt8(s.utf8.count))
                } else {
                    try writeLength(s.utf8.count)
                }
                out.append(s.utf8)
            case .tuple(let items), .list(let items):
                if type == MarshalType.smallTuple { out.u8(UInt8(items.count)) } else { try writeLength(items.count) }
                for item in items { try write(item, depth: depth + 1) }
            case .set(let items), .frozenset(let items):
                try writeLength(items.count)
                for item in try setOrder(items) { try write(item, depth: depth + 1, inSet: true) }
            case .dict(let entries):
                for e in entries {
                    try write(e.key, depth: depth + 1)
                    try write(e.value, depth: depth + 1)
                }
                out.u8(MarshalType.null)
            case .code(let c):
                for field in version.codeLayout {
                    if field.isInteger {
                        out.i32(c[integer: field])
                    } else {
                        try write(c[object: field], depth: depth + 1)
                    }
                }
            }
        }

        mutating func writeLength(_ n: Int) throws(MarshalError) {
            guard n <= Int(Int32.max) else { throw MarshalError(.unencodable("a length of \(n)"), at: out.count) }
            out.i32(Int32(n))
        }

        /// `l`: digit count with the value's sign, then base-2**15 digits, least significant first.
        mutating func writeLong(_ v: BigInt) {
            var mag = v.magnitude
            var digits: [UInt16] = []
            while !mag.isZero {
                digits.append(UInt16(truncatingIfNeeded: mag & 0x7FFF))
                mag >>= 15
            }
            out.i32(v.sign == .minus ? -Int32(digits.count) : Int32(digits.count))
            for d in digits { out.u16(d) }
        }

        /// `%.17g` as CPython's `PyOS_double_to_string(v, 'g', 17, 0)` writes it.
        mutating func writeTextFloat(_ d: Double) {
            let text: String
            if d.isNaN {
                text = "nan"
            } else if d.isInfinite {
                text = d < 0 ? "-inf" : "inf"
            } else {
                text = String(format: "%.17g", d)
            }
            let b = Array(text.utf8)
            out.u8(UInt8(b.count))
            out.append(b)
        }

        // MARK: - Choosing a form for new objects

        /// Whether a recorded type code can still encode `value`.
        func fits(_ type: UInt8, _ value: PyValue) -> Bool {
            switch value {
            case .null: return type == MarshalType.null
            case .none: return type == MarshalType.none
            case .stopIteration: return type == MarshalType.stopIteration
            case .ellipsis: return type == MarshalType.ellipsis
            case .bool(let b): return type == (b ? MarshalType.true : MarshalType.false)
            case .int(let v):
                switch type {
                case MarshalType.int: return Int64(Int32(truncatingIfNeeded: v)) == v
                case MarshalType.int64, MarshalType.long: return true
                default: return false
                }
            case .long: return type == MarshalType.long
            case .float: return type == MarshalType.floatBinary || type == MarshalType.floatText
            case .complex: return type == MarshalType.complexBinary || type == MarshalType.complexText
            case .bytes:
                return type == MarshalType.string || (stringTable && type == MarshalType.interned)
            case .str(let s):
                switch type {
                case MarshalType.unicode: return true
                case MarshalType.interned: return !stringTable
                case MarshalType.ascii, MarshalType.asciiInterned: return s.isASCII
                case MarshalType.shortASCII, MarshalType.shortASCIIInterned: return s.utf8.count < 256 && s.isASCII
                default: return false
                }
            case .tuple(let items):
                return type == MarshalType.tuple || (type == MarshalType.smallTuple && items.count < 256)
            case .list: return type == MarshalType.list
            case .dict: return type == MarshalType.dict
            case .set: return type == MarshalType.set
            case .frozenset: return type == MarshalType.frozenset
            case .code: return type == MarshalType.code
            }
        }

        /// The form `w_object` in `Python/marshal.c` picks for this value in this version.
        func defaultTypeCode(_ obj: PyObject) -> UInt8 {
            let interned = obj.encoding.internedHint || MarshalType.isInterned(obj.encoding.typeCode)
                || isInternedSingleton(obj.value)
            switch obj.value {
            case .null: return MarshalType.null
            case .none: return MarshalType.none
            case .stopIteration: return MarshalType.stopIteration
            case .ellipsis: return MarshalType.ellipsis
            case .bool(let b): return b ? MarshalType.true : MarshalType.false
            case .int(let v):
                if Int64(Int32(truncatingIfNeeded: v)) == v { return MarshalType.int }
                return stringTable ? MarshalType.int64 : MarshalType.long
            case .long: return MarshalType.long
            case .float: return MarshalType.floatBinary
            case .complex: return MarshalType.complexBinary
            case .bytes: return stringTable && interned ? MarshalType.interned : MarshalType.string
            case .str(let s):
                if stringTable { return MarshalType.unicode }
                if s.isASCII {
                    if s.utf8.count < 256 { return interned ? MarshalType.shortASCIIInterned : MarshalType.shortASCII }
                    return interned ? MarshalType.asciiInterned : MarshalType.ascii
                }
                return interned ? MarshalType.interned : MarshalType.unicode
            case .tuple(let items):
                return !stringTable && items.count < 256 ? MarshalType.smallTuple : MarshalType.tuple
            case .list: return MarshalType.list
            case .dict: return MarshalType.dict
            case .set: return MarshalType.set
            case .frozenset: return MarshalType.frozenset
            case .code: return MarshalType.code
            }
        }

        /// FLAG_REF for a fresh object: CPython flags an object whose reference count is above 1
        /// (`w_ref`). For a value built in Swift that means the top-level object, the objects
        /// CPython caches (small ints −5…256, the empty tuple, bytes and str, 1-character
        /// Latin-1 strings) and, from 3.11, every interned string. The singletons (`N F T . S`)
        /// are never flagged, not even at the top level (`w_object` writes them before `w_ref`).
        /// Whether CPython interns this value by itself: the empty string and, depending on the
        /// version, one-character strings.
        func isInternedSingleton(_ value: PyValue) -> Bool {
            switch value {
            case .str(let s):
                if s.utf8.isEmpty { return !stringTable }
                if s.utf8.count == 1 { return version.internsSingleCharacterASCII && !stringTable }
                if s.utf8.count == 2 && s.utf8[0] < 0xC4 { return version.internsSingleCharacterLatin1 }
                return false
            case .bytes(let b):
                return stringTable && b.count <= 1
            default:
                return false
            }
        }

        /// For a fresh object CPython would share (a cached or interned object), the key under
        /// which later fresh copies of the same value become back-references; nil otherwise.
        func sharingKey(_ obj: PyObject, type: UInt8) -> SharingKey? {
            guard obj.encoding.typeCode == 0 else { return nil }
            switch obj.value {
            case .int(let v) where v >= -5 && v <= 256: return .int(v)
            case .tuple(let items) where items.isEmpty: return .emptyTuple
            case .frozenset(let items) where items.isEmpty && version.emptyFrozensetIsSingleton: return .emptyFrozenset
            case .bytes(let b) where b.count <= 1 && !stringTable: return .bytes(b)
            case .str(let s):
                if MarshalType.isInterned(type) || s.utf8.count <= 1 || (s.utf8.count == 2 && s.utf8[0] < 0xC4) {
                    return .str(s.utf8)
                }
                return nil
            default: return nil
            }
        }

        func defaultFlag(_ obj: PyObject, type: UInt8, topLevel: Bool) -> Bool {
            if stringTable { return false }
            switch obj.value {
            case .null, .none, .bool, .ellipsis, .stopIteration: return false
            default: break
            }
            if topLevel { return true }
            switch obj.value {
            case .int(let v): return v >= -5 && v <= 256
            case .tuple(let items): return items.isEmpty
            case .frozenset(let items): return items.isEmpty && version.emptyFrozensetIsSingleton
            case .bytes(let b): return b.count <= 1
            case .str(let s):
                if s.utf8.isEmpty || (s.utf8.count == 1) || (s.utf8.count == 2 && s.utf8[0] < 0xC4) { return true }
                guard MarshalType.isInterned(type) else { return false }
                // Interned strings are unique by value: one written twice has two references.
                return version.flagsEveryInternedString || (freshInternedCounts[s.utf8] ?? 0) > 1
            default: return false
            }
        }
    }
}
