import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// NOP padding against each interpreter where the interpreter looks at the bytecode around an
/// instruction: a tracer's jumps (`frame_setlineno`), `async with` errors, line and exception
/// events. The padded fixture must print what the original prints, and only the instructions
/// the version's editing traits name may go without a NOP in front.
@Suite("NOP padding and the editing traits")
struct PadNopsTests {
    static let fixtures = Corpus.packageRoot + "/Tests/PycKitTests/Fixtures"

    /// A fixture compiled by `version`'s interpreter and padded by PycKit, in a fresh directory.
    struct Fixture {
        let python: String
        let dir: String
        let original: String
        let padded: String
        let code: CodeObject
        let paddedCode: CodeObject

        init(_ name: String, _ version: PythonVersion) throws {
            python = try #require(Interpreters.python(version))
            dir = NSTemporaryDirectory() + "pyckit-pad-\(version)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            original = dir + "/original.pyc"
            padded = dir + "/padded.pyc"
            let out = try Interpreters.run([
                python, PadNopsTests.fixtures + "/pad_nops_driver.py", "compile",
                PadNopsTests.fixtures + "/" + name, original,
            ])
            try #require(out.status == 0, "\(out.stderr)")
            var file = try PycFile(bytes: FileIO.read(original))
            code = try #require(file.code)
            var bytecode = try version.lift(code)
            bytecode.padWithNops()
            paddedCode = try version.assemble(bytecode)
            file.object.value = .code(paddedCode)
            try FileIO.writeAtomically(try file.serialized(), to: padded)
        }

        /// The lines the fixture prints when run from `pyc`.
        func run(_ pyc: String) throws -> [String] {
            let out = try Interpreters.run([python, PadNopsTests.fixtures + "/pad_nops_driver.py", "run", pyc])
            try #require(out.status == 0, "\(pyc): exit \(out.status)\n\(out.stderr)")
            return out.stdout.split(separator: "\n").map(String.init)
        }
    }

