import Foundation
@testable import PycKit
import PycKitTestSupport
import Testing

/// Names in instruction arguments, and the `lineAtOpcode` marker: the parts of the editable form
/// that used to be reference-counted values inside each instruction.
@Suite("Names and line entries at an opcode")
struct NameTests {
    @Test("a name is its UTF-8 bytes: equal bytes, equal names; canonically equal texts stay apart")
    func interning() {
        let a = Name("value")
        #expect(a == "value")
        #expect(a.text == "value")
        #expect(a != Name("values"))
        #expect(Name("é").utf8 == [0xC3, 0xA9])
        // "é" precomposed and decomposed are equal Swift strings, but not the same identifier bytes
        // (CPython compares code points too).
        #expect("\u{E9}" == "e\u{301}")
        #expect(Name("\u{E9}") != Name("e\u{301}"))
        #expect(Name("e\u{301}").text.utf8.elementsEqual("e\u{301}".utf8))
        #expect(Name("") == Name(""))
        #expect(Name("abc") < Name("abd"))
        #expect(Name("ab") < Name("abc"))
        #expect(!(Name("abc") < Name("abc")))
        #expect(Bytecode.Argument.global("print", pushNull: true).description == "NULL + print")
    }

    @Test("names made on several threads at once are the same names")
    func concurrentInterning() {
        let texts = (0..<500).map { "concurrent_name_\($0 % 137)" }
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var ids: [[Name]] = []
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let names = texts.map { Name($0) }
            results.lock.lock()
            results.ids.append(names)
            results.lock.unlock()
        }
        #expect(results.ids.count == 8)
        for names in results.ids { #expect(names == results.ids[0]) }
        #expect(Set(results.ids[0]).count == 137)
        #expect(results.ids[0].map(\.text) == texts)
    }

    @Test("lifted names are the code object's own: co_names and co_varnames")
    func liftedNames() throws {
        let version = try #require(PythonVersion.all.last)
        try Require.interpreter(version)
        let file = try compile("import os\ndef f(x):\n    y = x\n    return os.path.join(y, 'é_ñame')\n", version)
        let module = try version.lift(try #require(file.code))
        let f = try firstNested(module)
        var arguments: [String] = []
        for case .instruction(let ins) in f.elements {
            switch ins.argument {
            case .global(let n, _), .attribute(let n, _), .name(let n), .local(let n): arguments.append(n.text)
            default: break
            }
        }
        #expect(arguments.contains("os") && arguments.contains("path") && arguments.contains("join"))
        #expect(arguments.contains("x") && arguments.contains("y"))
        let assembled = try version.assemble(f)
        #expect(
            assembled.firstDifference(from: f.template) == nil, "\(assembled.firstDifference(from: f.template) ?? "")")
    }

