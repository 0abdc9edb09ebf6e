/// A checked cursor over a byte buffer: every read validates the bytes left and throws a typed
/// error naming the offset instead of trapping.
///
/// The cursor does not own the bytes; it is used inside `withUnsafeBytes` of the buffer it reads,
/// so the decoder touches no array bounds checks or reference counts on its hot path.
/// Offsets are absolute positions in the buffer (for a `.pyc`, file offsets).
struct ByteReader: ~Copyable {
    let base: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int

    init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
        self.end = base.count
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    /// Throws `.truncated` unless at least `count` bytes remain.
    @inline(__always)
    func require(_ count: Int, _ what: StaticString) throws(MarshalError) {
        guard count >= 0, count <= end - offset else {
            throw MarshalError(.truncated(expected: "\(what)", needed: count, available: end - offset), at: offset)
        }
    }

    @inline(__always)
    mutating func u8(_ what: StaticString) throws(MarshalError) -> UInt8 {
        try require(1, what)
        let v = base.load(fromByteOffset: offset, as: UInt8.self)
        offset += 1
        return v
    }

    @inline(__always)
    mutating func u16(_ what: StaticString) throws(MarshalError) -> UInt16 {
        try require(2, what)
        let v = UInt16(base[offset]) | UInt16(base[offset + 1]) << 8
        offset += 2
        return v
    }

    @inline(__always)
    mutating func u32(_ what: StaticString) throws(MarshalError) -> UInt32 {
        try require(4, what)
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return UInt32(littleEndian: v)
    }

    @inline(__always)
    mutating func i32(_ what: StaticString) throws(MarshalError) -> Int32 {
        Int32(bitPattern: try u32(what))
    }

    @inline(__always)
    mutating func u64(_ what: StaticString) throws(MarshalError) -> UInt64 {
        try require(8, what)
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return UInt64(littleEndian: v)
    }

    /// Copies the next `count` bytes out; `count` is checked against the bytes left first, so a
    /// hostile length can never cause a large allocation.
    @inline(__always)
    mutating func bytes(_ count: Int, _ what: StaticString) throws(MarshalError) -> [UInt8] {
        try require(count, what)
        let out = [UInt8](UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)]))
        offset += count
        return out
    }

    /// The next `count` bytes without copying them; valid while the underlying buffer is.
    @inline(__always)
    mutating func view(_ count: Int, _ what: StaticString) throws(MarshalError) -> UnsafeRawBufferPointer {
        try require(count, what)
        let out = UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)])
        offset += count
        return out
    }
}

