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

    /// The name with this text.
    public init(_ text: String) { self = NamePool.shared.intern(text) }

    public init(stringLiteral value: String) { self.init(value) }

    /// The name's text.
    public var text: String { NamePool.shared.text(of: self) }

    /// The name's UTF-8 bytes.
    public var utf8: [UInt8] { NamePool.shared.bytes(of: self) }

    public var description: String { text }

    /// By text (byte order of the UTF-8), not by when the names were first made.
    public static func < (a: Name, b: Name) -> Bool { a != b && a.utf8.lexicographicallyPrecedes(b.utf8) }
}

/// The process-wide table behind ``Name``: each distinct UTF-8 text once, numbered in order of
/// first use. Entries are never removed (a process meets a bounded vocabulary of identifiers);
/// every access takes a lock, so hot loops keep names they need at hand (the lifter interns each
/// distinct name of a file once, the assembler works on numbers only).
final class NamePool: @unchecked Sendable {
    static let shared = NamePool()

    fileprivate struct State {
        var keys: [[UInt8]] = []
        /// Open-addressing hash slots holding a name number + 1 (0: empty).
        var slots = [Int32](repeating: 0, count: 1024)
    }
    private let lock = NSLock()
    /// Guarded by `lock`. (Behind a pointer, not a stored `var`: the lock already gives exclusive
    /// access, and a class's stored property would be checked for it again at run time.)
    private let state: UnsafeMutablePointer<State>

    private init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    /// The name with these UTF-8 bytes.
    func intern(_ key: UnsafeBufferPointer<UInt8>) -> Name {
        lock.lock()
        defer { lock.unlock() }
        return state.pointee.intern(key)
    }

    func intern(_ key: [UInt8]) -> Name { key.withUnsafeBufferPointer { intern($0) } }

    func intern(_ text: String) -> Name {
        var text = text
        return text.withUTF8 { intern($0) }
    }

    func text(of name: Name) -> String { String(decoding: bytes(of: name), as: UTF8.self) }

    func bytes(of name: Name) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return state.pointee.keys[Int(name.id)]
    }
}

extension NamePool.State {
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> Name {
        let mask = slots.count - 1
        var h = NameKey.hash(key) & mask
        while slots[h] != 0 {
            let n = Int(slots[h]) - 1
            if NameKey.equal(keys[n], key) { return Name(id: UInt32(truncatingIfNeeded: n)) }
            h = (h + 1) & mask
        }
        // (More than 2^31 distinct names would not fit a slot; no process meets that many.)
        precondition(keys.count < Int(Int32.max), "name pool full")
        let n = keys.count
        keys.append(Array(key))
        slots[h] = Int32(n + 1)
        if 2 * keys.count > slots.count { rehash() }
        return Name(id: UInt32(n))
    }

    /// Doubles the slots and enters every name again.
    private mutating func rehash() {
        slots = [Int32](repeating: 0, count: 2 * slots.count)
        let mask = slots.count - 1
        for n in keys.indices {
            var h = keys[n].withUnsafeBufferPointer { NameKey.hash($0) } & mask
            while slots[h] != 0 { h = (h + 1) & mask }
            slots[h] = Int32(n + 1)
        }
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

    /// The name of a name object (see ``key(_:)``).
    static func name(_ object: PyObject) -> Name { NamePool.shared.intern(key(object)) }

    /// FNV-1a of a name's bytes, folded.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    static func equal(_ key: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard key.count == bytes.count else { return false }
        return key.withUnsafeBufferPointer { k in
            for i in 0..<k.count where k[i] != bytes[i] { return false }
            return true
        }
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

    /// Enters `slot` for `name`, unless an earlier slot of this table has the name.
    mutating func enter(_ name: Name, slot: Int) {
        if 2 * (count + 1) > buckets.count { rehash() }
        let key = UInt64(name.id) + 1
        var h = Self.bucket(name, mask)
        while buckets[h] != 0 {
            if buckets[h] >> 32 == key { return }
            h = (h + 1) & mask
        }
        buckets[h] = key << 32 | UInt64(UInt32(truncatingIfNeeded: slot))
        count += 1
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