    /// Runs the original and the padded fixture and expects the same lines, each scenario's
    /// line present in the original (so the fixture really exercises it).
    func expectSameRun(_ name: String, _ version: PythonVersion, scenarios: [String]) throws {
        let f = try Fixture(name, version)
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        #expect(version.verify(f.paddedCode).isEmpty, "\(version.verify(f.paddedCode))")
        let before = try f.run(f.original)
        let after = try f.run(f.padded)
        for s in scenarios { #expect(before.contains { $0.hasPrefix(s) }, "\(name): no '\(s)' line in \(before)") }
        #expect(before.count == after.count, "\(name): \(after.count) lines instead of \(before.count)")
        for (b, a) in zip(before, after) { #expect(a == b, "\(name), padded:\n  \(a)\ninstead of\n  \(b)") }
    }

    @Test(
        "a tracer's jumps onto an except line, out of a with block, over a comprehension", arguments: PythonVersion.all)
    func tracerJumps(version: PythonVersion) throws {
        try Require.interpreter(version)
        try expectSameRun(
            "pad_nops_program.py", version,
            scenarios: [
                "typed except: [\"ValueError", "bare except: [\"ValueError", "with in loop: [1, 'jumped', 5, 6",
                "over listcomp: ['jumped', None]", "reraise events: [(0, 'call')",
            ])
    }

    @Test(
        "async code: throw into an await, async with errors, a tracer's jumps, async for and generator events",
        arguments: PythonVersion.all.filter { $0.major == 3 })
    func asyncAndEvents(version: PythonVersion) throws {
        try Require.interpreter(version)
        try expectSameRun(
            "pad_nops_async.py", version,
            scenarios: [
                "await, send: resumed", "await, throw handled: handled by the awaitable", "await, throw: caught",
                "enter_error: 'async with' received an object from __aenter__",
                "exit_error: 'async with' received an object from __aexit__",
                "exit_error_raising: 'async with' received an object from __aexit__",
                "async with in loop: [1, 'enter', 'jumped', 5, 6]",
                "out_of_async_for_forwards: [3, 'jumped', 5]",
                "out_of_async_for_backwards: [2, 4, 'jumped', 2, 4, 5, 6]",
                "over async listcomp: ['jumped']",
                "async for events: [", "generator loop events",
            ])
    }

    @Test("a NOP before every instruction but the ones the traits keep in place", arguments: PythonVersion.all)
    func exemptions(version: PythonVersion) throws {
        try Require.interpreter(version)
        var exempt = 0
        var total = 0
        for name in version.major == 2 ? ["pad_nops_program.py"] : ["pad_nops_program.py", "pad_nops_async.py"] {
            let f = try Fixture(name, version)
            defer { try? FileManager.default.removeItem(atPath: f.dir) }
            var pending = [try version.lift(f.paddedCode)]
            while let b = pending.popLast() {
                for case .code(let nested, _) in b.constants { pending.append(nested) }
                let (e, t) = try check(b)
                exempt += e
                total += t
            }
        }
        // The traits exempt a few instructions; everything else is padded.
        #expect(total > 100)
        #expect(exempt * 10 < total, "\(exempt) of \(total) instructions without a NOP")
    }

    /// Checks that every non-NOP instruction of padded code `b` follows a NOP (labels and
    /// markers between them allowed), or is one of the exemptions the traits name: glued to the
    /// previous instruction, or the first instruction of a line entry that must stay so.
    /// Returns the number of exempt instructions and of non-NOP instructions.
    func check(_ b: Bytecode) throws -> (exempt: Int, total: Int) {
        let version = b.version
        let nop = try #require(version.opcodes["NOP"]?.byte)
        var previous: UInt8? = nil
        var startsLine = false
        var exempt = 0
        var total = 0
        for element in b.elements {
            switch element {
            case .instruction(let ins):
                defer {
                    previous = ins.opcode
                    startsLine = false
                }
                if ins.opcode == nop && previous != nop { continue }  // a padding NOP
                total += 1
                if previous == nop { continue }
                exempt += 1
                let glued = previous.map { version.mustStayAdjacent(previous: $0, next: ins.opcode) } ?? false
                let first =
                    startsLine && (version.mustStayFirstOfLine(opcode: ins.opcode) || version.insertsBeforeLineMarker)
                #expect(glued || first, "\(b.template.nameText): \(b.name(of: ins)) has no NOP in front")
            case .setLine:
                startsLine = true
            default:
                break
            }
        }
        return (exempt, total)
    }

    @Test("the traits name the instructions the interpreters look at")
    func traitsTable() throws {
        func op(_ v: PythonVersion, _ name: String) throws -> UInt8 { try #require(v.opcodes[name]?.byte) }
        for v in PythonVersion.all {
            let atLine = v.major == 2 || v.minor <= 8
            #expect(v.insertsBeforeLineMarker == (v.major == 3 && v.minor == 9), "\(v) before line marker")
            #expect(v.mustStayFirstOfLine(opcode: try op(v, "POP_TOP")) == atLine, "\(v) POP_TOP")
            if let dup = v.opcodes["DUP_TOP"]?.byte {
                #expect(v.mustStayFirstOfLine(opcode: dup) == atLine, "\(v) DUP_TOP")
            }
            if v.major == 3 && (6...10).contains(v.minor) {
                #expect(v.mustStayAdjacent(previous: try op(v, "BEFORE_ASYNC_WITH"), next: try op(v, "GET_AWAITABLE")))
            }
            if let w = v.opcodes["WITH_CLEANUP_START"]?.byte { #expect(v.mustStayAtLabel(opcode: w) == (v.major == 3)) }
            if let e = v.opcodes["END_ASYNC_FOR"]?.byte {
                #expect(v.mustStayAtLabel(opcode: e) == (v.minor == 8 || v.minor >= 12), "\(v) END_ASYNC_FOR")
            }
            if v.major == 3 && v.minor == 11 {
                #expect(v.mustStayAdjacent(previous: try op(v, "SEND"), next: try op(v, "YIELD_VALUE")))
            }
            if v.major == 3 && (9...10).contains(v.minor) {
                #expect(v.mustStayAdjacent(previous: try op(v, "GET_AITER"), next: try op(v, "CALL_FUNCTION")))
                #expect(v.mustStayAdjacent(previous: try op(v, "GET_ITER"), next: try op(v, "CALL_FUNCTION")))
            }
            if v.major == 3 && v.minor == 8 {
                #expect(v.mustStayAdjacent(previous: try op(v, "LOAD_CONST"), next: try op(v, "SETUP_FINALLY")))
            }
            #expect(
                v.mustStayAtLabel(opcode: try op(v, "FOR_ITER")) == (v.major == 3 && v.minor >= 13), "\(v) FOR_ITER")
        }
    }
}
