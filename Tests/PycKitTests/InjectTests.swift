import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// Injection (issue 5) against each interpreter: probe counts equal what the interpreter itself
/// observes, the seed scenario registers every instance once without changing output or lines,
/// names resolve as Python's scoping does, keyword arguments work on every call convention,
/// snippet errors point at their column, and unselected code comes back byte-identical.
@Suite("Injecting code")
struct InjectTests {
    static let fixtures = Corpus.packageRoot + "/Tests/PycKitTests/Fixtures"

    /// A scratch directory removed when the test ends.
    final class Scratch {
        let path: String
        init(_ version: PythonVersion) throws {
            path = NSTemporaryDirectory() + "pyckit-inject-\(version)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Runs a fixture driver with `version`'s interpreter and returns its stdout.
    func driver(_ version: PythonVersion, _ script: String, _ args: [String]) throws -> String {
        let python = try #require(Interpreters.python(version))
        let out = try Interpreters.run([python, Self.fixtures + "/" + script] + args)
        try #require(out.status == 0, "\(script) \(args.first ?? ""): \(out.stderr)")
        return out.stdout
    }

    /// The fixture program compiled by `version`'s interpreter into a new scratch directory
    /// (kept while the returned `Scratch` lives); returns the directory and the `.pyc` path.
    func compiledProgram(_ version: PythonVersion) throws -> (dir: Scratch, pyc: String) {
        let dir = try Scratch(version)
        let pyc = dir.path + "/program.pyc"
        _ = try driver(version, "inject_driver.py", ["compile", pyc])
        return (dir, pyc)
    }

    /// Reads a .pyc, injects, writes the result next to it; returns the path and the report.
    func inject(_ path: String, _ injection: Injection, as name: String) throws -> (String, InjectionReport) {
        var file = try PycFile(bytes: FileIO.read(path))
        let (code, report) = try file.version.inject(injection, into: try #require(file.code))
        file.object.value = .code(code)
        let out = (path as NSString).deletingLastPathComponent + "/" + name
        try FileIO.writeAtomically(try file.serialized(), to: out)
        return (out, report)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    // MARK: - Ground truth

    @Test(
        "--all-functions probes count what the interpreter observes: starts and normal returns",
        arguments: PythonVersion.all)
    func probesMatchInterpreter(version: PythonVersion) throws {
        try Require.interpreter(version)
        let program = try compiledProgram(version)
        let pyc = program.pyc
        let injection = Injection(
            selection: .allFunctions, atEntry: try Snippet("probe.enter()"), beforeReturn: try Snippet("probe.leave()"))
        let (edited, report) = try inject(pyc, injection, as: "edited.pyc")
        #expect(report.functions.count >= 30, "\(report.functions)")
        #expect(report.functions.contains("closure.<locals>.inner"))
        #expect(report.functions.contains("lam.<locals>.<lambda>"))
        #expect(report.functions.contains("make_class.<locals>.Local.m"))
        #expect(report.entries == report.functions.count)
        let result = try json(try driver(version, "inject_driver.py", ["run", pyc, edited]))
        let observed = try #require(result["observed"] as? [String: [Int]])
        let probed = try #require(result["probed"] as? [String: [Int]])
        #expect(result["original_output"] as? String == result["edited_output"] as? String)
        #expect(observed.count >= 30, "\(observed)")
        for name in Set(observed.keys).union(probed.keys).sorted() {
            #expect(
                observed[name] == probed[name],
                "\(version) \(name): interpreter saw \(observed[name] ?? []) (starts, returns), probes \(probed[name] ?? [])"
            )
        }
        // Injected code takes no line of its own.
        let linesBefore = try #require(result["original_lines"] as? [String: [Int]])
        let linesAfter = try #require(result["edited_lines"] as? [String: [Int]])
        #expect(linesBefore.count >= 30)
        for (name, lines) in linesBefore.sorted(by: { $0.key < $1.key }) {
            #expect(
                linesAfter[name] == lines, "\(version) \(name): lines \(linesAfter[name] ?? []) instead of \(lines)")
        }
        // Generators and coroutines count one start, not one per resume.
        let gen = try #require(observed.first { $0.key.hasPrefix("gen:") }?.value)
        #expect(gen == [2, 2], "gen: \(gen)")
    }

    @Test(
        "--at-module-entry runs once, before the module's first statement, with no line of its own",
        arguments: PythonVersion.all)
    func moduleEntry(version: PythonVersion) throws {
        try Require.interpreter(version)
        let program = try compiledProgram(version)
        let pyc = program.pyc
        let code = try #require(try PycFile(bytes: FileIO.read(pyc)).code)
        let (edited, report) = try inject(
            pyc, Injection(selection: .functions([]), atModuleEntry: try Snippet("probe.module(__name__, \"m\")")),
            as: "edited.pyc")
        #expect(report.moduleEntry && report.functions.isEmpty)
        let result = try json(try driver(version, "inject_driver.py", ["module", pyc, edited]))
        // One call, from the module's code under its own name, before any of its names was bound.
        let calls = try #require(result["calls"] as? [[Any]])
        #expect(calls.count == 1, "\(calls)")
        #expect(calls.first?[0] as? String == "inject_program")
        #expect(calls.first?[1] as? String == "m")
        #expect((calls.first?[2] as? [String]) == [], "bound before the entry snippet: \(calls)")
        #expect(result["original_output"] as? String == result["edited_output"] as? String)
        let lines = try #require(result["original_lines"] as? [Int])
        #expect(!lines.isEmpty)
        #expect(result["edited_lines"] as? [Int] == lines)
        // Together with function probes; a function's code is not a module's.
        let both = try version.inject(
            Injection(
                selection: .allFunctions, atEntry: try Snippet("probe.enter()"),
                atModuleEntry: try Snippet("probe.module(__name__, \"m\")")), into: code)
        #expect(both.report.moduleEntry && both.report.functions.count >= 30)
        let function = try #require(code.nestedCode.first { $0.flags & CodeFlags.optimized != 0 })
        #expect(throws: InjectError.self) {
            try version.inject(Injection(selection: .functions([]), atModuleEntry: try Snippet("f()")), into: function)
        }
    }

