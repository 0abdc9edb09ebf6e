import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// Visible skips shared by the per-version tests: a missing interpreter or corpus is never a
/// silent pass.
enum Require {
    /// Skips the current test case visibly (a printed line and a cancelled, i.e. skipped, case)
    /// when `version` has no interpreter.
    static func interpreter(_ version: PythonVersion) throws {
        guard Interpreters.python(version) == nil else { return }
        print("skipped: " + Interpreters.missingMessage(version))
        try Test.cancel(Comment(rawValue: Interpreters.missingMessage(version)))
    }

    /// The corpus files of `version`. A missing corpus skips the case visibly when the
    /// interpreter is missing too, and fails it when the interpreter is installed.
    static func corpus(_ version: PythonVersion) throws -> [String] {
        let files = Corpus.files(version)
        guard files.isEmpty else { return files }
        let message = "no \(version) corpus under \(Corpus.root) (set PYCKIT_CORPUS or run Scripts/corpus.sh)"
        print("skipped: " + message)
        try #require(Interpreters.python(version) == nil, "the \(version) interpreter is installed: \(message)")
        try Test.cancel(Comment(rawValue: message))
    }
}

/// Runs `body` on a new thread with the given stack size and waits for its result.
func onThread<T: Sendable>(stackSize: Int, _ body: @escaping @Sendable () -> T) -> T {
    let box = ThreadResult<T>()
    let thread = Thread {
        box.value = body()
        box.done.signal()
    }
    thread.stackSize = stackSize
    thread.start()
    box.done.wait()
    return box.value!
}

final class ThreadResult<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}

/// SplitMix64: a small deterministic generator, so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
