/// A `.pyc` file: the header, the marshalled module code object, and any bytes after it.
///
/// formats.md §1: a 2-byte magic plus `\r\n`, then mtime (2.7); mtime and source size (3.6 and
/// 3.7 before a4); or PEP 552 flags followed by mtime and size, or by an 8-byte source hash.
public struct PycFile: Sendable {
    public var header: PycHeader
    /// The top-level object (a code object in every real file).
    public var object: PyObject
    /// Bytes after the top-level object. CPython's loader ignores them; PycKit keeps them.
    public var trailer: [UInt8]

    public var version: PythonVersion { header.version }

    /// The module code object, if the top-level object is one.
    public var code: CodeObject? { object.value.codeObject }

    public init(header: PycHeader, object: PyObject, trailer: [UInt8] = []) {
        self.header = header
        self.object = object
        self.trailer = trailer
    }

    /// Parses a whole `.pyc`. Errors carry file offsets.
    public init(bytes: [UInt8]) throws(PycError) {
        let header = try PycHeader(bytes: bytes)
        let reader = MarshalReader(version: header.version)
        do {
            let (obj, end) = try reader.read(bytes, at: header.size)
            self.init(header: header, object: obj, trailer: Array(bytes[end...]))
        } catch {
            throw PycError.marshal(error)
        }
    }

    /// The file's bytes: the header, the marshalled object, the trailer.
    public func serialized() throws(PycError) -> [UInt8] {
        do {
            var out = try MarshalWriter(version: version).dumps(object, prefix: header.serialized())
            out.append(contentsOf: trailer)
            return out
        } catch {
            throw PycError.marshal(error)
        }
    }
}

/// The fixed-size header in front of a `.pyc`'s marshal data.
public struct PycHeader: Sendable, Equatable {
    /// How the fields after the magic are laid out.
    public enum Layout: Sendable, Equatable {
        /// 2.7: mtime (8 bytes in all).
        case mtime
        /// 3.0 – 3.7a3: mtime, source size (12 bytes).
        case mtimeAndSize
        /// PEP 552 (3.7a4+): flags, then mtime and size or a source hash (16 bytes).
        case flags

        public var size: Int {
            switch self {
            case .mtime: return 8
            case .mtimeAndSize: return 12
            case .flags: return 16
            }
        }
    }

    public var magic: UInt16
    public var version: PythonVersion
    public var layout: Layout
    /// PEP 552 flags: bit 0 hash-based, bit 1 check_source. 0 before 3.7.
    public var flags: UInt32
    /// Source modification time (`int(st_mtime) & 0xFFFFFFFF`), for timestamp-based files.
    public var mtime: UInt32
    /// Source size modulo 2**32, for timestamp-based files from 3.x.
    public var sourceSize: UInt32
    /// SipHash of the source, for hash-based files (flags bit 0).
    public var sourceHash: UInt64

    public var size: Int { layout.size }
    public var isHashBased: Bool { layout == .flags && flags & 1 != 0 }
    public var checksSource: Bool { flags & 2 != 0 }

    /// A header for `version`'s final magic number, timestamp-based.
    public init(version: PythonVersion, mtime: UInt32 = 0, sourceSize: UInt32 = 0) {
        self.magic = version.magic
        self.version = version
        self.layout = version.headerLayout(magic: version.magic)
        self.flags = 0
        self.mtime = mtime
        self.sourceSize = sourceSize
        self.sourceHash = 0
    }

    public init(bytes: [UInt8]) throws(PycError) {
        let r = bytes.withUnsafeBytes { raw in
            Result { () throws(PycError) -> PycHeader in try PycHeader(raw: raw) }
        }
        self = try r.get()
    }

    /// `init(bytes:)` of bytes in memory.
    init(raw: UnsafeRawBufferPointer) throws(PycError) {
        let r: Result<PycHeader, PycError> = {
            var c = ByteReader(raw)
            do throws(MarshalError) {
                let magic = try c.u16("a magic number")
                let crlf = try c.u16("\\r\\n after the magic number")
                guard crlf == 0x0A0D else { return .failure(.badMagicSuffix(offset: 2)) }
                guard let version = PythonVersion.forMagic(magic) else { return .failure(.unknownMagic(magic)) }
                let layout = version.headerLayout(magic: magic)
                var h = PycHeader(version: version)
                h.magic = magic
                h.layout = layout
                switch layout {
                case .mtime:
                    h.mtime = try c.u32("the source mtime")
                case .mtimeAndSize:
                    h.mtime = try c.u32("the source mtime")
                    h.sourceSize = try c.u32("the source size")
                case .flags:
                    let at = c.offset
                    h.flags = try c.u32("the PEP 552 flags")
                    guard h.flags & ~3 == 0 else { return .failure(.badFlags(h.flags, offset: at)) }
                    if h.flags & 1 != 0 {
                        h.sourceHash = try c.u64("the source hash")
                    } else {
                        h.mtime = try c.u32("the source mtime")
                        h.sourceSize = try c.u32("the source size")
                    }
                }
                return .success(h)
            } catch {
                return .failure(.marshal(error))
            }
        }()
        self = try r.get()
    }

    public func serialized() -> [UInt8] {
        var w = ByteWriter(capacity: 16)
        w.u16(magic)
        w.u16(0x0A0D)
        switch layout {
        case .mtime:
            w.u32(mtime)
        case .mtimeAndSize:
            w.u32(mtime)
            w.u32(sourceSize)
        case .flags:
            w.u32(flags)
            if flags & 1 != 0 {
                w.u64(sourceHash)
            } else {
                w.u32(mtime)
                w.u32(sourceSize)
            }
        }
        return w.bytes
    }
}

/// Why a `.pyc` could not be read or written.
public enum PycError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A magic number no supported release wrote.
    case unknownMagic(UInt16)
    /// The magic number is not followed by `\r\n`.
    case badMagicSuffix(offset: Int)
    /// PEP 552 flags with bits other than 0 and 1 set (the import system rejects them).
    case badFlags(UInt32, offset: Int)
    case marshal(MarshalError)

    /// Byte offset in the file where the problem is.
    public var offset: Int {
        switch self {
        case .unknownMagic: return 0
        case .badMagicSuffix(let o), .badFlags(_, let o): return o
        case .marshal(let e): return e.offset
        }
    }

    public var description: String {
        switch self {
        case .unknownMagic(let m):
            return "offset 0: unknown magic number \(m) (known: \(PythonVersion.knownMagicsDescription))"
        case .badMagicSuffix(let o):
            return "offset \(o): magic number not followed by \\r\\n: not a .pyc file"
        case .badFlags(let f, let o):
            return "offset \(o): invalid PEP 552 flags 0x\(String(f, radix: 16)) (only bits 0 and 1 are defined)"
        case .marshal(let e): return e.description
        }
    }
}
