import Foundation

/// Runs deeply recursive work on a thread with a large stack.
///
/// PycKit's marshal reader and writer recurse once per nesting level, and CPython allows 2000
/// levels: several MiB of stack in an optimized build, more without optimization — more than a
/// secondary thread (512 KiB) or even a main thread may have. Every real `.pyc` nests only a few
/// dozen levels, so the reader and writer first run on the caller's thread with a shallow limit
/// (`shallowDepth`) and only input nested deeper than that is redone here.
enum LargeStack {
    /// Nesting depth that is safe on any thread (≈ 2–6 KiB of stack a level).
    static let shallowDepth = 64
    /// Stack size of the helper thread: enough for `MarshalReader.maxDepth` levels at -Onone.
    static let stackSize = 256 << 20

    /// Runs `body` on a new thread with a `stackSize` stack and waits for its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
        return box.value!
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }
}
