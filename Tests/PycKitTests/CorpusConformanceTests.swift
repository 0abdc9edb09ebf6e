import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// The whole-corpus checks of the conformance definitions (ARCHITECTURE.md), run through the
/// built `pyckit` binary over `Scripts/corpus.sh`'s stdlib corpus of every installed version.
@Suite("Corpus conformance")
struct CorpusConformanceTests {
    static let layers = ["marshal", "concrete"]

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
}
