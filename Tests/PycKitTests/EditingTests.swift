import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// The editable form, the assembler and the verifier against each interpreter: lifting and
/// assembling gives the compiler's bytes back; padded and edited code runs with the same
/// results, line numbers and a recomputed stack size; broken code is refused.
@Suite("Editing and assembling")
struct EditingTests {
    static let fixtures = Corpus.packageRoot + "/Tests/PycKitTests/Fixtures"

    /// The fixture program compiled by `version`'s interpreter, in a fresh directory.
    struct Program {
        let python: String
        let dir: String
        let pyc: String
        let file: PycFile

        init(_ version: PythonVersion) throws {
            python = try #require(Interpreters.python(version))
            dir = NSTemporaryDirectory() + "pyckit-edit-\(version)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            pyc = dir + "/original.pyc"
            let out = try Interpreters.run([python, EditingTests.fixtures + "/edit_driver.py", "compile", EditingTests.fixtures + "/edit_program.py", pyc])
            try #require(out.status == 0, "\(out.stderr)")
            file = try PycFile(bytes: FileIO.read(pyc))
        }

        /// main()'s result and one `name lines nops stacksize` line per function.
        func run(_ path: String) throws -> (result: String, functions: [String: (lines: String, nops: Int, stack: Int)]) {
            let out = try Interpreters.run([python, EditingTests.fixtures + "/edit_driver.py", "run", path])
            try #require(out.status == 0, "\(path): \(out.stderr)")
            var lines = out.stdout.split(separator: "\n").map(String.init)
            let result = lines.removeFirst()
            var functions: [String: (String, Int, Int)] = [:]
            for l in lines {
                let f = l.split(separator: " ").map(String.init)
                functions[f[0]] = (f[1], Int(f[2]) ?? -1, Int(f[3]) ?? -1)
            }
            return (result, functions)
        }

        func write(_ code: CodeObject, as name: String) throws -> String {
            var f = file
            f.object.value = .code(code)
            let path = dir + "/" + name
            try FileIO.writeAtomically(try f.serialized(), to: path)
            return path
        }
    }

