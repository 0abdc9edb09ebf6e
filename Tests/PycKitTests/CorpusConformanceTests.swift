import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// The whole-corpus checks of the conformance definitions (ARCHITECTURE.md), run through the
/// built `pyckit` binary over `Scripts/corpus.sh`'s stdlib corpus of every installed version.
@Suite("Corpus conformance")
struct CorpusConformanceTests {
    static let layers = ["marshal", "concrete", "abstract"]

    @Test("rewrite --check: every stdlib .pyc comes back byte-identical", arguments: PythonVersion.all, layers)
    func rewriteIdentity(version: PythonVersion, layer: String) throws {
        guard let dir = Corpus.directory(version) else {
            print("skip \(version): no corpus at \(Corpus.root)/\(version) (run Scripts/corpus.sh); \(Interpreters.python(version) == nil ? Interpreters.missingMessage(version) : "")")
            try #require(Interpreters.python(version) == nil, "the \(version) interpreter is installed but its corpus was not built")
            return
        }
        let files = Corpus.files(version)
        try #require(files.count > 1000, "the \(version) corpus looks incomplete: \(files.count) files")
        let out = try Interpreters.run([Corpus.pyckitBinary, "rewrite", "--layer", layer, "--check", dir])
        #expect(out.status == 0, "pyckit exited \(out.status): \(out.stderr)")
        #expect(out.stdout.isEmpty, "files that differ:\n\(out.stdout.prefix(4000))")
        #expect(out.stderr.contains("\(files.count) files, \(files.count) identical, 0 differ, 0 errors"), "\(out.stderr)")
    }

    @Test("verify: every stdlib .pyc passes the verifier", arguments: PythonVersion.all)
    func verifyCorpus(version: PythonVersion) throws {
        guard let dir = Corpus.directory(version) else {
            print("skip \(version): no corpus at \(Corpus.root)/\(version) (run Scripts/corpus.sh); \(Interpreters.python(version) == nil ? Interpreters.missingMessage(version) : "")")
            try #require(Interpreters.python(version) == nil, "the \(version) interpreter is installed but its corpus was not built")
            return
        }
        let files = Corpus.files(version)
        let out = try Interpreters.run([Corpus.pyckitBinary, "verify", dir])
        #expect(out.status == 0, "pyckit verify exited \(out.status): \(out.stdout.prefix(4000)) \(out.stderr.prefix(2000))")
        #expect(out.stderr.contains("verify: \(files.count) files,") && out.stderr.contains(" 0 findings, 0 errors"), "\(out.stderr)")
    }

    @Test("dis: every stdlib .pyc disassembles exactly like the interpreter's own dis", arguments: PythonVersion.all)
    func disIdentity(version: PythonVersion) throws {
        guard let dir = Corpus.directory(version), let python = Interpreters.python(version) else {
            print("skip \(version): \(Interpreters.python(version) == nil ? Interpreters.missingMessage(version) : "no corpus at \(Corpus.root)/\(version)")")
            try #require(Interpreters.python(version) == nil, "the \(version) interpreter is installed but its corpus was not built")
            return
        }
        let listings = NSTemporaryDirectory() + "pyckit-dis-corpus-\(version)-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: listings) }
        let dis = try Interpreters.run([Corpus.pyckitBinary, "dis", dir, "-o", listings])
        #expect(dis.status == 0, "pyckit dis exited \(dis.status): \(dis.stderr.prefix(2000))")
        let compare = try Interpreters.run([python, Corpus.packageRoot + "/Scripts/dis_conformance.py", dir, listings])
        let files = Corpus.files(version).count
        #expect(compare.status == 0, "\(compare.stdout.prefix(6000))\(compare.stderr.prefix(2000))")
        #expect(compare.stdout.contains("\(files) files, \(files) identical, 0 differ"), "\(compare.stdout.suffix(300))")
    }
}
