/// The lifter's view of the names of one file: each name object becomes a ``Name`` (its text's
/// UTF-8 bytes, as ``NameKey/key(_:)`` gives them, looked up in the process-wide ``NamePool``),
/// and each table's slots are told apart: whether a slot is the first of its table with its name.
struct LiftNames {
    /// Per marshal reference slot (``MarshalEncoding/slot``: the same slot is the same object of the
    /// file): the UTF-8 buffer of the string last seen with it, and its name. A hint only, checked
    /// by the identity of the buffer (held here, so that it cannot be freed and reused), so that an
    /// object from elsewhere cannot mislead it; it spares most names the pool's lock and hash.
    private var hintBytes: [[UInt8]] = []
    private var hintNames: [Name] = []
    /// The names of the current table so far (see ``beginTable(capacity:)``): as variables that are
    /// not free, and as free variables.
    private var seen = NameSlots()
    private var seenFree = NameSlots()

    /// Slots beyond this are not remembered (a bound on the hint arrays' memory).
    private static let maxSlot = 1 << 20

    /// Starts a table of `capacity` slots: ``firstInTable(_:free:)`` then says whether a name was not
    /// in it before.
    mutating func beginTable(capacity: Int) {
        seen.reset(capacity: capacity)
        seenFree.reset(capacity: capacity)
    }

    /// The name of `object` (a `str` or, in 2.7, `bytes`; anything else is the empty name, as
    /// `PyValue.text ?? ""` has it); nil when it does not fit the name pool.
    mutating func name(_ object: PyObject) -> Name? {
        guard case .str(let s) = object.value, s.isASCII else { return NameKey.name(object) }
        let slot = Int(object.encoding.slot)
        let bytes = s.utf8
        // (Not for the empty name: every empty array shares one buffer, the one an unset hint holds too.)
        if slot >= 0 && slot < hintBytes.count && !bytes.isEmpty
            && hintBytes[slot].withUnsafeBufferPointer({ a in
                bytes.withUnsafeBufferPointer { a.baseAddress == $0.baseAddress && a.count == $0.count }
            })
        {
            return hintNames[slot]
        }
        guard let name = bytes.withUnsafeBufferPointer({ NamePool.shared.intern($0) }) else { return nil }
        if slot >= 0 && slot < Self.maxSlot {
            if slot >= hintBytes.count {
                let more = slot + 1 - hintBytes.count
                hintBytes.append(contentsOf: repeatElement([], count: more))
                hintNames.append(contentsOf: repeatElement(Name(id: 0), count: more))
            }
            hintBytes[slot] = bytes
            hintNames[slot] = name
        }
        return name
    }

    /// Whether `name` (as a free variable or not) occurs for the first time in the current table.
    mutating func firstInTable(_ name: Name, free: Bool) -> Bool {
        free ? seenFree.enter(name, slot: 0) : seen.enter(name, slot: 0)
    }
}
