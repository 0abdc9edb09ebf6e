import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// `pyckit demo` runs the seed scenario end to end with each interpreter: the instrumented
/// program must register each of its three constructions once (one per return point of
/// `__init__`), print what the original prints, and keep `__init__`'s line numbers. The demo
/// checks these itself against the interpreter's run; here the same facts are read from its
/// output, so a demo that stopped checking would fail too.
@Suite("pyckit demo")
struct DemoTests {
    let pyckit = Corpus.pyckitBinary

    @Test("the byteplay walk-through registers every instance once", arguments: PythonVersion.all)
    func demo(version: PythonVersion) throws {
        try Require.interpreter(version)
        let python = try #require(Interpreters.python(version))
        let out = try Interpreters.run([pyckit, "demo", "--python", python])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        // The original run registers nothing; the instrumented one each object once.
        #expect(lines.contains("registrations: early=0 in-try=0 end=0"))
        #expect(lines.contains("registrations: early=1 in-try=1 end=1"))
        #expect(lines.contains { $0.hasPrefix("each construction registered exactly once: yes") })
        #expect(lines.contains { $0.hasPrefix("the program's own output unchanged:") && $0.hasSuffix("yes") })
        #expect(lines.contains { $0.hasPrefix("__init__ line numbers unchanged:") && $0.contains("yes (") })
        // Three return points, each preceded by the injected call (its final POP_TOP marked).
        let marked = out.stdout.split(separator: "\n").filter { $0.hasPrefix("  + ") }
        #expect(marked.filter { $0.contains("POP_TOP") }.count == 3, "\(out.stdout)")
        #expect(marked.filter { $0.contains("Register") }.count == 3, "\(out.stdout)")
    }

    @Test("a missing interpreter is a clear error, exit 2")
    func missingInterpreter() throws {
        let out = try Interpreters.run([pyckit, "demo", "--python", "/nonexistent/python"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("cannot run /nonexistent/python"))
    }
}