    @Test("lift + assemble gives the compiler's bytes back", arguments: PythonVersion.all)
    func identity(version: PythonVersion) throws {
        try Require.interpreter(version)
        let p = try Program(version)
        defer { try? FileManager.default.removeItem(atPath: p.dir) }
        let code = try #require(p.file.code)
        let bytecode = try version.lift(code)
        let assembled = try version.assemble(bytecode)
        #expect(assembled.firstDifference(from: code) == nil, "\(assembled.firstDifference(from: code) ?? "")")
        var f = p.file
        f.object.value = .code(assembled)
        #expect(try f.serialized() == FileIO.read(p.pyc))
        // The fixture reaches EXTENDED_ARG on constants and on a long forward jump.
        let big = try #require(bytecode.constants.compactMap { c -> Bytecode? in
            if case .code(let b, _) = c, b.template.nameText == "long_jump" { return b }
            return nil
        }.first)
        #expect(big.elements.contains { if case .instruction(let i) = $0 { return i.extendedArgFloor > 0 } else { return false } })
        #expect(version.verify(code).isEmpty, "\(version.verify(code))")
    }

    @Test("a NOP before every instruction: same results, same lines, every jump and table recomputed", arguments: PythonVersion.all)
    func padNops(version: PythonVersion) throws {
        try Require.interpreter(version)
        let p = try Program(version)
        defer { try? FileManager.default.removeItem(atPath: p.dir) }
        let code = try #require(p.file.code)
        var bytecode = try version.lift(code)
        bytecode.padWithNops()
        let padded = try version.assemble(bytecode)
        #expect(version.verify(padded).isEmpty, "\(version.verify(padded))")
        #expect(padded.codeBytes.count > code.codeBytes.count)
        let before = try p.run(p.pyc)
        let after = try p.run(try p.write(padded, as: "padded.pyc"))
        #expect(after.result == before.result)
        #expect(before.functions.count >= 10)
        for (name, f) in before.functions {
            let g = try #require(after.functions[name], "\(name) missing")
            #expect(g.lines == f.lines, "\(name): lines \(g.lines) instead of \(f.lines)")
            #expect(g.nops > f.nops, "\(name): not padded")
            #expect(g.stack == f.stack, "\(name): co_stacksize \(g.stack) instead of \(f.stack)")
        }
    }

    /// `hits.append(marker)` as instructions every version has: LOAD_GLOBAL, LOAD_CONST,
    /// LIST_APPEND 1 (appends to the list below), POP_TOP. Needs two more stack slots.
    func record(_ b: inout Bytecode, marker: String) throws -> [Bytecode.Instruction] {
        let hits: Bytecode.Argument = b.version.argumentShape(opcode: try b.make("LOAD_GLOBAL").opcode) == .global
            ? .global("hits", pushNull: false) : .name("hits")
        let k = b.addConstant(PyObject(b.version.major == 2 ? .bytes(Array(marker.utf8)) : .str(PyString(marker))))
        return [
            try b.make("LOAD_GLOBAL", hits), try b.make("LOAD_CONST", .constant(k)), try b.make("LIST_APPEND", .int(1)),
            try b.make("POP_TOP"),
        ]
    }

    @Test("inserting before every return: runs once per return path, lines unchanged, stack size recomputed", arguments: PythonVersion.all)
    func insertBeforeReturns(version: PythonVersion) throws {
        try Require.interpreter(version)
        let p = try Program(version)
        defer { try? FileManager.default.removeItem(atPath: p.dir) }
        let code = try #require(p.file.code)
        var module = try version.lift(code)
        var edited = 0
        for i in module.constants.indices {
            guard case .code(var f, let encoding) = module.constants[i], ["returns3", "handlers"].contains(f.template.nameText) else { continue }
            for r in f.returnIndices.reversed() {
                try f.insert(try record(&f, marker: "ret"), before: r)
            }
            #expect(f.returnIndices.count >= 3)
            module.constants[i] = .code(f, encoding: encoding)
            edited += 1
        }
        #expect(edited == 2)
        let assembled = try version.assemble(module)
        #expect(version.verify(assembled).isEmpty, "\(version.verify(assembled))")
        let before = try p.run(p.pyc)
        let after = try p.run(try p.write(assembled, as: "edited.pyc"))
        // main() ends with len(hits): 8 originally; returns3 runs 5 times and handlers 3 times.
        #expect(after.result == before.result.replacingOccurrences(of: ", 8]", with: ", 16]"), "\(after.result)")
        for name in ["returns3", "handlers"] {
            let (b, a) = (try #require(before.functions[name]), try #require(after.functions[name]))
            #expect(a.lines == b.lines, "\(name): lines \(a.lines) instead of \(b.lines)")
            #expect(a.stack >= 2 && a.stack <= b.stack + 2, "\(name): co_stacksize \(a.stack) (was \(b.stack))")
        }
    }

    @Test("an inserted instruction takes the position of the one it precedes")
    func insertedPositions() throws {
        let version = try #require(PythonVersion.all.last)
        try Require.interpreter(version)
        let p = try Program(version)
        defer { try? FileManager.default.removeItem(atPath: p.dir) }
        var module = try version.lift(try #require(p.file.code))
        guard case .code(var f, _) = module.constants.first(where: { if case .code(let b, _) = $0 { return b.template.nameText == "returns3" } else { return false } }) else {
            Issue.record("no returns3")
            return
        }
        let r = try #require(f.returnIndices.first)
        let position = try #require(f.instruction(at: r)).position
        try f.insert([try f.make("NOP")], before: r)
        #expect(f.instruction(at: r)?.position == position)
        #expect(position.line != nil)
        _ = module.addConstant(.none)
    }

    // MARK: - Verifier

    /// The first function of the fixture named `name`, lifted.
    func function(_ name: String, _ version: PythonVersion) throws -> (Program, Bytecode) {
        let p = try Program(version)
        let module = try version.lift(try #require(p.file.code))
        for case .code(let b, _) in module.constants where b.template.nameText == name { return (p, b) }
        throw TestSupportError("no function \(name)")
    }

    func findings(_ b: Bytecode) -> [String] { b.version.verify(b).map(\.description) }

    @Test("the verifier refuses broken code and names the instruction", arguments: PythonVersion.all)
    func verifierFindings(version: PythonVersion) throws {
        try Require.interpreter(version)
        let (p, loops) = try function("loops", version)
        defer { try? FileManager.default.removeItem(atPath: p.dir) }
        #expect(findings(loops).isEmpty, "\(findings(loops))")
        let first = try #require(loops.instructionIndices.first { loops.name(of: loops.instruction(at: $0)!) != "RESUME" && loops.name(of: loops.instruction(at: $0)!) != "NOP" })

        // Stack underflow: a POP_TOP on an empty stack.
        var b = loops
        b.elements.insert(.instruction(try b.make("POP_TOP")), at: first)
        #expect(findings(b).contains { $0.contains("POP_TOP") && $0.contains("underflow") }, "\(findings(b))")

        // A jump to a label that is never placed.
        b = loops
        let nowhere = b.newLabel()
        let jump = version.major == 3 && version.minor >= 11 ? "JUMP_FORWARD" : "JUMP_ABSOLUTE"
        b.elements.insert(.instruction(try b.make(version.opcodes[jump] != nil ? jump : "JUMP_FORWARD", .label(nowhere))), at: first)
        #expect(findings(b).contains { $0.contains("not placed") }, "\(findings(b))")

        // An unknown local variable.
        b = loops
        b.elements.insert(.instruction(try b.make("LOAD_FAST", .local("no_such_local"))), at: first)
        #expect(findings(b).contains { $0.contains("unknown variable no_such_local") }, "\(findings(b))")

        // An unknown free variable (the function has none).
        b = loops
        b.elements.insert(.instruction(try b.make("LOAD_DEREF", .free("no_such_free"))), at: first)
        #expect(findings(b).contains { $0.contains("unknown variable no_such_free") }, "\(findings(b))")

        // A merge point reached with two depths (3.9+, where CPython's compiler guarantees one):
        // a conditional jump over a LOAD_CONST lands on a NOP with depth 0 one way and 1 the other.
        if (version.major, version.minor) >= (3, 9) {
            b = loops
            let merge = b.newLabel()
            let zero = b.addConstant(.int(0))
            let jumpIfFalse = version.opcodes["POP_JUMP_IF_FALSE"] != nil ? "POP_JUMP_IF_FALSE" : "POP_JUMP_FORWARD_IF_FALSE"
            b.elements.insert(contentsOf: [
                .instruction(try b.make("LOAD_CONST", .constant(zero))), .instruction(try b.make(jumpIfFalse, .label(merge))),
                .instruction(try b.make("LOAD_CONST", .constant(zero))), .label(merge), .instruction(try b.make("NOP")),
            ], at: first)
            #expect(findings(b).contains { $0.contains("elsewhere with") }, "\(findings(b))")
        }

        // More stack than declared.
        var code = try version.assemble(loops)
        code.stacksize = 0
        #expect(version.verify(code).contains { $0.message.contains("declares co_stacksize 0") }, "\(version.verify(code))")

        // A jump outside the code, patched into the bytes.
        code = try version.assemble(loops)
        var bytes = code.codeBytes
        let at = try #require(version.decodeInstructions(bytes).first { version.jumpKind(opcode: $0.opcode) != nil })
        bytes[at.offset + 1] = 0xF0
        if version.instructionLayout == .variableLength { bytes[at.offset + 2] = 0xFF }
        code.code.value = .bytes(bytes)
        #expect(version.verify(code).contains { $0.message.contains("jump target") }, "\(version.verify(code))")

        if version.hasExceptionTable {
            // An exception entry that covers nothing, and one deeper than the stack it covers.
            let (p2, handlers) = try function("handlers", version)
            defer { try? FileManager.default.removeItem(atPath: p2.dir) }
            b = handlers
            let target = try #require(b.elements.compactMap { e -> Bytecode.Label? in if case .tryBegin(let t) = e { return t.handler } else { return nil } }.first)
            let empty = b.newTryBlock(handler: target, depth: 0, lasti: false)
            b.elements.insert(contentsOf: [.tryBegin(empty), .tryEnd(empty)], at: first)
            #expect(findings(b).contains { $0.contains("covers no instruction") }, "\(findings(b))")
            b = handlers
            for i in b.elements.indices {
                if case .tryBegin(var t) = b.elements[i] {
                    t.depth = 40
                    b.elements[i] = .tryBegin(t)
                }
            }
            #expect(!findings(b).isEmpty)
        }
    }
}