/// An append-only little-endian byte sink over a growable raw buffer (no per-byte bounds or
/// uniqueness checks on the hot path).
struct ByteWriter: ~Copyable {
    // `append(_:[UInt8])` below is the fast path for arrays; other sequences use the generic one.
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 64)
        self.base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    // After `reserve(n)` with n ≥ 0, `count + n` ≤ capacity: the appends below add without an
    // overflow check.
    @inline(__always) private mutating func reserve(_ n: Int) {
        // `capacity - count` never overflows (count ≤ capacity), so the test needs no overflow check.
        if n > capacity &- count { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = c
    }

    @inline(__always) mutating func u8(_ v: UInt8) {
        reserve(1)
        base[count] = v
        count &+= 1
    }

    @inline(__always) mutating func u16(_ v: UInt16) {
        reserve(2)
        base[count] = UInt8(truncatingIfNeeded: v)
        base[count + 1] = UInt8(truncatingIfNeeded: v >> 8)
        count &+= 2
    }

    @inline(__always) mutating func u32(_ v: UInt32) {
        reserve(4)
        UnsafeMutableRawPointer(base + count).storeBytes(of: v.littleEndian, as: UInt32.self)
        count &+= 4
    }

    @inline(__always) mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }

    @inline(__always) mutating func u64(_ v: UInt64) {
        reserve(8)
        UnsafeMutableRawPointer(base + count).storeBytes(of: v.littleEndian, as: UInt64.self)
        count &+= 8
    }

    @inline(__always) mutating func append(_ b: [UInt8]) {
        let n = b.count
        reserve(n)
        b.withUnsafeBufferPointer { src in
            if let p = src.baseAddress { (base + count).update(from: p, count: n) }
        }
        count &+= n
    }

    /// Appends any byte sequence (strings' `utf8` views, `repeatElement`), contiguous ones with one copy.
    @inline(__always) mutating func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 {
        let done: Void? = s.withContiguousStorageIfAvailable { src in
            reserve(src.count)
            if let p = src.baseAddress { (base + count).update(from: p, count: src.count) }
            count &+= src.count
        }
        if done == nil {
            for b in s { u8(b) }
        }
    }

    @inline(__always) mutating func append(_ b: UInt8) { u8(b) }

    /// Appends `n` copies of `byte`.
    @inline(__always) mutating func append(repeating byte: UInt8, count n: Int) {
        guard n > 0 else { return }
        reserve(n)
        (base + count).update(repeating: byte, count: n)
        count &+= n
    }

    /// Appends `n` bytes from `p`.
    @inline(__always) mutating func append(_ p: UnsafeRawPointer, count n: Int) {
        reserve(n)
        (base + count).update(from: p.assumingMemoryBound(to: UInt8.self), count: n)
        count += n
    }

    /// Appends the UTF-8 of a literal (no `String` in between).
    @inline(__always) mutating func append(_ s: StaticString) {
        append(UnsafeRawPointer(s.utf8Start), count: s.utf8CodeUnitCount)
    }

    /// Appends `n` bytes from `p`, where at least 32 bytes must be readable when `n` ≤ 32
    /// (`ByteCursor.copyShort`): one wide copy instead of a call to `memmove` for short runs.
    @inline(__always) mutating func appendShort(_ p: UnsafeRawPointer, count n: Int) {
        withCursor(reserving: max(n, 32)) { $0.copyShort(p, count: n) }
    }

    /// Appends a copy of `n` bytes already written, from offset `start`.
    @inline(__always) mutating func appendCopy(from start: Int, count n: Int) {
        precondition(start >= 0 && start + n <= count)
        // With 32 bytes reserved, 32 bytes from `start` lie within the buffer: short copies are
        // wide (the bytes past `n` that `copyShort` reads are stored past the end, then dropped).
        reserve(max(n, 32))
        if n <= 32 {
            var c = ByteCursor(base + count)
            c.copyShort(base + start, count: n)
        } else {
            (base + count).update(from: base + start, count: n)
        }
        count += n
    }

    /// `withCursor` whose body also gets the start of the buffer, to copy bytes already written
    /// (`ByteCursor.copyShort` from `base + start`, where `start` + `n` ≤ `count`: with 32 bytes
    /// reserved, 32 bytes from `start` are readable, and what `n` covers lies before the cursor).
    @inline(__always) mutating func withCursor<R>(
        reserving maxCount: Int, _ body: (inout ByteCursor, UnsafePointer<UInt8>) -> R
    ) -> R {
        reserve(maxCount)
        var c = ByteCursor(base + count)
        let r = body(&c, UnsafePointer(base))
        count = c.position - base
        return r
    }

    /// Appends `value` in decimal, right-justified with spaces to `width`.
    @inline(__always) mutating func appendDecimal(_ value: Int, width: Int = 0) {
        withCursor(reserving: max(width, 0) + 40) { $0.decimal(value, width: width) }
    }

    /// "00" to "99", two characters a value, for writing decimals two digits at a time.
    static var digitPairs: StaticString {
        """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859606162636465666768697071727374757677787980\
        81828384858687888990919293949596979899
        """
    }

    /// The number of decimal digits of `m`.
    static func decimalDigits(_ m: UInt) -> Int {
        var n = 1
        var v = m
        while v >= 10 {
            v /= 10
            n += 1
        }
        return n
    }

    /// Calls `body` with a cursor at the end of the bytes written, after making room for
    /// `maxCount` more; `body` must write no more than that (wide stores included, see
    /// `ByteCursor`). Saves the capacity check of each small append in a hot loop.
    @inline(__always) mutating func withCursor<R>(reserving maxCount: Int, _ body: (inout ByteCursor) -> R) -> R {
        reserve(maxCount)
        var c = ByteCursor(base + count)
        let r = body(&c)
        count = c.position - base
        return r
    }

    /// Forgets the bytes written, keeping the buffer for reuse.
    @inline(__always) mutating func removeAll() { count = 0 }

    /// The bytes written so far, valid during `body`.
    @inline(__always) func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Drops everything written after the first `n` bytes.
    /// Overwrites the two bytes written at `at` and `at + 1` (ignored unless both are written).
    @inline(__always) mutating func overwrite(at: Int, _ a: UInt8, _ b: UInt8) {
        guard at >= 0 && at + 1 < count else { return }
        base[at] = a
        base[at + 1] = b
    }

    @inline(__always) mutating func truncate(to n: Int) {
        if n < count { count = max(0, n) }
    }

    /// The bytes written so far, copied into an array.
    var bytes: [UInt8] { [UInt8](UnsafeBufferPointer(start: base, count: count)) }
}