    @Test(
        "the seed scenario: every __init__ path registers once; output and line numbers unchanged",
        arguments: PythonVersion.all)
    func seedScenario(version: PythonVersion) throws {
        try Require.interpreter(version)
        let dir = try Scratch(version)
        let pyc = dir.path + "/seed.pyc"
        _ = try driver(version, "inject_seed_driver.py", ["compile", Self.fixtures + "/inject_seed.py", pyc])
        let (edited, report) = try inject(
            pyc, Injection(selection: .initMethods, beforeReturn: try Snippet("events.Register(self)")),
            as: "edited.pyc")
        #expect(report.functions == ["Test.__init__"])
        #expect(report.returns >= 3, "\(report)")
        let result = try json(try driver(version, "inject_seed_driver.py", ["run", pyc, edited]))
        let original = try #require(result["original"] as? [String: Any])
        let instrumented = try #require(result["edited"] as? [String: Any])
        #expect(original["counts"] as? [Int] == [0, 0, 0, 0, 0, 0])
        #expect(instrumented["counts"] as? [Int] == [1, 1, 1, 1, 1, 1], "\(instrumented)")
        #expect(instrumented["extra"] as? Int == 0)
        #expect(original["output"] as? String == instrumented["output"] as? String)
        #expect((original["output"] as? String ?? "").contains("finally try"))
        #expect(
            original["lines"] as? [Int] == instrumented["lines"] as? [Int],
            "lines \(instrumented["lines"] ?? "") instead of \(original["lines"] ?? "")")
    }