    @Test("a full name pool refuses new names and keeps finding the ones it has")
    func fullPool() {
        // 32 bytes of records: "abc" (4 + 3), "defgh" (4 + 5), then 16 left.
        let pool = NamePool(limit: 32)
        let abc = pool.intern(Array("abc".utf8))
        let defgh = pool.intern(Array("defgh".utf8))
        #expect(abc != nil && defgh != nil && abc != defgh)
        #expect(pool.intern(Array("0123456789abcdefg".utf8)) == nil)  // 4 + 17 > 16
        let twelve = pool.intern(Array("0123456789ab".utf8))  // 4 + 12 = 16: exactly full
        #expect(twelve != nil)
        #expect(pool.intern(Array("x".utf8)) == nil)
        #expect(pool.intern(Array("".utf8)) == nil)
        #expect(pool.intern(Array("abc".utf8)) == abc)
        #expect(pool.intern(Array("0123456789ab".utf8)) == twelve)
        if let defgh { #expect(pool.bytes(of: defgh) == Array("defgh".utf8)) }
        #expect(BytecodeError(.namePoolFull, at: 12, in: "f").description.contains("name pool"))
    }

    @Test("an empty name is the empty name, wherever its marshal slot falls")
    func emptyName() throws {
        let version = try #require(PythonVersion.all.last)
        try Require.interpreter(version)
        // A nested function whose only global is named "" (marshal gives it an early slot: the nested code
        // is written before the module's names, which the lifter meets first).
        let dir = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Interpreters.runPython(
            version,
            """
            import importlib.util, marshal, sys
            code = compile("def f():\\n    return x\\nprint(y)\\n", "m.py", "exec")
            f = next(c for c in code.co_consts if hasattr(c, "co_code"))
            g = f.replace(co_names=("",))
            code = code.replace(co_consts=tuple(g if c is f else c for c in code.co_consts))
            open(sys.argv[1], "wb").write(importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(code))
            """, args: [dir + "/m.pyc"])
        try #require(out.status == 0, "\(out.stderr)")
        _ = Name("a name made before, so that the pool's first name is not the empty one")
        let file = try PycFile(bytes: FileIO.read(dir + "/m.pyc"))
        let module = try version.lift(try #require(file.code))
        let f = try firstNested(module)
        var globals: [Name] = []
        for case .instruction(let ins) in f.elements {
            if case .global(let n, _) = ins.argument { globals.append(n) }
        }
        #expect(globals == [Name("")], "\(globals.map(\.text))")
        let assembled = try version.assemble(f)
        #expect(assembled.firstDifference(from: f.template) == nil)
    }

    /// A fresh directory for one test's files (the caller removes it).
    func makeDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "pyckit-name-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The first code object nested in `module`'s constants.
    func firstNested(_ module: Bytecode) throws -> Bytecode {
        try #require(
            module.constants.compactMap { c -> Bytecode? in
                if case .code(let b, _) = c { return b }
                return nil
            }.first)
    }

    /// `source` compiled by `version`'s interpreter (a module).
    func compile(_ source: String, _ version: PythonVersion) throws -> PycFile {
        let dir = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try source.write(toFile: dir + "/m.py", atomically: true, encoding: .utf8)
        let out = try Interpreters.runPython(
            version, "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
            args: [dir + "/m.py", dir + "/m.pyc"])
        try #require(out.status == 0, "\(out.stderr)")
        return try PycFile(bytes: FileIO.read(dir + "/m.pyc"))
    }

    @Test("a line entry at an opcode lands after its EXTENDED_ARG, stays with its instruction through edits")
    func lineAtOpcode() throws {
        let version = try #require(PythonVersion.all.first { $0.major == 3 && $0.minor == 8 })
        try Require.interpreter(version)
        var file = try compile("a = 1\nb = 2\nc = 3\n", version)
        var module = try version.lift(try #require(file.code))
        // The second statement's first instruction gets a prefix and a line entry after it.
        let indices = module.instructionIndices
        let k = indices[2]
        guard case .instruction(var ins) = module.elements[k] else { throw TestSupportError("not an instruction") }
        #expect(module.name(of: ins) == "LOAD_CONST")
        ins.extendedArgFloor = 1
        module.elements[k] = .instruction(ins)
        module.elements.insert(.lineAtOpcode(9), at: k)

        // The interpreter sees line 9 start at the opcode, after the prefix, and runs the code.
        let assembled = try version.assemble(module)
        let dir = NSTemporaryDirectory() + "pyckit-lao-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        file.object.value = .code(assembled)
        try FileIO.writeAtomically(try file.serialized(), to: dir + "/out.pyc")
        let out = try Interpreters.runPython(
            version,
            """
            import dis, marshal, sys
            co = marshal.loads(open(sys.argv[1], 'rb').read()[16:])
            ns = {}
            exec(co, ns)
            print(ns['b'])
            for off, line in dis.findlinestarts(co):
                print(off, line, dis.opname[co.co_code[off]], dis.opname[co.co_code[off - 2]] if off >= 2 else '-')
            """, args: [dir + "/out.pyc"])
        try #require(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "2")
        #expect(lines.contains { $0.hasSuffix(" 9 LOAD_CONST EXTENDED_ARG") }, "\(lines)")

        // Lifted again: the marker, then its instruction.
        var again = try version.lift(assembled)
        let m = try #require(again.elements.firstIndex(of: .lineAtOpcode(9)))
        #expect(again.instruction(at: m + 1)?.extendedArgFloor == 1)
        // Inserting before the instruction puts the new code before its marker.
        try again.insert([try again.make("NOP")], before: m + 1)
        #expect(again.instruction(at: m).map { again.name(of: $0) } == "NOP")
        #expect(again.elements[m + 1] == .lineAtOpcode(9))
        // Padding keeps the marker directly in front of its instruction.
        again.padWithNops()
        let p = try #require(again.elements.firstIndex(of: .lineAtOpcode(9)))
        #expect(again.instruction(at: p + 1)?.extendedArgFloor == 1)
        #expect(try version.assemble(again).code != assembled.code)

        // A marker with no instruction after it, or in a version without line markers, is refused.
        var trailing = module
        trailing.elements.append(.lineAtOpcode(3))
        #expect(throws: BytecodeError.self) { try version.assemble(trailing) }
        if let v310 = PythonVersion.all.first(where: { $0.major == 3 && $0.minor == 10 }) {
            var b = Bytecode(version: v310, template: CodeObject())
            b.elements = [.lineAtOpcode(1), .instruction(try b.make("NOP"))]
            do {
                _ = try v310.assemble(b)
                Issue.record("3.10 accepted a lineAtOpcode marker")
            } catch {
                #expect("\(error)".contains("lineAtOpcode markers exist only up to 3.9"), "\(error)")
            }
        }
    }
}
