import Foundation
import PycKit

/// One input file of a batch run: where it is, and where its output goes under `-o`.
struct BatchItem: Sendable {
    /// Path as the user should see it (input root joined with the relative path).
    var path: String
    /// Path relative to the input root, for mirroring under an output directory.
    var relative: String
    /// Whether the item came from walking a directory (then `-o` names a directory).
    var fromDirectory: Bool
}

enum Batch {
    /// Expands the command-line paths: files are taken as they are, directories are searched
    /// recursively for `suffix`. Missing paths are reported as errors.
    static func collect(_ paths: [String], suffix: String = ".pyc") -> (items: [BatchItem], errors: [String]) {
        var items: [BatchItem] = []
        var errors: [String] = []
        for p in paths {
            if FileIO.isDirectory(p) {
                do {
                    let root = p.hasSuffix("/") && p.count > 1 ? String(p.dropLast()) : p
                    for rel in try FileIO.files(under: root, suffix: suffix) {
                        items.append(BatchItem(path: root + "/" + rel, relative: rel, fromDirectory: true))
                    }
                } catch {
                    errors.append("error: \(p): \(error)")
                }
            } else if FileIO.exists(p) {
                items.append(BatchItem(path: p, relative: (p as NSString).lastPathComponent, fromDirectory: false))
            } else {
                errors.append("error: \(p): no such file or directory")
            }
        }
        return (items, errors)
    }

    /// Runs `work` over every item on `jobs` threads (each with a stack large enough for
    /// marshal's 2000 nesting levels) and returns the results in item order. Shows a progress
    /// line on stderr when it is a terminal.
    static func run<R: Sendable>(
        _ items: [BatchItem], jobs: Int, label: String, _ work: @escaping @Sendable (BatchItem) -> R
    ) -> [R] {
        let box = ResultBox<R>(count: items.count)
        let progress = Progress(total: items.count, label: label)
        let threads = max(1, min(jobs, items.count))
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            let t = Thread {
                while let i = box.next() {
                    box.store(i, work(items[i]))
                    progress.tick()
                }
                group.leave()
            }
            t.stackSize = 64 << 20
            t.start()
        }
        group.wait()
        progress.finish()
        return box.results()
    }

    static var defaultJobs: Int { ProcessInfo.processInfo.activeProcessorCount }
}

private final class ResultBox<R>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [R?]
    private var cursor = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard cursor < slots.count else { return nil }
        cursor += 1
        return cursor - 1
    }

    func store(_ i: Int, _ r: R) {
        lock.lock()
        slots[i] = r
        lock.unlock()
    }

    func results() -> [R] { slots.map { $0! } }
}

/// A one-line progress counter on stderr, only when stderr is a terminal and the batch is large.
private final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let label: String
    private let enabled: Bool
    private var done = 0
    private var lastDraw = 0.0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
        self.enabled = isatty(2) != 0 && total > 20
    }

    func tick() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        done += 1
        let now = Date().timeIntervalSinceReferenceDate
        if now - lastDraw > 0.1 || done == total {
            lastDraw = now
            Output.stderr("\r\(label) \(done)/\(total) files", newline: false)
        }
    }

    func finish() {
        if enabled { Output.stderr("\r\u{1B}[K", newline: false) }
    }
}

enum Output {
    static func stderr(_ s: String, newline: Bool = true) {
        FileHandle.standardError.write((newline ? s + "\n" : s).data(using: .utf8)!)
    }

    static func stdout(_ s: String) {
        FileHandle.standardOutput.write((s + "\n").data(using: .utf8)!)
    }
}
