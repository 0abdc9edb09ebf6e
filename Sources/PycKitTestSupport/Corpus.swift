import Foundation
import PycKit

/// The standard-library corpus built by `../shared/tools/build-corpus.sh` (see `Scripts/corpus.sh`).
public enum Corpus {
    /// The corpus root: `$PYCKIT_CORPUS`, else `~/.cache/pyckit/corpus` (as `Scripts/corpus.sh`).
    public static var root: String {
        let env = ProcessInfo.processInfo.environment
        if let r = env["PYCKIT_CORPUS"], !r.isEmpty { return r }
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return cache + "/pyckit/corpus"
    }

    /// The package root (where Package.swift is), found from this source file's location.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Directory of one version's corpus, if it was built.
    public static func directory(_ version: PythonVersion) -> String? {
        let d = root + "/\(version)"
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: d, isDirectory: &isDir) && isDir.boolValue ? d : nil
    }

    /// Every `.pyc` of one version's corpus (sorted), or [] when it was not built.
    public static func files(_ version: PythonVersion) -> [String] {
        guard let d = directory(version), let rel = try? FileIO.files(under: d, suffix: ".pyc") else { return [] }
        return rel.map { d + "/" + $0 }
    }

    /// The built `pyckit` executable next to the test bundle (`.build/<config>/pyckit`).
    public static var pyckitBinary: String {
        if let b = ProcessInfo.processInfo.environment["PYCKIT_BIN"], !b.isEmpty { return b }
        let candidates = [Bundle.main.bundlePath, CommandLine.arguments.first.map { ($0 as NSString).deletingLastPathComponent } ?? ""]
        for c in candidates where !c.isEmpty {
            var dir = URL(fileURLWithPath: c)
            for _ in 0..<4 {
                let p = dir.appendingPathComponent("pyckit").path
                if FileManager.default.isExecutableFile(atPath: p) { return p }
                dir.deleteLastPathComponent()
            }
        }
        return packageRoot + "/.build/debug/pyckit"
    }
}
