import Foundation

/// A name an instruction refers to — a global, attribute, local, cell or free variable — by
/// its text. Names are interned: equal names are the same UTF-8 bytes (compared byte for byte,
/// as CPython compares identifiers, not by Unicode equivalence) and share one number, so that a
/// ``Bytecode/Argument`` holding one is a plain value (copied without reference counting, freed
/// with nothing to release) and the assembler finds a name's slot by its number.
///
/// Make one from its text, or write it as a string literal where a `Name` is expected:
/// `.global("print", pushNull: true)`, `.local(Name(variable))`.
public struct Name: Hashable, Sendable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name's number in ``NamePool/shared``.
    let id: UInt32

    init(id: UInt32) { self.id = id }

    /// The name with this text. (A process holds at most 4 GiB of distinct names; making one more
    /// stops it. Names lifted from code objects throw ``BytecodeError/Kind/namePoolFull`` instead.)
    public init(_ text: String) {
        guard let name = NamePool.shared.intern(text) else { preconditionFailure("name pool full") }
        self = name
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// The name's text.
    public var text: String { NamePool.shared.text(of: self) }

    /// The name's UTF-8 bytes.
    public var utf8: [UInt8] { NamePool.shared.bytes(of: self) }

    public var description: String { text }

    /// By text (byte order of the UTF-8), not by when the names were first made.
    public static func < (a: Name, b: Name) -> Bool { a != b && a.utf8.lexicographicallyPrecedes(b.utf8) }
}

/// The process-wide table behind ``Name``: each distinct UTF-8 text once. Entries are never
/// removed (a process meets a bounded vocabulary of identifiers); every access takes a lock, so
/// hot loops keep names they need at hand (the lifter interns each distinct name of a file once,
/// the assembler works on numbers only).
///
/// Laid out for few cache misses, since most lookups find a name first met in another file, long
/// out of cache: the texts are records (a 32-bit length, then the bytes) appended to one buffer,
/// a name's number is its record's offset, and each hash slot holds the upper half of its name's
/// hash (which also picks the slot) beside the offset. A lookup reads one slot and, when the hash
/// halves match, one record.
final class NamePool: @unchecked Sendable {
    static let shared = NamePool()

    fileprivate struct State {
        /// The records; `used` bytes of `capacity` are written.
        var records: UnsafeMutablePointer<UInt8>
        var used = 0
        var capacity: Int
        /// Open addressing: per slot, (upper 32 bits of the hash) << 32 | (record offset + 1); 0 when empty.
        var slots: UnsafeMutablePointer<UInt64>
        var mask: Int
        var count = 0
        /// Record bytes the pool may hold: names are 32-bit offsets (smaller only in tests).
        let limit: Int

        init(limit: Int) {
            self.limit = limit
            capacity = 1 << 16
            records = .allocate(capacity: capacity)
            mask = 1023
            slots = .allocate(capacity: mask + 1)
            slots.initialize(repeating: 0, count: mask + 1)
        }
    }
    private let lock = NSLock()
    /// Guarded by `lock`. (Behind a pointer, not a stored `var`: the lock already gives exclusive
    /// access, and a class's stored property would be checked for it again at run time.)
    private let state: UnsafeMutablePointer<State>

    /// A pool of its own (the program uses ``shared``): `limit` bytes of records, each name taking
    /// 4 more than its text.
    init(limit: Int = Int(UInt32.max)) {
        state = .allocate(capacity: 1)
        state.initialize(to: State(limit: min(limit, Int(UInt32.max))))
    }

    /// The name with these UTF-8 bytes; nil when it is new and does not fit (4 GiB of names).
    func intern(_ key: UnsafeBufferPointer<UInt8>) -> Name? {
        lock.lock()
        defer { lock.unlock() }
        return state.pointee.intern(key)
    }

    func intern(_ key: [UInt8]) -> Name? { key.withUnsafeBufferPointer { intern($0) } }

    func intern(_ text: String) -> Name? {
        var text = text
        return text.withUTF8 { intern($0) }
    }

    func text(of name: Name) -> String { String(decoding: bytes(of: name), as: UTF8.self) }

    func bytes(of name: Name) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return Array(state.pointee.record(at: Int(name.id)))
    }
}

