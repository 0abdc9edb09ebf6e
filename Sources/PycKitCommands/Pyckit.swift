import ArgumentParser
import Foundation
import PycKit

/// The `pyckit` command: a thin shell over the PycKit library.
public struct Pyckit: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pyckit",
        abstract: "Read, disassemble, edit and write CPython bytecode (.pyc) for CPython 2.7 and 3.6–3.13.",
        discussion: """
            PATH arguments are .pyc files or directories, searched recursively for *.pyc.
            Exit status: 0 success, 1 a check found a difference, 2 bad input or usage.
            Errors go to stderr, one line each: "error: PATH: offset N: what was expected".

            Examples:
              python3 -m py_compile hello.py && pyckit info __pycache__/hello.*.pyc
              pyckit rewrite --layer marshal --check /path/to/Lib
            """,
        version: "0.1.0",
        subcommands: [Info.self, Dis.self, Rewrite.self, Verify.self, Inject.self, Demo.self]
    )

    public init() {}

    /// Entry point used by the `pyckit` executable: maps usage errors to exit status 2.
    public static func runMain() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                Output.stderr(fullMessage(for: error))
                Output.stderr("(see 'pyckit --help')")
                Foundation.exit(2)
            }
            self.exit(withError: error)
        }
    }
}

/// Options shared by batch commands.
struct BatchOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Worker threads for directory runs (default: all cores).")
    var jobs: Int = Batch.defaultJobs

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }
}
