import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// The `.pyc` header (formats.md §1) against what each interpreter writes: magic numbers,
/// the 8/12/16-byte layouts, mtime and size fields, PEP 552 hash-based files.
@Suite("pyc header")
struct PycHeaderTests {

    // MARK: - Magic numbers

    @Test(
        "the interpreter's magic number maps to its version and is the version's .magic", arguments: PythonVersion.all)
    func interpreterMagic(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        let script = #"""
            import binascii
            try:
                import importlib.util; m = importlib.util.MAGIC_NUMBER
            except ImportError:
                import imp; m = imp.get_magic()
            print(binascii.hexlify(m).decode("ascii"))
            """#
        let magic = Hex.decode(
            try MarshalTestKit.python(version, script).trimmingCharacters(in: .whitespacesAndNewlines))
        try #require(magic.count == 4 && magic[2] == 0x0D && magic[3] == 0x0A, "\(Hex.encode(magic))")
        let number = UInt16(magic[0]) | UInt16(magic[1]) << 8
        #expect(PythonVersion.forMagic(number) == version)
        #expect(version.magic == number)
        #expect(PycHeader(version: version).serialized().prefix(4).elementsEqual(magic))
    }

    /// CPython's own history of magic numbers (the comment in `_bootstrap_external.py`, which
    /// also lists 2.x) — alphas and betas included — maps to exactly our ranges.
    @Test("every magic number in CPython's history maps to its release line, or to nothing")
    func magicHistory() throws {
        guard let newest = Interpreters.installed.last(where: { !$0.usesStringTable }) else {
            print("skipped: no Python 3 interpreter under \(Interpreters.pyenvRoot)/versions")
            try Test.cancel("no Python 3 interpreter installed")
        }
        let script = #"""
            import os, re
            src = open(os.path.join(os.path.dirname(os.__file__), "importlib", "_bootstrap_external.py")).read()
            for m in re.finditer(r"^#\s+Python (\d+)\.(\d+)\S*?:?\s+(\d{4,5})\b", src, re.M):
                print("%s %s %s" % m.groups())
            """#
        let history = try MarshalTestKit.python(newest, script).split(separator: "\n").map { line in
            line.split(separator: " ").map { Int($0)! }
        }
        try #require(history.count > 100, "parsed \(history.count) entries")
        var seen: [PythonVersion: [UInt16]] = [:]
        for entry in history {
            let magic = UInt16(entry[2])
            if let v = PythonVersion(major: entry[0], minor: entry[1]) {
                #expect(PythonVersion.forMagic(magic) == v, "\(v) magic \(magic)")
                seen[v, default: []].append(magic)
            } else {
                #expect(PythonVersion.forMagic(magic) == nil, "Python \(entry[0]).\(entry[1]) magic \(magic)")
            }
        }
        // The ranges are exactly the history's first and last magic of each line we know.
        for v in PythonVersion.all where v <= newest {
            let magics = try #require(seen[v], "no \(v) entries in \(newest)'s history")
            #expect(v.magicRange == magics.min()!...magics.max()!, "\(v)")
        }
        // Releases after the newest 3.13 table (3.14 starts at 3600) are unknown.
        #expect(PythonVersion.forMagic(3600) == nil)
        #expect(PythonVersion.forMagic(0) == nil)
    }

    @Test("an unknown magic number is an error naming it and the known ranges")
    func unknownMagic() throws {
        let unknown: [(UInt16, [UInt8])] = [(0x1234, [0x34, 0x12, 0x0D, 0x0A]), (3351, [0x17, 0x0D, 0x0D, 0x0A])]
        for (magic, bytes) in unknown {
            let file = bytes + [UInt8](repeating: 0, count: 12) + Array("N".utf8)
            #expect(throws: PycError.unknownMagic(magic)) { try PycHeader(bytes: file) }
            #expect(throws: PycError.unknownMagic(magic)) { try PycFile(bytes: file) }
            let text = PycError.unknownMagic(magic).description
            #expect(text.contains("\(magic)"), "\(text)")
            for v in PythonVersion.all {
                #expect(text.contains("\(v) \(v.magicRange.lowerBound)–\(v.magicRange.upperBound)"), "\(text)")
            }
            #expect(PycError.unknownMagic(magic).offset == 0)
        }
    }

    @Test("a magic number not followed by \\r\\n is not a pyc; a cut header is .truncated")
    func malformedHeaders() throws {
        let magic = PythonVersion.v3_13.magic
        let good = PycHeader(version: .v3_13, mtime: 1, sourceSize: 2).serialized()
        #expect(throws: PycError.badMagicSuffix(offset: 2)) {
            try PycHeader(bytes: [UInt8(magic & 0xFF), UInt8(magic >> 8), 0x0D, 0x00] + good.dropFirst(4))
        }
        for version in PythonVersion.all {
            let header = PycHeader(version: version, mtime: 7, sourceSize: 9).serialized()
            // magic u16, \r\n u16, then u32 fields.
            let fieldStarts = [0, 2] + Array(stride(from: 4, to: header.count, by: 4))
            for cut in 0..<header.count {
                do {
                    _ = try PycHeader(bytes: Array(header[..<cut]))
                    Issue.record("\(version): header cut at \(cut) parsed")
                } catch {
                    guard case .marshal(let e) = error, case .truncated = e.kind else {
                        Issue.record("\(version) cut at \(cut): \(error)")
                        continue
                    }
                    // The error names the start of the field the cut falls in.
                    #expect(e.offset == fieldStarts.last { $0 <= cut }, "\(version) cut at \(cut): \(error)")
                }
            }
        }
    }

    // MARK: - Timestamp headers written by py_compile

    @Test(
        "timestamp headers: size per version, mtime and source size as the interpreter wrote them",
        arguments: PythonVersion.all)
    func timestampHeaders(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        let dir = try TemporaryDirectory()
        // mtime beyond 2**32 checks the `& 0xFFFFFFFF`; 70000 bytes of source the size field.
        let script = #"""
            import os, sys, struct, binascii, py_compile
            d = sys.argv[1]
            src = os.path.join(d, "mod.py"); pyc = os.path.join(d, "mod.pyc")
            with open(src, "w") as f: f.write("x = 1\n" + "#" * 70000 + "\n")
            t = 2**32 + 123456789
            os.utime(src, (t, t))
            if sys.version_info >= (3, 7):
                py_compile.compile(src, cfile=pyc, doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
            else:
                py_compile.compile(src, cfile=pyc, doraise=True)
            data = open(pyc, "rb").read()
            st = os.stat(src)
            if sys.version_info[0] == 2: fields = (0,) + struct.unpack("<I", data[4:8]) + (0,)
            elif sys.version_info < (3, 7): fields = (0,) + struct.unpack("<II", data[4:12])
            else: fields = struct.unpack("<III", data[4:16])
            print("%d %d %d %d %d %s" % (fields + (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF,
                                          binascii.hexlify(data).decode("ascii"))))
            """#
        let f = try MarshalTestKit.python(version, script, args: [dir.path]).split(separator: " ")
        try #require(f.count == 6)
        let (flags, mtime, size) = (UInt32(f[0])!, UInt32(f[1])!, UInt32(f[2])!)
        let (statMtime, statSize) = (UInt32(f[3])!, UInt32(f[4])!)
        let data = Hex.decode(f[5].trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(mtime == statMtime && mtime == 123_456_789, "\(version): mtime field")

        let header = try PycHeader(bytes: data)
        #expect(header.version == version)
        #expect(header.magic == version.magic)
        #expect(header.mtime == mtime)
        #expect(header.flags == flags && flags == 0)
        #expect(!header.isHashBased)
        switch version {
        case .v2_7:
            #expect(header.layout == .mtime && header.size == 8)
            #expect(header.sourceSize == 0)
        case .v3_6:
            #expect(header.layout == .mtimeAndSize && header.size == 12)
            #expect(header.sourceSize == size && size == statSize && size == 70_007)
        default:
            #expect(header.layout == .flags && header.size == 16)
            #expect(header.sourceSize == size && size == statSize && size == 70_007)
        }
        #expect(header.serialized() == Array(data.prefix(header.size)))
        let pyc = try PycFile(bytes: data)
        #expect(pyc.header == header)
        #expect(try pyc.serialized() == data)
    }

    // MARK: - PEP 552 hash-based files

    @Test(
        "hash-based pycs: flags 3 and 1, the source hash is importlib.util.source_hash",
        arguments: PythonVersion.all.filter { $0.headerLayout(magic: $0.magic) == .flags })
    func hashBasedHeaders(_ version: PythonVersion) throws {
        try MarshalTestKit.requireInterpreter(version)
        let dir = try TemporaryDirectory()
        let script = #"""
            import os, sys, binascii, py_compile, importlib.util
            import importlib._bootstrap_external as bootstrap
            d = sys.argv[1]
            src = os.path.join(d, "mod.py")
            with open(src, "wb") as f: f.write(b"def f(x):\n    return x * 2\n")
            h = lambda b: binascii.hexlify(b).decode("ascii")
            print("source_hash " + h(importlib.util.source_hash(open(src, "rb").read())))
            for mode in ("CHECKED_HASH", "UNCHECKED_HASH"):
                pyc = os.path.join(d, mode + ".pyc")
                py_compile.compile(src, cfile=pyc, doraise=True,
                                   invalidation_mode=getattr(py_compile.PycInvalidationMode, mode))
                print(mode + " " + h(open(pyc, "rb").read()))
            # What the import system says about flag words: 0-3 fine, any other bit refused.
            for flags in (0, 1, 3, 4, 0x80000001):
                data = importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + bytes(8)
                try: bootstrap._classify_pyc(data, "mod", {}); print("flags%d ok" % flags)
                except ImportError: print("flags%d refused" % flags)
            """#
        var fields: [String: String] = [:]
        for line in try MarshalTestKit.python(version, script, args: [dir.path]).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            fields[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let sourceHash = Hex.decode(try #require(fields["source_hash"]))
        try #require(sourceHash.count == 8)
        let expectedHash = sourceHash.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }

        for (mode, flags) in [("CHECKED_HASH", UInt32(3)), ("UNCHECKED_HASH", UInt32(1))] {
            let data = Hex.decode(try #require(fields[mode]))
            let header = try PycHeader(bytes: data)
            #expect(header.flags == flags, "\(version) \(mode)")
            #expect(header.isHashBased)
            #expect(header.checksSource == (flags == 3))
            #expect(header.sourceHash == expectedHash, "\(version) \(mode): hash")
            #expect(header.mtime == 0 && header.sourceSize == 0)
            #expect(header.serialized() == Array(data.prefix(16)))
            #expect(try PycFile(bytes: data).serialized() == data)
        }

        // Flag words: PycKit refuses exactly what the import system's `_classify_pyc` refuses.
        for flags: UInt32 in [0, 1, 3, 4, 0x8000_0001] {
            let cpython = try #require(fields["flags\(flags)"])
            let bytes =
                Array(PycHeader(version: version).serialized().prefix(4)) + le32(flags)
                + [UInt8](repeating: 0, count: 8)
            let ours = Result { () throws(PycError) in try PycHeader(bytes: bytes) }
            if cpython == "ok" {
                #expect(throws: Never.self, "\(version) flags \(flags)") { try ours.get() }
            } else {
                #expect(cpython == "refused")
                #expect(throws: PycError.badFlags(flags, offset: 4), "\(version) flags \(flags)") { try ours.get() }
            }
        }
    }
}

// MARK: - Helpers

/// A fresh directory under the system temporary directory, removed when the value goes away.
private final class TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("pyckit-header-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

private func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