    @Test("qualified names derived from the nesting (<= 3.10) equal 3.11's co_qualname", arguments: PythonVersion.all.filter { !$0.hasQualname })
    func derivedQualnames(version: PythonVersion) throws {
        try Require.interpreter(version)
        try Require.interpreter(.v3_11)
        func names(_ v: PythonVersion) throws -> Set<String> {
            let program = try compiledProgram(v)
            let pyc = program.pyc
            let code = try #require(try PycFile(bytes: FileIO.read(pyc)).code)
            return Set(try v.inject(Injection(selection: .allFunctions, atEntry: try Snippet("f()")), into: code).report.functions)
        }
        let derived = try names(version)
        let reference = try names(.v3_11)
        #expect(derived.count >= 30)
        #expect(derived.isSubset(of: reference), "\(derived.subtracting(reference).sorted())")
        if version.major == 3 { #expect(derived == reference, "\(reference.subtracting(derived).sorted())") }
    }

    // MARK: - Names and keyword arguments

    @Test(
        "names resolve local, cell, free or global as Python's scoping does; keywords on every call convention",
        arguments: PythonVersion.all)
    func namesAndKeywords(version: PythonVersion) throws {
        try Require.interpreter(version)
        let dir = try Scratch(version)
        let pyc = dir.path + "/names.pyc"
        _ = try driver(version, "edit_driver.py", ["compile", Self.fixtures + "/inject_names.py", pyc])
        var file = try PycFile(bytes: FileIO.read(pyc))
        var module = try version.lift(try #require(file.code))
        _ = try module.inject(
            Injection(
                selection: .functions(["outer"]),
                beforeReturn: try Snippet("log.record(a, y, x, k=(1, -2.5, None, True, False, 's'), t=(a, 1), n=a)")))
        _ = try module.inject(
            Injection(selection: .functions(["outer.<locals>.inner"]), atEntry: try Snippet("record(y, z, x, kw=z)")))
        _ = try module.inject(
            Injection(selection: .functions(["shadow"]), beforeReturn: try Snippet("record(1, key=\"v\")")))

        // The scopes the lowering chose.
        let outer = try #require(nested(module, "outer"))
        let inner = try #require(nested(outer, "inner"))
        #expect(outer.scope(of: "a") == .local)
        #expect(outer.scope(of: "y") == .cell)
        #expect(outer.scope(of: "x") == .global)
        #expect(inner.scope(of: "y") == .free)
        #expect(inner.scope(of: "z") == .local)
        #expect(try #require(nested(module, "shadow")).scope(of: "record") == .local)
        #expect(module.scope(of: "x") == .name)

        let code = try version.assemble(module)
        #expect(version.verify(code).isEmpty, "\(version.verify(code))")
        file.object.value = .code(code)
        let edited = dir.path + "/edited.pyc"
        try FileIO.writeAtomically(try file.serialized(), to: edited)
        let out = try driver(version, "edit_driver.py", ["run", edited])
        let seen = String(out.split(separator: "\n").first ?? "")
        #expect(
            seen == "[('global record', ('cell y', '!', 'global x'), [('kw', '!')]), "
                + "('method', (1, 'cell y', 'global x'), [('k', (1, -2.5, None, True, False, 's')), ('n', 1), ('t', (1, 1))]), "
                + "('local record', (1,), [('key', 'v')])]", "\(version): \(seen)")
    }

    func nested(_ b: Bytecode, _ name: String) -> Bytecode? {
        for case .code(let c, _) in b.constants where c.template.nameText == name { return c }
        return nil
    }

    @Test("the lowering uses each version's call convention", arguments: PythonVersion.all)
    func callConvention(version: PythonVersion) throws {
        var template = CodeObject()
        template.flags = CodeFlags.optimized
        template.name = version.newName("f")
        template.names = .tuple([])
        if version.usesLocalsPlusForTests {
            template.localsplusnames = .tuple([version.newName("x")])
            template.localspluskinds = .bytes([0x20])
        } else {
            template.varnames = .tuple([version.newName("x")])
            template.cellvars = .tuple([])
            template.freevars = .tuple([])
        }
        var b = Bytecode(version: version, template: template)
        let names = { (s: String) in try b.lower(try Snippet(s)).map { b.name(of: $0) } }
        let method = try names("a.b(x, k=1)")
        let function = try names("g(x)")
        switch (version.major, version.minor) {
        case (2, _):
            #expect(
                method == [
                    "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_FAST", "LOAD_CONST", "LOAD_CONST", "CALL_FUNCTION", "POP_TOP",
                ])
            #expect(try b.lower(try Snippet("a.b(x, k=1)"))[5].argument == .int(1 | 1 << 8))
        case (3, 6):
            #expect(
                method == [
                    "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_FAST", "LOAD_CONST", "LOAD_CONST", "CALL_FUNCTION_KW", "POP_TOP",
                ])
        case (3, 7), (3, 8), (3, 9), (3, 10):
            #expect(
                method == [
                    "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_FAST", "LOAD_CONST", "LOAD_CONST", "CALL_FUNCTION_KW", "POP_TOP",
                ])
            #expect(try names("a.b(x)") == ["LOAD_GLOBAL", "LOAD_METHOD", "LOAD_FAST", "CALL_METHOD", "POP_TOP"])
        case (3, 11):
            #expect(
                method == [
                    "LOAD_GLOBAL", "LOAD_METHOD", "LOAD_FAST", "LOAD_CONST", "KW_NAMES", "PRECALL", "CALL", "POP_TOP",
                ])
            #expect(try names("x(1)") == ["PUSH_NULL", "LOAD_FAST", "LOAD_CONST", "PRECALL", "CALL", "POP_TOP"])
        case (3, 12):
            #expect(
                method == ["LOAD_GLOBAL", "LOAD_ATTR", "LOAD_FAST_CHECK", "LOAD_CONST", "KW_NAMES", "CALL", "POP_TOP"])
            #expect(try names("x(1)") == ["PUSH_NULL", "LOAD_FAST_CHECK", "LOAD_CONST", "CALL", "POP_TOP"])
        default:
            #expect(
                method == [
                    "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_FAST_CHECK", "LOAD_CONST", "LOAD_CONST", "CALL_KW", "POP_TOP",
                ])
            #expect(try names("x(1)") == ["LOAD_FAST_CHECK", "PUSH_NULL", "LOAD_CONST", "CALL", "POP_TOP"])
        }
        #expect(function.first == "LOAD_GLOBAL")
        if version.injectTraits.globalPushesNull {
            let ins = try b.lower(try Snippet("g(x)"))
            #expect(ins[0].argument == .global("g", pushNull: true))
        }
    }

    @Test("a string constant never lands in an empty pool's docstring slot", arguments: PythonVersion.all)
    func docstringSlot(version: PythonVersion) throws {
        var template = CodeObject()
        template.flags = CodeFlags.optimized
        template.name = version.newName("f")
        template.names = .tuple([])
        var b = Bytecode(version: version, template: template)
        _ = try b.lower(try Snippet("trace('text')"))
        #expect(b.constants.first == .value(.none))
        #expect(b.constants.count == 2)
    }

    // MARK: - Snippet errors

    @Test("snippet errors name the column")
    func snippetErrors() throws {
        func error(_ s: String) -> SnippetError? {
            do {
                _ = try Snippet(s)
                return nil
            } catch {
                return error
            }
        }
        let unclosed = try #require(error("events.Register(self"))
        #expect(unclosed.kind == .syntax)
        #expect(unclosed.column == 21)
        let assignment = try #require(error("x = 1"))
        #expect(assignment.kind == .syntax && assignment.column == 3)
        #expect(assignment.description.contains("not an expression statement"))
        let star = try #require(error("f(*a)"))
        #expect(star.kind == .unsupported && star.column == 3)
        let doubleStar = try #require(error("f(a, **k)"))
        #expect(doubleStar.kind == .unsupported && doubleStar.column == 6)
        #expect(error("f(a=1, a=2)")?.kind == .syntax)
        #expect(error("f(a=1, 2)")?.column == 8)
        #expect(error("f(x) + 1")?.kind == .unsupported)
        #expect(error("f(x) + 1")?.column == 6)
        #expect(error("import os")?.kind == .syntax)
        #expect(error("a.b[0]")?.kind == .unsupported)
        #expect(error("f('unterminated)")?.kind == .syntax)
        #expect(error("f(1 2)")?.column == 5)
        #expect(error("")?.kind == .syntax)
        #expect(error("f(x) ; g(y)")?.kind == .unsupported)
        #expect(error("a.class")?.kind == .syntax)

        let ok = try Snippet("trace.enter(__name__, \"f\", b'\\x00', -3, 0x10, 1.5e3, (1, (2, None)), flag=True)")
        guard case .call(let callee, let args, let keywords, _) = ok.expression else {
            Issue.record("not a call: \(ok.expression)")
            return
        }
        #expect(callee == .attribute(.name("trace", column: 1), "enter", column: 1))
        #expect(args.count == 7)
        #expect(args[1] == .constant(.string("f", unicodePrefix: false), column: 23))
        #expect(args[2] == .constant(.bytes([0]), column: 28))
        #expect(args[3] == .constant(.int(-3), column: 37))
        #expect(args[4] == .constant(.int(16), column: 41))
        #expect(args[5] == .constant(.float(1500), column: 47))
        #expect(keywords.map(\.name) == ["flag"])
    }

    // MARK: - Unselected code

    @Test(
        "unselected functions come back byte-identical; a missing --function is an error", arguments: PythonVersion.all)
    func unselectedIdentical(version: PythonVersion) throws {
        try Require.interpreter(version)
        let dir = try Scratch(version)
        let pyc = dir.path + "/seed.pyc"
        _ = try driver(version, "inject_seed_driver.py", ["compile", Self.fixtures + "/inject_seed.py", pyc])
        let file = try PycFile(bytes: FileIO.read(pyc))
        let original = try #require(file.code)
        let (code, report) = try version.inject(
            Injection(selection: .functions(["Test.__init__"]), atEntry: try Snippet("events.Register(self)")),
            into: original)
        #expect(report.functions == ["Test.__init__"])
        let writer = MarshalWriter(version: version)
        var compared = 0
        func walk(_ a: CodeObject, _ b: CodeObject, _ path: String) throws {
            let before = a.nestedCode
            let after = b.nestedCode
            try #require(before.count == after.count)
            for (x, y) in zip(before, after) {
                let q = path.isEmpty ? x.nameText : path + "." + x.nameText
                if q == "Test.__init__" {
                    #expect(try writer.dumps(PyObject(.code(x))) != writer.dumps(PyObject(.code(y))))
                } else if q != "Test" {
                    #expect(try writer.dumps(PyObject(.code(x))) == writer.dumps(PyObject(.code(y))), "\(q) changed")
                    compared += 1
                }
                try walk(x, y, q)
            }
        }
        try walk(original, code, "")
        #expect(compared >= 3)

        // A name that matches nothing lists what there is.
        do {
            _ = try version.inject(
                Injection(selection: .functions(["Test.nope"]), atEntry: try Snippet("f()")), into: original)
            Issue.record("no error for a missing function")
        } catch {
            let text = "\(error)"
            #expect(text.contains("Test.nope") && text.contains("Test.__init__"), "\(text)")
        }
    }

    // MARK: - Required locals

    @Test("--require-local self skips a metaclass __init__(cls, ...) that would read self as a global", arguments: PythonVersion.all)
    func requiredLocals(version: PythonVersion) throws {
        try Require.interpreter(version)
        let dir = try Scratch(version)
        let source = """
            class events(object):
                log = []

                @staticmethod
                def Register(obj):
                    events.log.append(type(obj).__name__)


            class Meta(type):
                def __init__(cls, name, bases, namespace):
                    super(Meta, cls).__init__(name, bases, namespace)


            class Base(object):
                def __init__(self, x):
                    self.x = x


            Plain = Meta("Plain", (object,), {})
            Base(1)
            print(",".join(events.log))

            """
        try source.write(toFile: dir.path + "/meta.py", atomically: true, encoding: .utf8)
        let pyc = dir.path + "/meta.pyc"
        let python = try #require(Interpreters.python(version))
        let compiled = try Interpreters.run([
            python, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
            dir.path + "/meta.py", pyc,
        ])
        try #require(compiled.status == 0, "\(compiled.stderr)")
        let snippet = try Snippet("events.Register(self)")

        // Without the requirement Python's scoping applies: `self` is a global in Meta.__init__.
        let (plain, plainReport) = try inject(pyc, Injection(selection: .initMethods, beforeReturn: snippet), as: "plain.pyc")
        #expect(plainReport.functions == ["Meta.__init__", "Base.__init__"])
        let failing = try Interpreters.run([python, plain])
        #expect(failing.status != 0 && failing.stderr.contains("NameError"), "\(failing.stdout)\(failing.stderr)")

        let (guarded, report) = try inject(
            pyc, Injection(selection: .initMethods, beforeReturn: snippet, requiredLocals: ["self"]), as: "guarded.pyc")
        #expect(report.functions == ["Base.__init__"])
        #expect(report.skipped == ["Meta.__init__"])
        let ran = try Interpreters.run([python, guarded])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout == "Base\n")
    }

    // MARK: - Command line

    @Test("pyckit inject: the seed scenario through the CLI, usage errors exit 2 with the column")
    func commandLine() throws {
        let version = try #require(Interpreters.installed.last, "no interpreter installed")
        let dir = try Scratch(version)
        let pyc = dir.path + "/seed.pyc"
        _ = try driver(version, "inject_seed_driver.py", ["compile", Self.fixtures + "/inject_seed.py", pyc])
        let pyckit = Corpus.pyckitBinary
        let out = dir.path + "/out.pyc"
        let ok = try Interpreters.run([
            pyckit, "inject", pyc, "--init-methods", "--before-return", "events.Register(self)", "-o", out,
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stderr.contains("Test.__init__"))
        let result = try json(try driver(version, "inject_seed_driver.py", ["run", pyc, out]))
        #expect((result["edited"] as? [String: Any])?["counts"] as? [Int] == [1, 1, 1, 1, 1, 1])

        let bad = try Interpreters.run([
            pyckit, "inject", pyc, "--init-methods", "--before-return", "events.Register(self", "-o", out,
        ])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("column 21"), "\(bad.stderr)")
        let missing = try Interpreters.run([
            pyckit, "inject", pyc, "--function", "Nope.f", "--at-entry", "f()", "-o", out,
        ])
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("error: \(pyc): no function named Nope.f"), "\(missing.stderr)")
        let none = try Interpreters.run([pyckit, "inject", pyc, "--at-entry", "f()", "-o", out])
        #expect(none.status == 2)
        // --at-module-entry alone needs no selection; with function snippets it needs one.
        let module = try Interpreters.run([pyckit, "inject", pyc, "--at-module-entry", "events.loaded()", "-o", out])
        #expect(module.status == 0, "\(module.stderr)")
        #expect(module.stderr.contains("module's entry"), "\(module.stderr)")
        let loaded = try Interpreters.run([
            try #require(Interpreters.python(version)), "-c",
            "import builtins, marshal\nclass E:\n    n = 0\n    def loaded(self): E.n += 1\n"
                + "builtins.events = E()\nexec(marshal.loads(open(\"\(out)\", \"rb\").read()[16:]), {\"__name__\": \"seed\"})\n"
                + "print('loaded', E.n)",
        ])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.stdout.hasSuffix("loaded 1\n"), "\(loaded.stdout)")
        let orphan = try Interpreters.run([
            pyckit, "inject", pyc, "--at-module-entry", "m()", "--at-entry", "f()", "-o", out,
        ])
        #expect(orphan.status == 2)
        #expect(orphan.stderr.contains("need a selection"), "\(orphan.stderr)")
    }
}

extension PythonVersion {
    /// Whether code objects keep locals, cells and free variables in `co_localsplusnames` (3.11+).
    var usesLocalsPlusForTests: Bool { codeLayout.contains(.localsplusnames) }
}
