import ArgumentParser
import Foundation
import PycKit

#if canImport(Glibc)
import Glibc
#endif

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
        /// The listing (with any header line) is in the buffer.
        case listing(Buffers.Lease, problems: [String])
        /// The listing went to a file under `-o`.
        case written(problems: [String])
        case failed(String)
    }

    func run() throws {
        let (items, errors) = Batch.collect(paths)
        errors.forEach { Output.stderr($0) }
        let outRoot = output.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        let many = items.count > 1 || items.contains { $0.fromDirectory }
        let format = format
        let buffers = Buffers()
        let failures = Failures()
        try Batch.runOrdered(items, jobs: batch.jobs, label: "dis") { item -> Outcome in
            let lease = buffers.lease()
            let buffer = lease.buffer
            if outRoot == nil && many && format == .dis { buffer.append(Array("==> \(item.path) <==\n".utf8)) }
            let problems: [String]
            do {
                problems = try Self.disassemble(item.path, format: format, into: buffer)
            } catch {
                buffers.giveBack(lease)
                return .failed("\(error)")
            }
            guard let outRoot else { return .listing(lease, problems: problems) }
            defer { buffers.giveBack(lease) }
            let dest = outRoot + "/" + item.relative + (format == .json ? ".json" : ".dis")
            do {
                try FileIO.makeDirectories(FileIO.parentDirectory(of: dest))
                try FileIO.writeAtomically(buffer.bytes, to: dest)
            } catch {
                return .failed("\(error)")
            }
            return .written(problems: problems)
        } emit: { item, outcome in
            switch outcome {
            case .listing(let lease, let problems):
                defer { buffers.giveBack(lease) }
                try lease.buffer.withUnsafeBytes { try Self.writeAll($0, toDescriptor: 1) }
                for p in problems { Output.stderr("error: \(item.path): \(p)") }
                if !problems.isEmpty { failures.record() }
            case .written(let problems):
                for p in problems { Output.stderr("error: \(item.path): \(p)") }
                if !problems.isEmpty { failures.record() }
            case .failed(let message):
                Output.stderr("error: \(item.path): \(message)")
                failures.record()
            }
        }
        if !errors.isEmpty || failures.any { throw ExitCode(2) }
    }

    /// Appends a file's listing to `buffer` and returns its problems: read in place where
    /// `Disassembler.listing(pyc:into:)` can, through `PycFile` otherwise (and for JSON).
    static func disassemble(_ path: String, format: Format, into buffer: ListingBuffer) throws -> [String] {
        if format == .dis, let problems = try buffer.listing(pycAt: path) {
            return problems.map(\.description)
        }
        let bytes = try FileIO.read(path)
        let file = try PycFile(bytes: bytes)
        guard let code = file.code else { throw NotCode() }
        let d = Disassembler(version: file.version)
        if format == .json {
            let (text, problems) = d.json(code, path: path)
            buffer.append(text)
            return problems.map(\.description)
        }
        return d.listing(code, into: buffer).map(\.description)
    }

    struct NotCode: Error, CustomStringConvertible {
        var description: String { "the top-level object is not a code object" }
    }

    /// Writes all of `bytes` to a file descriptor.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, toDescriptor fd: Int32) throws {
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(description: "cannot write: \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }

    /// Whether any file failed; set by whichever worker emits.
    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var failed = false

        func record() {
            lock.lock()
            failed = true
            lock.unlock()
        }

        var any: Bool {
            lock.lock()
            defer { lock.unlock() }
            return failed
        }
    }

    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Listing buffers for the workers, reused: one is leased per file and given back once its
    /// bytes are written.
    final class Buffers: @unchecked Sendable {
        /// A buffer on loan: used by one thread at a time, handed from the worker to the writer.
        struct Lease: @unchecked Sendable {
            let buffer: ListingBuffer
        }

        private let lock = NSLock()
        private var free: [ListingBuffer] = []

        func lease() -> Lease {
            lock.lock()
            defer { lock.unlock() }
            let b = free.popLast() ?? ListingBuffer()
            b.removeAll()
            return Lease(buffer: b)
        }

        func giveBack(_ lease: Lease) {
            lock.lock()
            free.append(lease.buffer)
            lock.unlock()
        }
    }
}
