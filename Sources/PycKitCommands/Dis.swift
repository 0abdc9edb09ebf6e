import ArgumentParser
import Foundation
import PycKit

struct Dis: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Disassemble .pyc files exactly as their own Python version's dis module prints them.",
        discussion: """
            The listing is the one `dis.dis(code)` prints from 3.7 on — the module code, then every \
            nested code object depth-first, each under a blank line and "Disassembly of <code …>:" — \
            applied to every version, 2.7 and 3.6 included, in that version's own layout. No Python \
            is needed. Code object addresses print as 0x0.

            For a directory, each file's listing follows a "==> PATH <==" line (with --format json, \
            one JSON object per line of output, JSON Lines); with -o each listing is written to \
            OUT/<relative path>.dis (.json) instead.

            Examples:
              pyckit dis __pycache__/mod.cpython-313.pyc
              pyckit dis build/lib -o listings/
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dis
        case json
    }

    @Argument(help: "A .pyc file or a directory to search for *.pyc.")
    var paths: [String]

    @Option(help: "Output format: dis (the version's own dis text) or json (one object per file, see README).")
    var format: Format = .dis

    @Option(name: .shortAndLong, help: "Write each listing to OUT/<relative path>.dis.")
    var output: String?

    @OptionGroup var batch: BatchOptions

    enum Outcome: Sendable {
        case text([UInt8], problems: [String])
        case failed(String)
    }

    func run() throws {
        let (items, errors) = Batch.collect(paths)
        errors.forEach { Output.stderr($0) }
        let outRoot = output.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        let many = items.count > 1 || items.contains { $0.fromDirectory }
        let results = Batch.run(items, jobs: batch.jobs, label: "dis") { item -> Outcome in
            let outcome = Self.disassemble(item.path, format: format)
            if let outRoot, case .text(let text, _) = outcome {
                let dest = outRoot + "/" + item.relative + (format == .json ? ".json" : ".dis")
                do {
                    try FileIO.makeDirectories(FileIO.parentDirectory(of: dest))
                    try FileIO.writeAtomically(text, to: dest)
                } catch {
                    return .failed("\(error)")
                }
            }
            return outcome
        }
        var failed = !errors.isEmpty
        for (item, result) in zip(items, results) {
            switch result {
            case .text(let text, let problems):
                if outRoot == nil {
                    if many && format == .dis { try FileIO.write(Array("==> \(item.path) <==\n".utf8), toDescriptor: 1) }
                    try FileIO.write(text, toDescriptor: 1)
                }
                for p in problems { Output.stderr("error: \(item.path): \(p)") }
                if !problems.isEmpty { failed = true }
            case .failed(let message):
                Output.stderr("error: \(item.path): \(message)")
                failed = true
            }
        }
        if failed { throw ExitCode(2) }
    }

    static func disassemble(_ path: String, format: Format) -> Outcome {
        do {
            let file = try PycFile(bytes: FileIO.read(path))
            guard let code = file.code else { return .failed("the top-level object is not a code object") }
            let d = Disassembler(version: file.version)
            let (text, problems) = format == .json ? d.json(code, path: path) : d.listing(code)
            return .text(text, problems: problems.map(\.description))
        } catch {
            return .failed("\(error)")
        }
    }
}
