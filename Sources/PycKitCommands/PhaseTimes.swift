import Foundation

/// Time spent in the phases of a batch run, summed over files: each phase is measured on the
/// worker thread, with its CPU clock (`CLOCK_THREAD_CPUTIME_ID`) and a monotonic clock, around
/// exactly the calls that make it up (`rewrite --timing`).
struct PhaseTimes: Sendable {
    /// CPU and elapsed seconds of one phase.
    struct Measured: Sendable {
        var cpu = 0.0
        var elapsed = 0.0
        /// Files the phase ran on.
        var runs = 0

        static func + (a: Measured, b: Measured) -> Measured {
            Measured(cpu: a.cpu + b.cpu, elapsed: a.elapsed + b.elapsed, runs: a.runs + b.runs)
        }
    }

    /// A reading of both clocks.
    struct Instant: Sendable {
        var cpu: Double
        var elapsed: Double

        static func now() -> Instant {
            var c = timespec()
            var m = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c)
            clock_gettime(CLOCK_MONOTONIC, &m)
            return Instant(cpu: Double(c.tv_sec) + Double(c.tv_nsec) * 1e-9, elapsed: Double(m.tv_sec) + Double(m.tv_nsec) * 1e-9)
        }
    }

    /// `lift(_:)` of a file's top-level code object (nested ones included).
    var lift = Measured()
    /// `padWithNops()` (with --pad-nops).
    var pad = Measured()
    /// `assemble(_:)`, and freeing the lifted tree afterwards.
    var assemble = Measured()
    /// `verify(_:)` of the assembled code (edited code only).
    var verify = Measured()

    /// Adds the time since `start` to `phase` and restarts `start`.
    static func add(_ phase: inout Measured, since start: inout Instant) {
        let now = Instant.now()
        phase.cpu += now.cpu - start.cpu
        phase.elapsed += now.elapsed - start.elapsed
        phase.runs += 1
        start = now
    }

    static func += (a: inout PhaseTimes, b: PhaseTimes) {
        a.lift = a.lift + b.lift
        a.pad = a.pad + b.pad
        a.assemble = a.assemble + b.assemble
        a.verify = a.verify + b.verify
    }

    /// "timing: lift+assemble 1.234 s CPU, 1.240 s elapsed; lift …; assemble …" (phases that ran).
    var summary: String {
        func f(_ m: Measured) -> String { String(format: "%.3f s CPU, %.3f s elapsed", m.cpu, m.elapsed) }
        var s = "timing (worker threads, summed over files): lift+assemble \(f(lift + assemble)); lift \(f(lift)); assemble \(f(assemble))"
        if pad.runs > 0 { s += "; pad-nops \(f(pad))" }
        if verify.runs > 0 { s += "; verify \(f(verify))" }
        return s
    }
}
