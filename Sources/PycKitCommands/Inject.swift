import ArgumentParser
import Foundation
import PycKit

struct Inject: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inject a Python expression statement at the entry and/or before every return of functions.",
        discussion: """
            SNIPPET is one Python expression statement: names, attribute access, calls with \
            positional and keyword arguments, constants (int, float, str, bytes, None, True, False) \
            and tuples of these. Names resolve as Python would in the target function: its cell, \
            free or local variable of that name, otherwise a global. PycKit lowers the snippet to \
            the file's version itself; no Python is needed.

            --at-entry runs the snippet once when the body starts (after the prologue; a generator \
            or coroutine once, not per resume). --before-return runs it before every return \
            instruction (not at yields); the return value stays untouched. Injected code takes the \
            position and exception block of the instruction it precedes, so no line number is \
            added. Stack sizes are recomputed and the result is verified before it is written. \
            --at-module-entry runs a snippet once at the start of each module's own code, before \
            its first statement: at import time, before any of its functions can run (e.g. to \
            import a probe module that the function snippets then find as a builtin).

            Functions are selected by qualified name (--function, repeatable: `Test.__init__`, \
            `outer.<locals>.inner`, derived from the nesting where the version has no co_qualname), \
            all at once (--all-functions), or as every __init__ defined in a class body \
            (--init-methods); with --at-module-entry alone, no function is selected. Unselected \
            code objects are written back byte-identical.

            Examples:
              pyckit inject app.pyc --init-methods --require-local self \\
                  --before-return 'events.Register(self)' -o app.pyc
              pyckit inject build/ --all-functions --at-entry 'probe.enter()' \\
                  --before-return 'probe.leave()' -o out/
              pyckit inject m.pyc --function 'outer.<locals>.inner' \\
                  --at-entry 'trace.enter(__name__, "inner", depth=1)' -o m2.pyc
              pyckit inject lib/ --all-functions --at-module-entry '__import__("probe")' \\
                  --at-entry '__probe__.enter()' -o out/
            """
    )

    @Argument(help: "A .pyc file or a directory to search for *.pyc.")
    var paths: [String]

    @Option(name: .customLong("function"), help: "Instrument the function with this qualified name (repeatable).")
    var functions: [String] = []

    @Flag(help: "Instrument every function body (functions, methods, lambdas, comprehensions, generators, coroutines).")
    var allFunctions = false

    @Flag(help: "Instrument every __init__ defined in a class body.")
    var initMethods = false

    @Option(help: "Snippet to run once when a selected function's body starts.")
    var atEntry: String?

    @Option(help: "Snippet to run before every return of a selected function.")
    var beforeReturn: String?

    @Option(help: "Snippet to run once at the start of each module's code, before its first statement.")
    var atModuleEntry: String?

    @Option(
        name: .customLong("require-local"),
        help: ArgumentHelp(
            "Skip selected functions without a parameter or local variable of this name (repeatable).",
            discussion: "E.g. --init-methods --require-local self: a metaclass's __init__(cls, ...) has no self, "
                + "which Python would read as a global there."))
    var requiredLocals: [String] = []

    @Option(name: .shortAndLong, help: "Output file (one input file) or directory (mirrors the input tree).")
    var output: String

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @OptionGroup var batch: BatchOptions

    func validate() throws {
        let selections = (functions.isEmpty ? 0 : 1) + (allFunctions ? 1 : 0) + (initMethods ? 1 : 0)
        guard selections == 1 || (selections == 0 && atModuleEntry != nil) else {
            throw ValidationError(
                selections == 0
                    ? "give one of --function QUALNAME…, --all-functions, --init-methods (or only --at-module-entry SNIPPET)"
                    : "give only one of --function QUALNAME…, --all-functions, --init-methods")
        }
        guard selections == 0 || atEntry != nil || beforeReturn != nil else {
            throw ValidationError("nothing to inject into the functions: give --at-entry SNIPPET and/or --before-return SNIPPET")
        }
        guard selections == 1 || (atEntry == nil && beforeReturn == nil) else {
            throw ValidationError("--at-entry and --before-return need a selection: --function, --all-functions or --init-methods")
        }
        _ = try parsedInjection()
    }

    func parsedInjection() throws -> Injection {
        func parse(_ text: String?, _ option: String) throws -> Snippet? {
            guard let text else { return nil }
            do {
                return try Snippet(text)
            } catch {
                throw ValidationError("\(option) '\(text)': \(error)")
            }
        }
        let selection: Injection.Selection =
            allFunctions ? .allFunctions : initMethods ? .initMethods : .functions(functions)
        return Injection(
            selection: selection, atEntry: try parse(atEntry, "--at-entry"),
            beforeReturn: try parse(beforeReturn, "--before-return"), requiredLocals: requiredLocals,
            atModuleEntry: try parse(atModuleEntry, "--at-module-entry"))
    }

    enum Outcome: Sendable {
        case instrumented(InjectionReport)
        /// Nothing selected in this file (directory runs): written unchanged.
        case unchanged
        case failed(String)
    }

    func run() throws {
        let injection = try parsedInjection()
        let (items, errors) = Batch.collect(paths)
        for e in errors { Output.stderr(e) }
        let single = items.count == 1 && !items[0].fromDirectory && !FileIO.isDirectory(output)
        let root = output.hasSuffix("/") && output.count > 1 ? String(output.dropLast()) : output
        let outcomes = Batch.run(items, jobs: batch.jobs, label: "inject") { item in
            Self.process(item, injection, to: single ? root : root + "/" + item.relative, strict: single)
        }
        var failed = 0
        var instrumented = 0
        var functionCount = 0
        var skippedCount = 0
        for (item, outcome) in zip(items, outcomes) {
            switch outcome {
            case .instrumented(let report):
                instrumented += 1
                functionCount += report.functions.count
                skippedCount += report.skipped.count
                if !quiet && single {
                    Output.stderr(
                        "\(item.path): instrumented \(report.functions.count) functions (\(report.entries) entries, \(report.returns) returns)"
                            + (report.moduleEntry ? " and the module's entry" : "")
                            + (report.functions.isEmpty ? "" : ": " + report.functions.joined(separator: ", ")))
                    if !report.skipped.isEmpty {
                        Output.stderr(
                            "\(item.path): skipped \(report.skipped.count) without \(requiredLocals.joined(separator: ", ")): "
                                + report.skipped.joined(separator: ", "))
                    }
                }
            case .unchanged: break
            case .failed(let message):
                failed += 1
                Output.stderr("error: \(item.path): \(message)")
            }
        }
        if !single && failed == 0 && instrumented == 0 && !items.isEmpty {
            Output.stderr("error: \(paths.joined(separator: " ")): no function matches the selection")
            throw ExitCode(2)
        }
        if !quiet && !single {
            Output.stderr(
                "inject: \(items.count) files, \(instrumented) instrumented (\(functionCount) functions"
                    + (requiredLocals.isEmpty ? "" : ", \(skippedCount) skipped without \(requiredLocals.joined(separator: ", "))")
                    + "), \(failed + errors.count) errors"
            )
        }
        if failed > 0 || !errors.isEmpty { throw ExitCode(2) }
    }

    static func process(_ item: BatchItem, _ injection: Injection, to destination: String, strict: Bool) -> Outcome {
        do {
            var file = try PycFile(bytes: try FileIO.read(item.path))
            guard let code = file.code else { return .failed("the top-level object is not a code object") }
            var outcome = Outcome.unchanged
            do {
                let (instrumented, report) = try file.version.inject(injection, into: code)
                file.object.value = .code(instrumented)
                outcome = .instrumented(report)
            } catch {
                switch error.kind {
                case .noSuchFunction, .nothingSelected:
                    if strict { return .failed(error.description) }
                default:
                    return .failed(error.description)
                }
            }
            try FileIO.makeDirectories(FileIO.parentDirectory(of: destination))
            try FileIO.writeAtomically(try file.serialized(), to: destination)
            return outcome
        } catch {
            return .failed("\(error)")
        }
    }
}
