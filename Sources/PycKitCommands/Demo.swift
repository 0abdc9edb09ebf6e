import ArgumentParser
import Foundation
import PycKit

/// `pyckit demo`: the byteplay walk-through, end to end, with a real interpreter.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk through the seed use case: register every instance an __init__ creates.",
        discussion: """
            Writes a small class whose __init__ has three return points (an early return, a return \
            inside try/finally, and the implicit return at the end), compiles it with the Python \
            interpreter, shows the listing of __init__, injects `events.Register(self)` before \
            every return with the PycKit library, shows the new listing (injected instructions \
            marked with +), then runs the original and the instrumented .pyc and shows that each \
            construction was registered exactly once, the program's own output is unchanged and \
            __init__ keeps the same line numbers.

            Any supported interpreter works (2.7, 3.6–3.13). Exit status 0 when every check holds, \
            1 when one fails, 2 when the interpreter cannot be run.

            Examples:
              pyckit demo
              pyckit demo --python ~/.pyenv/versions/2.7.18/bin/python --keep /tmp/demo
            """
    )

    @Option(help: "The Python interpreter to compile and run with (default: python3 on PATH).")
    var python: String = "python3"

    @Option(help: "Keep the demo's files in this directory (created if needed) instead of a temporary one.")
    var keep: String?

    static let eventsSource = """
        # The registry the instrumented __init__ calls: events.Register(self).
        registered = []


        def Register(obj):
            registered.append(obj)


        def count(obj):
            return len([o for o in registered if o is obj])

        """

    static let programSource = """
        from __future__ import print_function
        import events


        class Test(object):
            def __init__(self, kind):
                self.kind = kind
                if kind == "early":
                    print("  __init__(%r): early return" % kind)
                    return
                try:
                    if kind == "in-try":
                        print("  __init__(%r): return inside try/finally" % kind)
                        return
                finally:
                    self.cleaned = True
                print("  __init__(%r): the end of the body" % kind)


        objects = [Test(kind) for kind in ("early", "in-try", "end")]
        print("registrations: " + " ".join("%s=%d" % (o.kind, events.count(o)) for o in objects))

        """

    static let snippet = "events.Register(self)"

    struct DemoError: Error, CustomStringConvertible {
        var description: String
    }

    func run() throws {
        let dir: String
        if let keep {
            dir = keep
            try FileIO.makeDirectories(dir)
        } else {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("pyckit-demo-\(getpid())").path
            try FileIO.makeDirectories(dir)
        }
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let source = dir + "/demo_test.py"
        let original = dir + "/demo_test.pyc"
        let instrumented = dir + "/demo_test_instrumented.pyc"
        try FileIO.writeAtomically(Array(Self.eventsSource.utf8), to: dir + "/events.py")
        try FileIO.writeAtomically(Array(Self.programSource.utf8), to: source)

        // 1. Compile with the interpreter.
        let versionRun = try runInterpreter(["-c", "import sys; print(sys.version.split()[0])"], in: dir)
        guard versionRun.status == 0 else {
            throw interpreterFailure("cannot run \(python)", versionRun)
        }
        let pythonVersion = versionRun.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let compile = try runInterpreter(
            [
                "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
                source, original,
            ], in: dir)
        guard compile.status == 0 else { throw interpreterFailure("compiling the demo failed", compile) }
        print("== PycKit demo: instance registration with Python \(pythonVersion) (\(python))")
        print("Program (\(source)):\n")
        print(indented(Self.programSource))

        // 2. Read and show the original __init__.
        var file = try PycFile(bytes: try FileIO.read(original))
        let version = file.version
        guard let module = file.code, let initBefore = Self.initMethod(in: module) else {
            throw DemoError(description: "Test.__init__ not found in \(original)")
        }
        let disassembler = Disassembler(version: version)
        let before = listingLines(disassembler, initBefore)
        print("== 1. Test.__init__ as compiled (pyckit dis, as Python \(version)'s own dis prints it):\n")
        print(before.map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n"))

        // 3. Inject before every return.
        let injection = Injection(selection: .initMethods, beforeReturn: try Snippet(Self.snippet))
        let (instrumentedModule, report) = try version.inject(injection, into: module)
        file.object.value = .code(instrumentedModule)
        try FileIO.writeAtomically(try file.serialized(), to: instrumented)
        guard let initAfter = Self.initMethod(in: instrumentedModule) else {
            throw DemoError(description: "Test.__init__ not found after injection")
        }
        let after = listingLines(disassembler, initAfter)
        let added = Self.addedLines(before: before, after: after)
        print(
            "\n== 2. After `pyckit inject --init-methods --before-return '\(Self.snippet)'`"
                + " (\(report.returns) return points; + marks injected instructions):\n")
        for (i, line) in after.enumerated() { print(line.isEmpty ? "" : (added.contains(i) ? "  + " : "    ") + line) }

        // 4. Run both.
        let runOriginal = try runInterpreter(["-B", original], in: dir)
        let runInstrumented = try runInterpreter(["-B", instrumented], in: dir)
        guard runOriginal.status == 0 else { throw interpreterFailure("the original program failed", runOriginal) }
        guard runInstrumented.status == 0 else {
            throw interpreterFailure("the instrumented program failed", runInstrumented)
        }
        print("\n== 3. Running the original .pyc:\n")
        print(indented(runOriginal.output))
        print("== 4. Running the instrumented .pyc:\n")
        print(indented(runInstrumented.output))

        // 5. Checks.
        var failures: [String] = []
        let expected = "registrations: early=1 in-try=1 end=1"
        let lastLine = runInstrumented.output.split(separator: "\n").last.map(String.init) ?? ""
        if lastLine != expected { failures.append("expected '\(expected)', the instrumented run printed '\(lastLine)'") }
        let bodyOriginal = runOriginal.output.split(separator: "\n").dropLast()
        let bodyInstrumented = runInstrumented.output.split(separator: "\n").dropLast()
        if bodyOriginal != bodyInstrumented { failures.append("the program's own output changed") }
        let linesBefore = try Self.lineNumbers(initBefore, version: version)
        let linesAfter = try Self.lineNumbers(initAfter, version: version)
        if linesBefore != linesAfter {
            failures.append("__init__'s line numbers changed: \(linesBefore.sorted()) -> \(linesAfter.sorted())")
        }
        print("== Checks")
        print("  each construction registered exactly once: \(lastLine == expected ? "yes" : "NO")")
        print("  the program's own output unchanged:         \(bodyOriginal == bodyInstrumented ? "yes" : "NO")")
        print(
            "  __init__ line numbers unchanged:             \(linesBefore == linesAfter ? "yes" : "NO") "
                + "(\(linesBefore.sorted().map(String.init).joined(separator: ", ")))")
        if keep != nil { print("\nFiles kept in \(dir)") }
        if !failures.isEmpty {
            for f in failures { Output.stderr("error: demo: \(f)") }
            throw ExitCode(1)
        }
    }

    /// `Test.__init__`: the `__init__` constant of the `Test` class body.
    static func initMethod(in module: CodeObject) -> CodeObject? {
        for cls in module.nestedCode where cls.nameText == "Test" {
            if let f = cls.nestedCode.first(where: { $0.nameText == "__init__" }) { return f }
        }
        return nil
    }

    /// The line numbers `dis.findlinestarts` reports for a code object.
    static func lineNumbers(_ code: CodeObject, version: PythonVersion) throws -> Set<Int> {
        guard case .bytes(let table) = code.linetable.value else { return [] }
        let starts = try LineTable.lineStarts(
            table, format: version.lineTableFormat, firstLine: Int(code.firstlineno),
            codeLength: code.codeBytes.count)
        return Set(starts.compactMap(\.line))
    }

    func listingLines(_ disassembler: Disassembler, _ code: CodeObject) -> [String] {
        let text = String(decoding: disassembler.listing(code).text, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Indices of `after`'s instruction lines that have no counterpart in `before`: a longest
    /// common subsequence over instruction keys (opcode name and argument description, jump
    /// targets left out, since the injection moves them).
    static func addedLines(before: [String], after: [String]) -> Set<Int> {
        let a = before.map(instructionKey), b = after.map(instructionKey)
        let n = a.count, m = b.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] = a[i] != nil && a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var added = Set<Int>()
        var i = 0, j = 0
        while j < m {
            if i < n, a[i] != nil, a[i] == b[j] {
                i += 1
                j += 1
            } else if i < n, table[i + 1][j] >= table[i][j + 1] {
                i += 1
            } else {
                if b[j] != nil { added.insert(j) }
                j += 1
            }
        }
        return added
    }

    /// The opcode name and argument description of a listing line, or nil for other lines.
    static func instructionKey(_ line: String) -> String? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard
            let k = words.firstIndex(where: { w in
                w.count >= 3 && w.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } && w.first?.isUppercase == true
            })
        else { return nil }
        let name = String(words[k])
        guard let open = line.firstIndex(of: "("), line.hasSuffix(")") else { return name }
        let description = line[line.index(after: open)..<line.index(before: line.endIndex)]
        return description.hasPrefix("to ") ? name : name + " " + description
    }

    func indented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "    " + $0 }
            .joined(separator: "\n")
    }

    struct RunResult {
        var status: Int32
        var output: String
    }

    /// Runs the interpreter with `arguments` in `directory`; stdout and stderr together.
    func runInterpreter(_ arguments: [String], in directory: String) throws -> RunResult {
        let p = Process()
        if python.contains("/") {
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = arguments
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [python] + arguments
        }
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["PYTHONIOENCODING"] = "utf-8"
        p.environment = environment
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        do {
            try p.run()
        } catch {
            Output.stderr("error: demo: cannot run \(python): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return RunResult(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    func interpreterFailure(_ what: String, _ result: RunResult) -> Error {
        Output.stderr("error: demo: \(what) (exit \(result.status)):")
        Output.stderr(indented(result.output))
        return ExitCode(2)
    }
}
