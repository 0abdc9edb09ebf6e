import Foundation
import PycKit

/// The CPython interpreters installed on this machine, found the way the conformance scripts find
/// them: `$PYENV_ROOT` (else `pyenv root`, else `~/.pyenv`) `/versions/X.Y.Z/bin/python`.
public enum Interpreters {
    /// Root of the pyenv installation.
    public static let pyenvRoot: String = {
        if let r = ProcessInfo.processInfo.environment["PYENV_ROOT"], !r.isEmpty { return r }
        if let out = try? run(["pyenv", "root"]), out.status == 0 {
            let s = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if !s.isEmpty { return s }
        }
        return NSHomeDirectory() + "/.pyenv"
    }()

    /// The newest installed interpreter of each version, or nil when it is missing.
    public static func python(_ version: PythonVersion) -> String? {
        cache[version] ?? nil
    }

    private static let cache: [PythonVersion: String?] = {
        var found: [PythonVersion: String?] = [:]
        let dir = pyenvRoot + "/versions"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for v in PythonVersion.all {
            let prefix = "\(v.major).\(v.minor)."
            let candidates = entries.filter { $0.hasPrefix(prefix) && Int($0.dropFirst(prefix.count)) != nil }
                .sorted { Int($0.dropFirst(prefix.count))! < Int($1.dropFirst(prefix.count))! }
            if let best = candidates.last {
                let path = dir + "/" + best + "/bin/python"
                found[v] = FileManager.default.isExecutableFile(atPath: path) ? path : nil
            } else {
                found[v] = nil
            }
        }
        return found
    }()

    /// Installed versions, oldest first.
    public static var installed: [PythonVersion] { PythonVersion.all.filter { python($0) != nil } }

    /// A line naming what is missing, for visible skips.
    public static func missingMessage(_ version: PythonVersion) -> String {
        "skipped: no Python \(version) interpreter under \(pyenvRoot)/versions"
    }

    public struct ProcessOutput: Sendable {
        public var status: Int32
        public var stdout: String
        public var stdoutBytes: [UInt8]
        public var stderr: String
    }

    /// Runs a program (looked up on PATH when it has no slash) and collects its output.
    public static func run(_ argv: [String], stdin: [UInt8]? = nil, environment: [String: String]? = nil)
        throws -> ProcessOutput
    {
        let p = Process()
        if argv[0].contains("/") {
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = argv
        }
        if let environment {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        // Feed stdin from another thread so a child that writes a lot before it has read all of
        // its input cannot deadlock against us.
        let writer = inp.fileHandleForWriting
        let input = stdin.map { Data($0) }
        let feeder = Thread {
            if let input { writer.write(input) }
            try? writer.close()
        }
        feeder.start()
        // Read both pipes concurrently so a full stderr pipe cannot block the child.
        let errData = LockedData()
        let t = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        t.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errData.isSet { usleep(1000) }
        return ProcessOutput(
            status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stdoutBytes: [UInt8](outData), stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// Runs `code` with the interpreter of `version` (`python -c code args…`).
    public static func runPython(_ version: PythonVersion, _ code: String, args: [String] = [], stdin: [UInt8]? = nil)
        throws -> ProcessOutput
    {
        guard let py = python(version) else { throw TestSupportError(missingMessage(version)) }
        return try run([py, "-c", code] + args, stdin: stdin)
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return data != nil }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
}

/// Hex helpers for test data exchanged with interpreters.
public enum Hex {
    public static func decode(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        func nib(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while let a = it.next(), let b = it.next() { out.append(nib(a) << 4 | nib(b)) }
        return out
    }

    public static func encode(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count * 2)
        for x in b {
            out.append(digits[Int(x >> 4)])
            out.append(digits[Int(x & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