extension NamePool.State {
    /// The bytes of the record at `offset` (a name's number: always a record written here).
    func record(at offset: Int) -> UnsafeBufferPointer<UInt8> {
        let p = records + offset
        let length = Int(UnsafeRawPointer(p).loadUnaligned(as: UInt32.self))
        return UnsafeBufferPointer(start: p + 4, count: length)
    }

    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> Name? {
        let tag = NameKey.hash64(key) >> 32
        var h = Int(truncatingIfNeeded: tag) & mask
        while case let s = slots[h], s != 0 {
            if s >> 32 == tag {
                let offset = Int(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
                if NameKey.equal(record(at: offset), key) { return Name(id: UInt32(truncatingIfNeeded: offset)) }
            }
            h = (h + 1) & mask
        }
        // (Names are numbered by 32-bit offsets: 4 GiB of distinct names.)
        guard key.count <= limit - 4 - used else { return nil }
        let offset = used
        if used + 4 + key.count > capacity {
            var size = 2 * capacity
            while size < used + 4 + key.count { size *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
            grown.update(from: records, count: used)
            records.deallocate()
            records = grown
            capacity = size
        }
        UnsafeMutableRawPointer(records + offset).storeBytes(of: UInt32(key.count), as: UInt32.self)
        if let base = key.baseAddress { (records + offset + 4).update(from: base, count: key.count) }
        used += 4 + key.count
        slots[h] = tag << 32 | UInt64(offset + 1)
        count += 1
        if 2 * count > mask + 1 { rehash() }
        return Name(id: UInt32(offset))
    }

    /// Doubles the slots and enters every name again (by the hash half each slot keeps, which also
    /// picks the bucket: no record is read).
    private mutating func rehash() {
        let oldSize = mask + 1
        let old = slots
        mask = 2 * oldSize - 1
        slots = .allocate(capacity: mask + 1)
        slots.initialize(repeating: 0, count: mask + 1)
        for i in 0..<oldSize where old[i] != 0 {
            var h = Int(truncatingIfNeeded: old[i] >> 32) & mask
            while slots[h] != 0 { h = (h + 1) & mask }
            slots[h] = old[i]
        }
        old.deallocate()
    }
}

/// The bytes a name object stands for, and the hash and comparison used on them.
enum NameKey {
    /// The key of a name object: the UTF-8 bytes of its text as the lifter decodes it
    /// (`PyValue.text`: a 2.7 byte string as UTF-8 with replacement characters; anything that is
    /// not a string is the empty name).
    static func key(_ object: PyObject) -> [UInt8] {
        switch object.value {
        case .str(let s): return s.isASCII ? s.utf8 : Array(s.string.utf8)
        case .bytes(let b): return b.allSatisfy({ $0 < 0x80 }) ? b : Array(String(decoding: b, as: UTF8.self).utf8)
        default: return []
        }
    }

    /// The name of a name object (see ``key(_:)``); nil when the pool is full.
    static func name(_ object: PyObject) -> Name? { NamePool.shared.intern(key(object)) }

    /// FNV-1a of a name's bytes, mixed so that both halves depend on every byte.
    @inline(__always)
    static func hash64(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        return h ^ (h >> 32)
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }
}

/// A name → slot map for one code object's table at a time, its memory reused from one code
/// object to the next: open addressing over name numbers (no bytes hashed or compared).
struct NameSlots {
    /// Per bucket: (name number + 1) << 32 | slot; 0 when empty.
    private var buckets: [UInt64] = []
    private var mask = 0
    private var count = 0

    /// Empties the map, with room for `capacity` names without growing.
    mutating func reset(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        refill(&buckets, 0, count: size)
        mask = size - 1
        count = 0
    }

    @inline(__always)
    private static func bucket(_ name: Name, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(name.id) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Enters `slot` for `name`, unless an earlier slot of this table has the name; whether it did.
    @discardableResult
    mutating func enter(_ name: Name, slot: Int) -> Bool {
        if 2 * (count + 1) > buckets.count { rehash() }
        let key = UInt64(name.id) + 1
        var h = Self.bucket(name, mask)
        while buckets[h] != 0 {
            if buckets[h] >> 32 == key { return false }
            h = (h + 1) & mask
        }
        buckets[h] = key << 32 | UInt64(UInt32(truncatingIfNeeded: slot))
        count += 1
        return true
    }

    /// The first slot entered for `name` since the last ``reset(capacity:)``.
    func find(_ name: Name) -> Int? {
        guard !buckets.isEmpty else { return nil }
        let key = UInt64(name.id) + 1
        var h = Self.bucket(name, mask)
        while case let b = buckets[h], b != 0 {
            if b >> 32 == key { return Int(b & 0xFFFF_FFFF) }
            h = (h + 1) & mask
        }
        return nil
    }

    /// Doubles the buckets (at least 16) and enters every name again.
    private mutating func rehash() {
        let old = buckets
        let size = max(16, 2 * old.count)
        buckets = [UInt64](repeating: 0, count: size)
        mask = size - 1
        for b in old where b != 0 {
            var h = Self.bucket(Name(id: UInt32(truncatingIfNeeded: (b >> 32) - 1)), mask)
            while buckets[h] != 0 { h = (h + 1) & mask }
            buckets[h] = b
        }
    }
}
