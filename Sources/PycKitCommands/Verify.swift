import ArgumentParser
import Foundation
import PycKit

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check .pyc files for code CPython would crash on: stack depth, jump targets, exception table.",
        discussion: """
            Every code object (nested ones included) is lifted and checked:
              - opcodes exist in the file's version; constant, name and variable
                indices are in range;
              - jump targets, line-table entries and exception entries fall on
                instruction starts;
              - no path pops below an empty stack or needs more than the declared
                co_stacksize;
              - where the version's compiler guarantees it, every merge point is
                reached with one depth;
              - exception entries cover instructions, with a depth the covered code
                has.
            Each finding is printed as `PATH: code object NAME, offset N (OPNAME): what`. Exit status: \
            0 when nothing is found, 1 when something is, 2 when a file cannot be read.

            `pyckit rewrite --layer abstract` runs the same checks on edited code before writing it.

            Examples:
              pyckit verify __pycache__/mod.cpython-312.pyc
              pyckit verify --json build/ > findings.json
            """
    )

    @Argument(help: "A .pyc file or a directory to search for *.pyc.")
    var paths: [String]

    @Flag(help: "Print a JSON array with one object per finding (path, code, offset, opname, message).")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing but findings and errors.")
    var quiet = false

    @OptionGroup var batch: BatchOptions

    struct Finding: Sendable, Encodable {
        var path: String
        var code: String
        var offset: Int?
        var opname: String?
        var message: String
    }

    enum Result: Sendable {
        case findings([Finding], codeObjects: Int)
        case failed(String)
    }

    func run() throws {
        let (items, errors) = Batch.collect(paths)
        errors.forEach { Output.stderr($0) }
        let results = Batch.run(items, jobs: batch.jobs, label: "verify") { item in Self.check(item.path) }
        var all: [Finding] = []
        var failed = 0
        var codeObjects = 0
        for (item, result) in zip(items, results) {
            switch result {
            case .findings(let f, let n):
                all += f
                codeObjects += n
            case .failed(let message):
                failed += 1
                Output.stderr("error: \(item.path): \(message)")
            }
        }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Output.stdout(String(decoding: try enc.encode(all), as: UTF8.self))
        } else {
            for f in all {
                var s = "\(f.path): code object \(f.code)"
                if let o = f.offset { s += ", offset \(o)" }
                if let n = f.opname { s += " (\(n))" }
                Output.stdout(s + ": " + f.message)
            }
        }
        if !quiet {
            Output.stderr("verify: \(items.count) files, \(codeObjects) code objects, \(all.count) findings, \(failed + errors.count) errors")
        }
        if failed > 0 || !errors.isEmpty { throw ExitCode(2) }
        if !all.isEmpty { throw ExitCode(1) }
    }

    static func check(_ path: String) -> Result {
        do {
            let file = try PycFile(bytes: try FileIO.read(path))
            guard let code = file.code else { return .failed("the top-level object is not a code object") }
            let findings = file.version.verify(code).map {
                Finding(path: path, code: $0.codePath, offset: $0.offset, opname: $0.opname, message: $0.message)
            }
            return .findings(findings, codeObjects: code.codeObjectCount)
        } catch {
            return .failed("\(error)")
        }
    }
}
