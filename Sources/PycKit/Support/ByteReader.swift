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

    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
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
        count += 1
    }

    @inline(__always) mutating func u16(_ v: UInt16) {
        reserve(2)
        base[count] = UInt8(truncatingIfNeeded: v)
        base[count + 1] = UInt8(truncatingIfNeeded: v >> 8)
        count += 2
    }

    @inline(__always) mutating func u32(_ v: UInt32) {
        reserve(4)
        UnsafeMutableRawPointer(base + count).storeBytes(of: v.littleEndian, as: UInt32.self)
        count += 4
    }

    @inline(__always) mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }

    @inline(__always) mutating func u64(_ v: UInt64) {
        reserve(8)
        UnsafeMutableRawPointer(base + count).storeBytes(of: v.littleEndian, as: UInt64.self)
        count += 8
    }

    @inline(__always) mutating func append(_ b: [UInt8]) {
        let n = b.count
        reserve(n)
        b.withUnsafeBufferPointer { src in
            if let p = src.baseAddress { (base + count).update(from: p, count: n) }
        }
        count += n
    }

    /// Appends any byte sequence (strings' `utf8` views, `repeatElement`), contiguous ones with one copy.
    @inline(__always) mutating func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 {
        let done: Void? = s.withContiguousStorageIfAvailable { src in
            reserve(src.count)
            if let p = src.baseAddress { (base + count).update(from: p, count: src.count) }
            count += src.count
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
        count += n
    }

    /// Drops everything written after the first `n` bytes.
    @inline(__always) mutating func truncate(to n: Int) {
        if n < count { count = max(0, n) }
    }

    /// The bytes written so far, copied into an array.
    var bytes: [UInt8] { [UInt8](UnsafeBufferPointer(start: base, count: count)) }
}
