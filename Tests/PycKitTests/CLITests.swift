import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// The CLI contract (ARCHITECTURE.md): exit codes 0/1/2, one stderr line per error starting with
/// "error: PATH", --help that teaches. Runs the built binary.
@Suite("pyckit command line")
struct CLITests {
    let pyckit = Corpus.pyckitBinary

    /// A scratch directory removed when the test ends.
    final class Scratch {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "pyckit-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Compiles a small module with the given interpreter and returns the .pyc path.
    func compile(_ version: PythonVersion, _ source: String, in dir: String, name: String = "m") throws -> String {
        let py = dir + "/\(name).py"
        try source.write(toFile: py, atomically: true, encoding: .utf8)
        let pyc = dir + "/\(name).pyc"
        let out = try Interpreters.runPython(version, "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)", args: [py, pyc])
        try #require(out.status == 0, "\(out.stderr)")
        return pyc
    }

    func anyVersion() throws -> PythonVersion {
        try #require(Interpreters.installed.last, "no interpreter installed")
    }

    @Test func helpTeaches() throws {
        let out = try Interpreters.run([pyckit, "--help"])
        #expect(out.status == 0)
        #expect(out.stdout.contains("rewrite"))
        #expect(out.stdout.contains("info"))
        #expect(out.stdout.contains("Exit status"))
        let sub = try Interpreters.run([pyckit, "rewrite", "--help"])
        #expect(sub.status == 0)
        #expect(sub.stdout.contains("--check"))
        #expect(sub.stdout.contains("Examples"))
    }

    @Test func usageErrorsExitTwo() throws {
        let none = try Interpreters.run([pyckit, "rewrite", "--layer", "marshal", "x.pyc"])
        #expect(none.status == 2, "no --check/-o: \(none.stderr)")
        #expect(none.stderr.contains("nothing to do"))
        let badLayer = try Interpreters.run([pyckit, "rewrite", "--layer", "nonsense", "--check", "x.pyc"])
        #expect(badLayer.status == 2)
        let unknown = try Interpreters.run([pyckit, "frobnicate"])
        #expect(unknown.status == 2)
    }

    @Test func missingFileIsOneErrorLine() throws {
        let out = try Interpreters.run([pyckit, "info", "/nonexistent/file.pyc"])
        #expect(out.status == 2)
        let lines = out.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("error: /nonexistent/file.pyc: ") == true)
    }

    @Test func corruptFileNamesOffset() throws {
        let v = try anyVersion()
        let s = try Scratch()
        let pyc = try compile(v, "x = (1, 'two', 3.0)\n", in: s.path)
        var bytes = try FileIO.read(pyc)
        bytes = Array(bytes.prefix(bytes.count - 7))  // truncate inside the code object
        try FileIO.writeAtomically(bytes, to: pyc)
        let out = try Interpreters.run([pyckit, "info", pyc])
        #expect(out.status == 2)
        let line = String(out.stderr.split(separator: "\n").first ?? "")
        #expect(line.hasPrefix("error: \(pyc): offset "), "\(line)")
        #expect(line.contains("truncated"), "\(line)")
        let rewrite = try Interpreters.run([pyckit, "rewrite", "--layer", "marshal", "--check", pyc])
        #expect(rewrite.status == 2)
        #expect(rewrite.stderr.hasPrefix("error: \(pyc): offset "))
    }

    @Test func unknownMagicIsNamed() throws {
        let s = try Scratch()
        let path = s.path + "/bad.pyc"
        try FileIO.writeAtomically([0x34, 0x12, 0x0D, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x4E], to: path)
        let out = try Interpreters.run([pyckit, "info", path])
        #expect(out.status == 2)
        #expect(out.stderr.contains("unknown magic number 4660"), "\(out.stderr)")
        #expect(out.stderr.contains("3.13 3550–3571"))
    }

    @Test func infoReportsHeaderAgainstInterpreter() throws {
        let v = try anyVersion()
        let s = try Scratch()
        let pyc = try compile(v, "def f():\n    def g(): pass\n    return g\nclass C:\n    def m(self): pass\n", in: s.path)
        let out = try Interpreters.run([pyckit, "info", "--json", pyc])
        #expect(out.status == 0, "\(out.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
        let r = try #require(json.first)
        #expect(r["version"] as? String == v.description)
        // module, f, g, C, m
        #expect(r["codeObjects"] as? Int == 5)
        let size = try FileManager.default.attributesOfItem(atPath: pyc)[.size] as? Int
        #expect(r["fileSize"] as? Int == size)
        let probe = try Interpreters.runPython(v, """
            import struct, sys
            d = open(sys.argv[1], 'rb').read()
            print(struct.unpack('<H', d[:2])[0])
            """, args: [pyc])
        #expect(r["magic"] as? Int == Int(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func rewriteWritesMirroredTreeAndLeavesInputAlone() throws {
        let v = try anyVersion()
        let s = try Scratch()
        try FileManager.default.createDirectory(atPath: s.path + "/in/pkg", withIntermediateDirectories: true)
        let a = try compile(v, "a = 1\n", in: s.path + "/in", name: "a")
        let b = try compile(v, "b = [1, 2]\n", in: s.path + "/in/pkg", name: "b")
        let before = try FileIO.read(a)
        let out = try Interpreters.run([pyckit, "rewrite", "--layer", "marshal", s.path + "/in", "-o", s.path + "/out"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try FileIO.read(s.path + "/out/a.pyc") == before)
        #expect(try FileIO.read(s.path + "/out/pkg/b.pyc") == FileIO.read(b))
        #expect(try FileIO.read(a) == before)
        // The output loads in the interpreter.
        let load = try Interpreters.runPython(v, "import marshal, sys; d = open(sys.argv[1], 'rb').read(); ns = {}; exec(marshal.loads(d[\(PycHeader(version: v).size):]), ns); print(ns['b'])", args: [s.path + "/out/pkg/b.pyc"])
        #expect(load.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[1, 2]", "\(load.stderr)")
    }

    @Test func checkReportsDifferenceWithExitOne() throws {
        // A 3.x file whose float is stored as text "1.50": valid marshal that CPython would never
        // write, so the rewrite ("%.17g" → "1.5") differs.
        let s = try Scratch()
        let path = s.path + "/f.pyc"
        var bytes = PycHeader(version: .v3_13).serialized()
        bytes += [0x66, 4] + Array("1.50".utf8)
        try FileIO.writeAtomically(bytes, to: path)
        let out = try Interpreters.run([pyckit, "rewrite", "--layer", "marshal", "--check", path])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(out.stdout.hasPrefix("\(path): differs at offset 17"), "\(out.stdout)")
    }
}
