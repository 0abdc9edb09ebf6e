/// The names the lifter hands out, numbered per file: each distinct name (its UTF-8 bytes, as
/// ``NameKey/key(_:)`` gives them) is looked up in the process-wide ``NamePool`` once however many
/// code objects of the file use it (no lock per table slot), and its number finds a table's
/// repeated slots without comparing bytes.
struct LiftNames {
    /// Per name number: its UTF-8 bytes and its ``Name``.
    private var keys: [[UInt8]] = []
    private var names: [Name] = []
    /// Per name number: the last table (see ``beginTable()``) that had it as a variable that is not
    /// free, and as a free variable.
    private var lastTable: [Int] = []
    private var lastTableFree: [Int] = []
    /// Hash slots holding a name number + 1 (0: empty); allocated at the first name, so that an empty
    /// value (the lifter makes one per code object when it moves the names out) allocates nothing.
    private var slots: [Int32] = []
    private var table = 0
    /// Per marshal reference slot (``MarshalEncoding/slot``: the same slot is the same object of the
    /// file), the number + 1 of the name last seen with it (0: none). A hint only, checked against the
    /// name's bytes, so that an object from elsewhere cannot mislead it; it spares most names the hash.
    private var bySlot: [Int32] = []

    /// Starts a table: ``firstInTable(_:free:)`` then says whether a name was not in it before.
    mutating func beginTable() { table += 1 }

    /// The number of the name in `object` (a `str` or, in 2.7, `bytes`; anything else is the
    /// empty name, as `PyValue.text ?? ""` has it).
    mutating func number(_ object: PyObject) -> Int {
        guard case .str(let s) = object.value, s.isASCII else { return number(key: NameKey.key(object)) }
        let slot = Int(object.encoding.slot)
        if slot >= 0 && slot < bySlot.count {
            let hint = Int(bySlot[slot]) - 1
            if hint >= 0 && Self.equal(keys[hint], s.utf8) { return hint }
        }
        let n = number(key: s.utf8)
        if slot >= 0 && slot < Self.maxSlot {
            if slot >= bySlot.count { bySlot.append(contentsOf: repeatElement(0, count: slot + 1 - bySlot.count)) }
            bySlot[slot] = Int32(truncatingIfNeeded: n + 1)
        }
        return n
    }

    /// Slots beyond this are not remembered (a bound on the hint array's memory).
    private static let maxSlot = 1 << 20

    /// Name `n`.
    func name(_ n: Int) -> Name { names[n] }

    /// Whether name `n` (as a free variable or not) occurs for the first time in the current table.
    mutating func firstInTable(_ n: Int, free: Bool) -> Bool {
        if free {
            defer { lastTableFree[n] = table }
            return lastTableFree[n] != table
        }
        defer { lastTable[n] = table }
        return lastTable[n] != table
    }

    private mutating func number(key: [UInt8]) -> Int {
        if slots.isEmpty { slots = [Int32](repeating: 0, count: 64) }
        let mask = slots.count - 1
        var slot = Self.hash(key) & mask
        while slots[slot] != 0 {
            let n = Int(slots[slot]) - 1
            if Self.equal(keys[n], key) { return n }
            slot = (slot + 1) & mask
        }
        let n = keys.count
        keys.append(key)
        names.append(NamePool.shared.intern(key))
        lastTable.append(0)
        lastTableFree.append(0)
        slots[slot] = Int32(truncatingIfNeeded: n + 1)
        if 2 * keys.count > slots.count { rehash() }
        return n
    }

    /// Doubles the slots and enters every name again.
    private mutating func rehash() {
        slots = [Int32](repeating: 0, count: 2 * slots.count)
        let mask = slots.count - 1
        for n in keys.indices {
            var slot = Self.hash(keys[n]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(truncatingIfNeeded: n + 1)
        }
    }

    /// The name pool's hash (``NameKey/hash(_:)``).
    @inline(__always)
    private static func hash(_ key: [UInt8]) -> Int { key.withUnsafeBufferPointer { NameKey.hash($0) } }

    @inline(__always)
    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        b.withUnsafeBufferPointer { y in
            // The same buffer (a marshal back-reference) is equal without reading it.
            a.withUnsafeBufferPointer { $0.baseAddress == y.baseAddress } || NameKey.equal(a, y)
        }
    }
}
