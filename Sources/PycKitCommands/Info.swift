import ArgumentParser
import Foundation
import PycKit

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each .pyc file's version, header fields, code-object count and sizes.",
        discussion: """
            Reads the header (magic number → Python version, PEP 552 flags, mtime and source size \
            or source hash) and the whole marshal payload.

            Example:
              pyckit info __pycache__/hello.cpython-311.pyc
              pyckit info --json build/lib > info.json
            """
    )

    @Argument(help: "A .pyc file or a directory to search for *.pyc.")
    var paths: [String]

    @Flag(help: "Print a JSON array with one object per file.")
    var json = false

    @OptionGroup var batch: BatchOptions

    struct Report: Sendable, Encodable {
        var path: String
        var version: String?
        var magic: Int?
        var headerSize: Int?
        var invalidation: String?
        var flags: Int?
        var mtime: Int?
        var sourceSize: Int?
        var sourceHash: String?
        var codeObjects: Int?
        var fileSize: Int
        var marshalSize: Int?
        var trailingBytes: Int?
        var error: String?
    }

    func run() throws {
        let (items, errors) = Batch.collect(paths)
        errors.forEach { Output.stderr($0) }
        let reports = Batch.run(items, jobs: batch.jobs, label: "info") { item in Self.inspect(item.path) }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try enc.encode(reports)
            Output.stdout(String(decoding: data, as: UTF8.self))
        } else {
            for r in reports where r.error == nil { Output.stdout(Self.text(r)) }
        }
        for r in reports { if let e = r.error { Output.stderr("error: \(r.path): \(e)") } }
        if !errors.isEmpty || reports.contains(where: { $0.error != nil }) { throw ExitCode(2) }
    }

    static func inspect(_ path: String) -> Report {
        var r = Report(path: path, fileSize: 0)
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch {
            r.error = error.description
            return r
        }
        r.fileSize = bytes.count
        do {
            let header = try PycHeader(bytes: bytes)
            r.version = header.version.description
            r.magic = Int(header.magic)
            r.headerSize = header.size
            if header.layout == .flags { r.flags = Int(header.flags) }
            if header.isHashBased {
                r.invalidation = header.checksSource ? "checked-hash" : "unchecked-hash"
                r.sourceHash = String(format: "%016llx", header.sourceHash)
            } else {
                r.invalidation = "timestamp"
                r.mtime = Int(header.mtime)
                if header.layout != .mtime { r.sourceSize = Int(header.sourceSize) }
            }
            let file = try PycFile(bytes: bytes)
            r.codeObjects = file.code?.codeObjectCount ?? 0
            r.trailingBytes = file.trailer.count
            r.marshalSize = bytes.count - header.size - file.trailer.count
        } catch {
            r.error = error.description
        }
        return r
    }

    static func text(_ r: Report) -> String {
        var lines = [r.path]
        lines.append("  version        \(r.version ?? "?") (magic \(r.magic ?? 0))")
        var header = "  header         \(r.headerSize ?? 0) bytes, \(r.invalidation ?? "?")"
        if let f = r.flags { header += ", flags \(f)" }
        if let m = r.mtime {
            let date = Date(timeIntervalSince1970: TimeInterval(m))
            let fmt = ISO8601DateFormatter()
            header += ", mtime \(m) (\(fmt.string(from: date)))"
        }
        if let s = r.sourceSize { header += ", source size \(s)" }
        if let h = r.sourceHash { header += ", source hash \(h)" }
        lines.append(header)
        lines.append("  code objects   \(r.codeObjects ?? 0)")
        var size = "  size           \(r.fileSize) bytes (marshal \(r.marshalSize ?? 0)"
        if let t = r.trailingBytes, t > 0 { size += ", \(t) trailing bytes after the code object" }
        lines.append(size + ")")
        return lines.joined(separator: "\n")
    }
}