/// An unchecked write position in space a `ByteWriter` reserved (`withCursor`). `spaces` and
/// `copyShort` store 16 or 32 bytes at once whatever they keep, so the reserve must cover
/// those wide stores too.
struct ByteCursor {
    private(set) var position: UnsafeMutablePointer<UInt8>

    init(_ position: UnsafeMutablePointer<UInt8>) { self.position = position }

    @inline(__always) mutating func byte(_ b: UInt8) {
        position.pointee = b
        position += 1
    }

    /// `n` spaces (none when `n` ≤ 0); stores 16 bytes when `n` ≤ 16.
    @inline(__always) mutating func spaces(_ n: Int) {
        guard n > 0 else { return }
        if n <= 16 {
            UnsafeMutableRawPointer(position).storeBytes(of: SIMD16<UInt8>(repeating: 0x20), as: SIMD16<UInt8>.self)
        } else {
            position.update(repeating: 0x20, count: n)
        }
        position += n
    }

    /// The first `n` bytes at `p`; for `n` ≤ 32 copies 32 (which must be readable at `p`).
    @inline(__always) mutating func copyShort(_ p: UnsafeRawPointer, count n: Int) {
        if n <= 32 {
            let d = UnsafeMutableRawPointer(position)
            d.storeBytes(of: p.loadUnaligned(as: SIMD16<UInt8>.self), as: SIMD16<UInt8>.self)
            (d + 16).storeBytes(of: p.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self), as: SIMD16<UInt8>.self)
        } else {
            position.update(from: p.assumingMemoryBound(to: UInt8.self), count: n)
        }
        position += n
    }

    /// Stores 16 spaces from the position without moving it (to be overwritten in part, then
    /// skipped with `advance`).
    @inline(__always) func blank16() {
        UnsafeMutableRawPointer(position).storeBytes(of: SIMD16<UInt8>(repeating: 0x20), as: SIMD16<UInt8>.self)
    }

    /// Stores four bytes at `position + at`, the first in the low byte, without moving.
    @inline(__always) func store4(_ v: UInt32, at: Int) {
        UnsafeMutableRawPointer(position + at).storeBytes(of: v.littleEndian, as: UInt32.self)
    }

    @inline(__always) mutating func advance(_ n: Int) { position += n }

    /// `value` in decimal, right-justified with spaces to `width` (at most 16 spaces of padding
    /// are stored wide, then up to 20 digits and a sign).
    @inline(__always) mutating func decimal(_ value: Int, width: Int = 0) {
        var m = value.magnitude
        let digits = m < 10 ? 1 : m < 100 ? 2 : m < 1000 ? 3 : m < 10000 ? 4 : ByteWriter.decimalDigits(m)
        let length = digits + (value < 0 ? 1 : 0)
        spaces(width - length)
        if value < 0 { position.pointee = 0x2D }
        position += length
        var p = position
        ByteWriter.digitPairs.withUTF8Buffer { pairs in
            while m >= 100 {
                let r = Int(m % 100)
                m /= 100
                p -= 2
                p[0] = pairs[2 &* r]
                p[1] = pairs[2 &* r &+ 1]
            }
            if m >= 10 {
                p[-2] = pairs[2 &* Int(m)]
                p[-1] = pairs[2 &* Int(m) &+ 1]
            } else {
                p[-1] = 0x30 &+ UInt8(truncatingIfNeeded: m)
            }
        }
    }
}
