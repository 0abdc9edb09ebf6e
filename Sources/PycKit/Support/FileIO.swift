#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File reading and crash-safe writing.
public enum FileIO {
    /// Why a file could not be read or written.
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Opens `path` for reading (not a directory): the descriptor, which the caller closes, and
    /// the size `fstat` reports (0 when it reports none).
    private static func openForReading(_ path: String) throws(FileIO.Error) -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Error(message: "cannot open: \(errnoText())") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let message = "cannot stat: \(errnoText())"
            close(fd)
            throw Error(message: message)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw Error(message: "is a directory")
        }
        return (fd, max(Int(st.st_size), 0))
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws(FileIO.Error) -> [UInt8] {
        let (fd, size) = try openForReading(path)
        defer { close(fd) }
        // Read straight into the array when the size is known; fall back to chunks for files
        // that grow or report no size (pipes, /proc).
        var filled = 0
        var failure: Int32 = 0
        var out = [UInt8](unsafeUninitializedCapacity: size) { buf, count in
            while filled < size {
                let n = Glibc.read(fd, buf.baseAddress! + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                filled += n
            }
            count = filled
        }
        if failure != 0 { throw Error(message: "cannot read: \(String(cString: strerror(failure)))") }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while filled == size {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Error(message: "cannot read: \(errnoText())")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Reads a whole file into the start of `buffer` and returns its size. The buffer only ever
    /// grows (what follows the file's bytes is left over): reading many files through one buffer
    /// neither allocates nor clears memory once it has grown.
    public static func read(_ path: String, into buffer: inout [UInt8]) throws(FileIO.Error) -> Int {
        let (fd, size) = try openForReading(path)
        defer { close(fd) }
        // Room for the size reported plus one chunk, so that reading to the end normally takes a
        // second `read` returning 0 and no growth; files that grow or report no size take more.
        var filled = 0
        var room = size + 4096
        while true {
            if buffer.count < filled + room {
                buffer.append(contentsOf: repeatElement(0, count: filled + room - buffer.count))
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Error(message: "cannot read: \(errnoText())")
            }
            if n == 0 { break }
            filled += n
            if filled == buffer.count { room = max(room, 1 << 16) }
        }
        return filled
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it into place, so `path` is
    /// either the old file or the complete new one, never a partial write.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileIO.Error) {
        let dir = parentDirectory(of: path)
        var template = Array((dir + "/.pyckit-tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Error(message: "cannot create a temporary file in \(dir): \(errnoText())") }
        let tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errnoText()
                close(fd)
                throw Error(message: "cannot write \(tmp): \(e)")
            }
            written += n
        }
        fchmod(fd, 0o644)
        guard close(fd) == 0 else { throw Error(message: "cannot write \(tmp): \(errnoText())") }
        guard rename(tmp, path) == 0 else { throw Error(message: "cannot rename into \(path): \(errnoText())") }
        ok = true
    }

    /// Writes all of `bytes` to an open file descriptor (e.g. 1 for standard output).
    public static func write(_ bytes: [UInt8], toDescriptor fd: Int32) throws(FileIO.Error) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Error(message: "cannot write: \(errnoText())")
            }
            written += n
        }
    }

    /// Creates a directory and its parents.
    public static func makeDirectories(_ path: String) throws(FileIO.Error) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw Error(message: "cannot create directory \(current): \(errnoText())")
            }
        }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Every regular file under `root` whose name ends with `suffix`, as paths relative to
    /// `root`, sorted. Symbolic links to directories are not followed.
    public static func files(under root: String, suffix: String) throws(FileIO.Error) -> [String] {
        var out: [String] = []
        var pending = [""]
        while let rel = pending.popLast() {
            let dirPath = rel.isEmpty ? root : root + "/" + rel
            guard let dir = opendir(dirPath) else {
                throw Error(message: "cannot read directory \(dirPath): \(errnoText())")
            }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let childRel = rel.isEmpty ? name : rel + "/" + name
                // The entry's type from the directory itself where the file system gives it
                // (no `lstat` per entry); `lstat` otherwise. Links are neither.
                var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
                var isRegular = entry.pointee.d_type == UInt8(DT_REG)
                if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                    var st = stat()
                    guard lstat(root + "/" + childRel, &st) == 0 else { continue }
                    isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
                    isRegular = (st.st_mode & S_IFMT) == S_IFREG
                }
                if isDirectory {
                    pending.append(childRel)
                } else if isRegular && name.hasSuffix(suffix) {
                    out.append(childRel)
                }
            }
            closedir(dir)
        }
        return out.sorted()
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
