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

    /// Runs `work` over every item on `jobs` threads (stacks as in `run`) and hands each result
    /// to `emit` in item order, as soon as it and every earlier one are done, so that results are
    /// not all held at once. `emit` runs on the worker that completes the next result in order
    /// (never on two threads at once); a worker starts an item only while fewer than `window`
    /// results wait to be emitted. When `emit` throws, the workers stop after their current item
    /// and the first error is rethrown.
    static func runOrdered<R: Sendable>(
        _ items: [BatchItem], jobs: Int, label: String, window: Int? = nil,
        _ work: @escaping @Sendable (BatchItem) -> R, emit: @escaping @Sendable (BatchItem, R) throws -> Void
    ) throws {
        let threads = max(1, min(jobs, items.count))
        let queue = OrderedResults<R>(count: items.count, window: window ?? 4 * threads)
        let progress = Progress(total: items.count, label: label)
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            let t = Thread {
                while let i = queue.next() {
                    queue.complete(i, work(items[i])) { j, r in try emit(items[j], r) }
                    progress.tick()
                }
                group.leave()
            }
            t.stackSize = 64 << 20
            t.start()
        }
        group.wait()
        progress.finish()
        if let error = queue.error { throw error }
    }

    static var defaultJobs: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// The hand-over of `runOrdered`: workers claim items and complete them; whoever completes the
/// next result in order emits it and every stored one after it. A result is held only from its
/// completion to its emission.
private final class OrderedResults<R>: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [R?]
    private var cursor = 0
    /// The next item to emit.
    private var emitted = 0
    private var emitting = false
    private let window: Int
    private(set) var error: Error? = nil

    init(count: Int, window: Int) {
        slots = Array(repeating: nil, count: count)
        self.window = max(1, window)
    }

    /// The next item to work on, once fewer than `window` results wait; nil when there are no
    /// more or emitting failed.
    func next() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while error == nil && cursor < slots.count && cursor - emitted >= window { condition.wait() }
        guard error == nil, cursor < slots.count else { return nil }
        cursor += 1
        return cursor - 1
    }

    /// Stores result `i`; emits it and the stored ones after it if it is the next in order and
    /// no other thread is emitting.
    func complete(_ i: Int, _ r: R, emit: (Int, R) throws -> Void) {
        condition.lock()
        slots[i] = r
        guard !emitting else {
            condition.unlock()
            return
        }
        emitting = true
        while emitted < slots.count, let next = slots[emitted] {
            slots[emitted] = nil
            let k = emitted
            emitted += 1
            condition.unlock()
            do {
                if error == nil { try emit(k, next) }
            } catch {
                condition.lock()
                self.error = error
                condition.unlock()
            }
            condition.lock()
        }
        emitting = false
        condition.broadcast()
        condition.unlock()
    }
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
