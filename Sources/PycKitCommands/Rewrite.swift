import ArgumentParser
import Foundation
import PycKit

struct Rewrite: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read .pyc files down to a layer and write them back up; --check proves identity.",
        discussion: """
            Each file is decoded down to LAYER and encoded back again:
              marshal   the header and the marshal value tree (objects, FLAG_REF,
                        back-references)
              concrete  also every code object's instructions (opcodes, arguments,
                        EXTENDED_ARG, caches), line table and exception table
              abstract  lift every code object into the editable form (symbolic
                        arguments, labels, line markers, try blocks) and assemble
                        it again: jumps, EXTENDED_ARG, caches, line and exception
                        tables and co_stacksize are all recomputed

            --pad-nops (abstract only) inserts a NOP before every instruction, keeping positions: \
            a relayout stress test whose output still runs. Edited code is verified before it is \
            written.

            --timing (abstract only) prints, even with -q, the CPU time (thread CPU clock) and \
            elapsed time spent in lift, assemble (including freeing the lifted form), --pad-nops \
            and verification, each measured around exactly those calls on the worker thread and \
            summed over the files: no reading, unmarshalling, marshalling or writing.

            With --check the result is compared with the input, each file that differs is printed \
            with the first differing offset, and the exit status is 1 if any differs. With -o the \
            results are written: OUT is a file for a single input file, otherwise a directory that \
            mirrors the input tree. Files are written to a temporary name and renamed into place.

            Examples:
              pyckit rewrite --layer marshal --check ~/.pyenv/versions/3.12.1/lib/python3.12
              pyckit rewrite --layer marshal build/ -o rewritten/
            """
    )

    enum Layer: String, ExpressibleByArgument, CaseIterable {
        case marshal
        case concrete
        case abstract
    }

    @Argument(help: "A .pyc file or a directory to search for *.pyc.")
    var paths: [String]

    @Option(help: "How far down to decode before encoding again.")
    var layer: Layer

    @Flag(help: "Compare the result with the input; print each file that differs; exit 1 if any does.")
    var check = false

    @Option(name: .shortAndLong, help: "Output file (one input file) or directory (mirrors the input tree).")
    var output: String?

    @Flag(help: "With --layer abstract: insert a NOP before every instruction (relayout stress test).")
    var padNops = false

    @Flag(help: "Replace each input file with the result (atomically).")
    var inPlace = false

    @Flag(name: .shortAndLong, help: "Print nothing but differences and errors.")
    var quiet = false

    @Flag(help: "With --layer abstract: print the CPU and elapsed time of lift and assemble alone (even with -q).")
    var timing = false

    @OptionGroup var batch: BatchOptions

    func validate() throws {
        if !check && output == nil && !inPlace {
            throw ValidationError("nothing to do: give --check, -o OUT or --in-place")
        }
        if inPlace && output != nil { throw ValidationError("--in-place and -o exclude each other") }
        if padNops && layer != .abstract { throw ValidationError("--pad-nops needs --layer abstract") }
        if timing && layer != .abstract { throw ValidationError("--timing needs --layer abstract") }
    }

    enum Outcome: Sendable {
        case identical
        case written
        case differs(offset: Int, inputSize: Int, outputSize: Int)
        /// A difference located in a code object's field (abstract layer).
        case differsIn(String, offset: Int, inputSize: Int, outputSize: Int)
        case failed(String)
    }

    func run() throws {
        let started = Date()
        let (items, errors) = Batch.collect(paths)
        errors.forEach { Output.stderr($0) }
        let destination = try destinations(items)
        let layer = self.layer
        let check = self.check
        let pad = self.padNops
        let outcomes = Batch.run(items, jobs: batch.jobs, label: "rewrite") { item in
            Self.process(item, layer: layer, padNops: pad, check: check, to: destination(item))
        }
        var identical = 0, differ = 0, failed = 0, written = 0
        var floors = AssemblyStatistics()
        var times = PhaseTimes()
        for (item, (outcome, statistics, phaseTimes)) in zip(items, outcomes) {
            floors += statistics
            times += phaseTimes
            switch outcome {
            case .identical: identical += 1
            case .written: written += 1
            case .differs(let offset, let inSize, let outSize):
                differ += 1
                Output.stdout("\(item.path): differs at offset \(offset) (input \(inSize) bytes, output \(outSize))")
            case .differsIn(let where_, let offset, let inSize, let outSize):
                differ += 1
                Output.stdout("\(item.path): differs at offset \(offset) (input \(inSize) bytes, output \(outSize)): \(where_)")
            case .failed(let message):
                failed += 1
                Output.stderr("error: \(item.path): \(message)")
            }
        }
        if !quiet {
            let seconds = String(format: "%.2f", Date().timeIntervalSince(started))
            var summary = "rewrite --layer \(layer.rawValue): \(items.count) files"
            if check { summary += ", \(identical) identical, \(differ) differ" }
            if output != nil || inPlace { summary += ", \(written + identical + differ) written" }
            summary += ", \(failed + errors.count) errors in \(seconds) s"
            Output.stderr(summary)
            if layer == .abstract {
                Output.stderr(
                    "assembled \(floors.codeObjects) code objects; floors kept: declared co_stacksize above the computed depth in \(floors.stackSizeFloors), EXTENDED_ARG prefixes beyond need on \(floors.extendedArgFloors) instructions")
            }
        }
        if timing { Output.stderr(times.summary) }
        if failed > 0 || !errors.isEmpty { throw ExitCode(2) }
        if differ > 0 { throw ExitCode(1) }
    }

    /// Where each item's result goes (nil: nowhere).
    func destinations(_ items: [BatchItem]) throws -> @Sendable (BatchItem) -> String? {
        if inPlace { return { $0.path } }
        guard let out = output else { return { _ in nil } }
        let single = items.count == 1 && !items[0].fromDirectory && !FileIO.isDirectory(out)
        if single { return { _ in out } }
        let root = out.hasSuffix("/") && out.count > 1 ? String(out.dropLast()) : out
        return { root + "/" + $0.relative }
    }

    static func process(
        _ item: BatchItem, layer: Layer, padNops: Bool, check: Bool, to destination: String?
    ) -> (Outcome, AssemblyStatistics, PhaseTimes) {
        var floors = AssemblyStatistics()
        var times = PhaseTimes()
        let outcome = process(
            item, layer: layer, padNops: padNops, check: check, to: destination, floors: &floors, times: &times)
        return (outcome, floors, times)
    }

    static func process(
        _ item: BatchItem, layer: Layer, padNops: Bool, check: Bool, to destination: String?,
        floors: inout AssemblyStatistics, times: inout PhaseTimes
    ) -> Outcome {
        do {
            let input = try FileIO.read(item.path)
            let output: [UInt8]
            var detail: (() -> String?)? = nil
            switch layer {
            case .marshal:
                output = try PycFile(bytes: input).serialized()
            case .concrete:
                var file = try PycFile(bytes: input)
                let version = file.version
                file.object = try file.object.mapCode { (c) throws(ConcreteError) in try version.roundTripInstructions(c) }
                output = try file.serialized()
            case .abstract:
                var file = try PycFile(bytes: input)
                let version = file.version
                guard case .code(let code) = file.object.value else { return .failed("the top-level object is not a code object") }
                var statistics = AssemblyStatistics()
                var clock = PhaseTimes.Instant.now()
                let assembled: CodeObject
                do {
                    var bytecode = try version.lift(code)
                    PhaseTimes.add(&times.lift, since: &clock)
                    if padNops {
                        bytecode.padWithNops()
                        PhaseTimes.add(&times.pad, since: &clock)
                    }
                    // Consumed: the assembler frees the lifted form as it reads it, inside the measurement.
                    assembled = try version.assemble(consume bytecode, statistics: &statistics)
                }
                PhaseTimes.add(&times.assemble, since: &clock)
                floors = statistics
                if padNops {
                    let finding = version.verify(assembled).first
                    PhaseTimes.add(&times.verify, since: &clock)
                    if let finding { return .failed("verification: \(finding)") }
                }
                detail = { assembled.firstDifference(from: code) }
                file.object.value = .code(assembled)
                output = try file.serialized()
            }
            if let destination {
                try FileIO.makeDirectories(FileIO.parentDirectory(of: destination))
                try FileIO.writeAtomically(output, to: destination)
            }
            if check {
                if let offset = firstDifference(input, output) {
                    if let detail = detail?() {
                        return .differsIn(detail, offset: offset, inputSize: input.count, outputSize: output.count)
                    }
                    return .differs(offset: offset, inputSize: input.count, outputSize: output.count)
                }
                return .identical
            }
            return .written
        } catch {
            return .failed("\(error)")
        }
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        let n = min(a.count, b.count)
        let same = n == 0 || a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, n) == 0 } }
        if same && a.count == b.count { return nil }
        for i in 0..<n where a[i] != b[i] { return i }
        return n
    }
}
