import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// Line-number tables (formats.md §4): whole-corpus round trips, the interpreter's own views on
/// samples, each split and entry kind, and malformed input.
@Suite("Line tables")
struct LineTableTests {
    // MARK: - Whole corpus

    @Test("every line table of the corpus decodes and re-encodes byte for byte", arguments: PythonVersion.all)
    func corpusRoundTrip(_ version: PythonVersion) throws {
        let files = try TableTestKit.requireCorpus(version)
        let format = version.lineTableFormat
        // 3.11 writes one entry per instruction: the boundaries come from the interpreter's opcode
        // facts (EXTENDED_ARG and inline cache counts).
        var caches: TableTestKit.CacheTable? = nil
        if case .locations(true, _, _) = format { caches = try TableTestKit.cacheTable(version) }
        let codes = try TableTestKit.loadCodeObjects(files)

        var differences: [String] = []
        var decodeErrors: [String] = []
        var kinds: [Int: Int] = [:]
        var stats: [String: Int] = [:]
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        for item in codes {
            let starts = caches.map { TableTestKit.instructionStarts(item.code, $0) }
            let t0 = clock.now
            let decoded: LineTable
            let encoded: [UInt8]
            do {
                decoded = try LineTable.decode(
                    item.lineTable, format: format, firstLine: item.firstLine, codeLength: item.code.count)
                encoded = try decoded.encode(format: format, firstLine: item.firstLine, instructionStarts: starts)
            } catch {
                decodeErrors.append("\(item.name): \(error)")
                continue
            }
            elapsed += clock.now - t0
            if encoded != item.lineTable {
                differences.append(
                    "\(item.name): table \(Hex.encode(item.lineTable))\n  re-encoded \(Hex.encode(encoded))\n  decoded \(TableTestKit.dump(decoded))"
                )
            }
            // 3.12+ needs no instruction boundaries at all.
            if case .locations(false, _, _) = format, case .locations(let p) = decoded {
                let again = try LocationTable.encode(
                    p, instructionStarts: nil, firstLine: item.firstLine, oneEntryPerInstruction: false)
                if again != item.lineTable { differences.append("\(item.name): merged re-encoding differs") }
            }
            if case .locations = format {
                for e in try LocationTable.entries(item.lineTable, firstLine: item.firstLine) {
                    kinds[e.kind.code, default: 0] += 1
                }
            }
            // What the editable form will meet: markers that keep the line, several markers at one
            // offset, markers at the code's end; 3.10 ranges without a line or without bytes.
            switch decoded {
            case .lnotab(let entries):
                var previous = LnotabEntry(offset: 0, line: item.firstLine)
                for e in entries {
                    stats["entries", default: 0] += 1
                    if e.line == previous.line { stats["same line", default: 0] += 1 }
                    if e.offset == previous.offset { stats["same offset", default: 0] += 1 }
                    if e.offset >= item.code.count { stats["at code end", default: 0] += 1 }
                    if e.line < previous.line { stats["backwards", default: 0] += 1 }
                    previous = e
                }
            case .ranges(let ranges):
                stats["ranges", default: 0] += ranges.count
                stats["no line", default: 0] += ranges.filter { $0.line == nil }.count
                stats["empty", default: 0] += ranges.filter { $0.start == $0.end }.count
            case .locations: break
            }
        }
        print(
            "\(version) line tables: \(codes.count) code objects in \(files.count) files, \(differences.count) differences, \(decodeErrors.count) errors; decode+encode \(elapsed)"
        )
        if !stats.isEmpty {
            print(
                "\(version) decoded: "
                    + stats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !kinds.isEmpty {
            print(
                "\(version) location entry kinds: "
                    + (0...15).map { "\($0):\(kinds[$0, default: 0])" }.joined(separator: " "))
            // Every kind occurs in a stdlib (short forms 0–9 need columns up to 79).
            #expect((0...15).allSatisfy { kinds[$0, default: 0] > 0 }, "kinds seen: \(kinds)")
        }
        #expect(codes.count > 10_000)
        #expect(
            decodeErrors.isEmpty,
            "\(decodeErrors.count) errors, first: \(decodeErrors.prefix(5).joined(separator: "\n"))")
        #expect(
            differences.isEmpty, "\(differences.count) differ, first:\n\(differences.prefix(5).joined(separator: "\n"))"
        )
    }

    // MARK: - The interpreter's views

    @Test(
        "decoded views match dis.findlinestarts, co_lines() and co_positions() on a sample",
        arguments: PythonVersion.all)
    func interpreterViews(_ version: PythonVersion) throws {
        try TableTestKit.requireInterpreter(version)
        let files = try TableTestKit.requireCorpus(version)
        let sample = TableTestKit.sample(files, count: 60)
        let expected = try TableTestKit.interpreterViews(version, sample)
        let format = version.lineTableFormat
        var compared = 0
        var mismatches: [String] = []
        for (path, views) in zip(sample, expected) {
            let codes = try TableTestKit.loadCodeObjects([path])
            guard codes.count == views.count else {
                Issue.record("\(path): \(codes.count) code objects, interpreter saw \(views.count)")
                continue
            }
            for (item, view) in zip(codes, views) {
                compared += 1
                let starts = try LineTable.lineStarts(
                    item.lineTable, format: format, firstLine: item.firstLine, codeLength: item.code.count)
                if starts.map({ [$0.offset, $0.line] }) != view.starts {
                    mismatches.append("\(item.name) starts: \(starts) vs \(view.starts)")
                }
                if let lines = view.lines {
                    let mine = try LineTable.lines(
                        item.lineTable, format: format, firstLine: item.firstLine, codeLength: item.code.count)
                    if mine.map({ [$0.start, $0.end, $0.line] }) != lines {
                        mismatches.append("\(item.name) co_lines: \(mine.prefix(8)) vs \(lines.prefix(8))")
                    }
                }
                if let positions = view.positions {
                    let mine = try LocationTable.decode(
                        item.lineTable, firstLine: item.firstLine, codeUnitCount: item.code.count / 2)
                    if mine.map({ [$0.line, $0.endLine, $0.column, $0.endColumn] }) != positions {
                        mismatches.append("\(item.name) co_positions differ")
                    }
                }
            }
        }
        print(
            "\(version) interpreter views: \(compared) code objects in \(sample.count) files compared, \(mismatches.count) mismatches"
        )
        #expect(compared > 1000)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5).joined(separator: "\n"))")
    }

    // MARK: - co_lnotab splits (2.7–3.9)

    @Test("lnotab address deltas above 255 become (255, 0) pairs")
    func lnotabAddressSplits() throws {
        for signed in [false, true] {
            try Self.checkLnotab([LnotabEntry(offset: 300, line: 3)], [255, 0, 45, 2], signed: signed)
            try Self.checkLnotab([LnotabEntry(offset: 255, line: 2)], [255, 1], signed: signed)
            try Self.checkLnotab([LnotabEntry(offset: 510, line: 2)], [255, 0, 255, 0, 0, 1], signed: signed)
            try Self.checkLnotab([LnotabEntry(offset: 256, line: 1)], [255, 0, 1, 0], signed: signed)
        }
    }

    @Test("lnotab line deltas split at 127/−128 (3.6+) with the trailing (0, 0) on exact multiples")
    func lnotabSignedLineSplits() throws {
        try Self.checkLnotab([LnotabEntry(offset: 4, line: 128)], [4, 127], signed: true)
        try Self.checkLnotab([LnotabEntry(offset: 4, line: 255)], [4, 127, 0, 127, 0, 0], signed: true)
        try Self.checkLnotab([LnotabEntry(offset: 4, line: 130)], [4, 127, 0, 2], signed: true)
        try Self.checkLnotab([LnotabEntry(offset: 4, line: -127)], [4, 0x80], signed: true)
        try Self.checkLnotab([LnotabEntry(offset: 4, line: -199)], [4, 0x80, 0, 0xB8], signed: true)
        try Self.checkLnotab([LnotabEntry(offset: 4, line: -255)], [4, 0x80, 0, 0x80, 0, 0], signed: true)
        // Both splits in one entry, then a second entry.
        try Self.checkLnotab(
            [LnotabEntry(offset: 300, line: 301), LnotabEntry(offset: 302, line: 1)],
            [255, 0, 45, 127, 0, 127, 0, 46, 2, 0x80, 0, 0x80, 0, 0xD4], signed: true)
    }

    @Test("2.7's unsigned lnotab splits at 255 and cannot go backwards")
    func lnotabUnsignedLineSplits() throws {
        try Self.checkLnotab([LnotabEntry(offset: 3, line: 256)], [3, 255], signed: false)
        try Self.checkLnotab([LnotabEntry(offset: 3, line: 301)], [3, 255, 0, 45], signed: false)
        try Self.checkLnotab([LnotabEntry(offset: 3, line: 511)], [3, 255, 0, 255, 0, 0], signed: false)
        // 200 is +200 here, −56 with signed deltas.
        #expect(
            try Lnotab.decode([2, 200], firstLine: 1, signedLineDelta: false) == [LnotabEntry(offset: 2, line: 201)])
        #expect(
            try Lnotab.decode([2, 200], firstLine: 1, signedLineDelta: true) == [LnotabEntry(offset: 2, line: -55)])
        #expect(throws: LineTableError(.negativeLineDelta, at: 1)) {
            try Lnotab.encode(
                [LnotabEntry(offset: 2, line: 5), LnotabEntry(offset: 4, line: 4)], firstLine: 1, signedLineDelta: false
            )
        }
    }

    @Test("pairs CPython would not write stay separate entries and still round-trip")
    func lnotabNonCanonical() throws {
        for table: [UInt8] in [
            [4, 127, 0, 0], [255, 0, 255, 3], [255, 0, 0, 5], [0, 0], [255, 0], [4, 127, 0, 127],
        ] {
            let entries = try Lnotab.decode(table, firstLine: 1, signedLineDelta: true)
            #expect(try Lnotab.encode(entries, firstLine: 1, signedLineDelta: true) == table, "\(table) → \(entries)")
        }
        #expect(try Lnotab.decode([4, 127, 0, 0], firstLine: 1, signedLineDelta: true).count == 2)
    }

    @Test("dis.findlinestarts: zero-byte entries, repeated lines, the 3.8+ stop at the code's end")
    func lnotabLineStarts() throws {
        // (0, 1): line change at offset 0; (2, 0): a second statement on the same line.
        let table: [UInt8] = [0, 1, 2, 0, 4, 1, 6, 0x7F, 0, 0x82]
        let all = try Lnotab.lineStarts(table, firstLine: 1, signedLineDelta: true, stopAtCodeLength: nil)
        #expect(all == [LineStart(offset: 0, line: 2), LineStart(offset: 6, line: 3), LineStart(offset: 12, line: 4)])
        let stopped = try Lnotab.lineStarts(table, firstLine: 1, signedLineDelta: true, stopAtCodeLength: 12)
        #expect(stopped == [LineStart(offset: 0, line: 2), LineStart(offset: 6, line: 3)])
        // PycKit's co_lines() for lnotab versions: merged neighbours, the last entry at an offset wins.
        let entries = try Lnotab.decode(table, firstLine: 1, signedLineDelta: true)
        #expect(
            entries == [
                .init(offset: 0, line: 2), .init(offset: 2, line: 2), .init(offset: 6, line: 3),
                .init(offset: 12, line: 130), .init(offset: 12, line: 4),
            ])
        #expect(
            Lnotab.lines(entries, firstLine: 1, codeLength: 14)
                == [
                    LineRange(start: 0, end: 6, line: 2), LineRange(start: 6, end: 12, line: 3),
                    LineRange(start: 12, end: 14, line: 4),
                ])
        #expect(
            Lnotab.lines(entries, firstLine: 1, codeLength: 12)
                == [LineRange(start: 0, end: 6, line: 2), LineRange(start: 6, end: 12, line: 3)])
    }

    @Test(
        "compile() with big line gaps and backward lines: bytes, logical entries, dis view",
        arguments: [
            PythonVersion.v2_7, .v3_6, .v3_7, .v3_8, .v3_9,
        ])
    func lnotabFromCompiler(_ version: PythonVersion) throws {
        try TableTestKit.requireInterpreter(version)
        guard case .lnotab(let signed, _) = version.lineTableFormat else { return }
        let gap = "x = 1\n" + String(repeating: "\n", count: 299) + "y = 2\n"
        // From 3.8 the call instruction goes back to the line where the call started.
        let back = "x = f(\n" + String(repeating: "\n", count: 400) + "a)\n"
        let big = "x = [" + (0..<200).map { "y\($0)" }.joined(separator: ", ") + "]\nz = 3\n"
        for source in [gap, back, big] {
            let compiled = try TableTestKit.compile(version, source)
            for c in compiled {
                let entries = try Lnotab.decode(c.table, firstLine: c.firstLine, signedLineDelta: signed)
                #expect(try Lnotab.encode(entries, firstLine: c.firstLine, signedLineDelta: signed) == c.table)
                let starts = try LineTable.lineStarts(
                    c.table, format: version.lineTableFormat, firstLine: c.firstLine, codeLength: c.codeLength)
                #expect(starts.map { [$0.offset, $0.line] } == c.starts)
            }
            let top = try #require(compiled.first)
            let entries = try Lnotab.decode(top.table, firstLine: top.firstLine, signedLineDelta: signed)
            if source == gap {
                #expect(entries.last?.line == 301, "\(entries)")
                // 300 lines: 2.7 (b, 255) (0, 45); 3.6+ (b, 127) (0, 127) (0, 46).
                let split: [UInt8] = signed ? [127, 0, 127, 0, 46] : [255, 0, 45]
                #expect(TableTestKit.contains(top.table, split), "\(Hex.encode(top.table))")
            }
            if source == back && version >= .v3_8 {
                #expect(entries.contains { $0.line == 1 } && entries.contains { $0.line == 402 }, "\(entries)")
                #expect(top.table.contains(0x80), "a −128 chunk: \(Hex.encode(top.table))")
            }
            if source == big { #expect(TableTestKit.contains(top.table, [255, 0]), "\(Hex.encode(top.table))") }
        }
    }

    // MARK: - 3.10 co_linetable

    @Test("3.10 pair kinds: plain, 254-byte continuations, ±127 line prefixes, no line")
    func linetable310Pairs() throws {
        func check(_ ranges: [LineRange], _ table: [UInt8], firstLine: Int = 1) throws {
            let end = ranges.last?.end ?? 0
            #expect(try LineTable310.encode(ranges, firstLine: firstLine) == table, "\(ranges)")
            #expect(try LineTable310.decode(table, firstLine: firstLine, codeLength: end) == ranges, "\(table)")
        }
        try check([LineRange(start: 0, end: 4, line: 1), LineRange(start: 4, end: 10, line: 3)], [4, 0, 6, 2])
        try check([LineRange(start: 0, end: 600, line: 2)], [254, 1, 254, 0, 92, 0])
        try check([LineRange(start: 0, end: 508, line: 2)], [254, 1, 254, 0])
        try check(
            [LineRange(start: 0, end: 2, line: 1), LineRange(start: 2, end: 8, line: 301)],
            [2, 0, 0, 127, 0, 127, 6, 46])
        try check(
            [LineRange(start: 0, end: 2, line: 300), LineRange(start: 2, end: 8, line: 1)],
            [0, 127, 0, 127, 2, 45, 0, 0x81, 0, 0x81, 6, 0xD3])
        try check([LineRange(start: 0, end: 2, line: 1), LineRange(start: 2, end: 4, line: 128)], [2, 0, 2, 127])
        try check(
            [LineRange(start: 0, end: 2, line: 1), LineRange(start: 2, end: 4, line: 129)], [2, 0, 0, 127, 2, 1])
        try check(
            [LineRange(start: 0, end: 2, line: nil), LineRange(start: 2, end: 600, line: nil)],
            [2, 0x80, 254, 0x80, 254, 0x80, 90, 0x80])
        try check(
            [
                LineRange(start: 0, end: 2, line: 5), LineRange(start: 2, end: 4, line: nil),
                LineRange(start: 4, end: 6, line: 5),
            ], [2, 4, 2, 0x80, 2, 0])
        // co_lines(): one range per non-empty pair, None for −128, the line carried over it.
        let lines = try LineTable310.lines([2, 4, 0, 127, 254, 0x80, 4, 1], firstLine: 1)
        #expect(
            lines == [
                LineRange(start: 0, end: 2, line: 5), LineRange(start: 2, end: 256, line: nil),
                LineRange(start: 256, end: 260, line: 133),
            ])
        #expect(
            try LineTable310.lineStarts([2, 4, 2, 0x80, 2, 0, 2, 1], firstLine: 1) == [
                LineStart(offset: 0, line: 5), LineStart(offset: 6, line: 6),
            ])
    }

    @Test("3.10 compile(): the formats.md example and a backward line", arguments: [PythonVersion.v3_10])
    func linetable310FromCompiler(_ version: PythonVersion) throws {
        try TableTestKit.requireInterpreter(version)
        let source =
            "x = 1\n" + String(repeating: "\n", count: 299) + "y = (" + String(repeating: "a+", count: 200) + "a)\n"
        let back = "x = f(\n" + String(repeating: "\n", count: 400) + "a)\n"
        for s in [source, back] {
            for c in try TableTestKit.compile(version, s) {
                let ranges = try LineTable310.decode(c.table, firstLine: c.firstLine, codeLength: c.codeLength)
                #expect(try LineTable310.encode(ranges, firstLine: c.firstLine) == c.table)
                #expect(
                    try LineTable310.lines(c.table, firstLine: c.firstLine).map { [$0.start, $0.end, $0.line] }
                        == c.lines)
                #expect(
                    try LineTable310.lineStarts(c.table, firstLine: c.firstLine).map { [$0.offset, $0.line] }
                        == c.starts)
            }
        }
        let top = try #require(try TableTestKit.compile(version, source).first)
        #expect(Array(top.table.prefix(14)) == [4, 0, 0, 127, 0, 127, 254, 46, 254, 0, 254, 0, 46, 0])
        let ranges = try LineTable310.decode(top.table, firstLine: 1, codeLength: top.codeLength)
        #expect(
            Array(ranges.prefix(2)) == [LineRange(start: 0, end: 4, line: 1), LineRange(start: 4, end: 812, line: 301)])
    }

    // MARK: - 3.11+ location entries

    @Test("each location entry kind is chosen as the compiler chooses it and decodes back")
    func locationKinds() throws {
        func p(_ l: Int?, _ el: Int?, _ c: Int?, _ ec: Int?) -> SourcePosition {
            SourcePosition(line: l, endLine: el, column: c, endColumn: ec)
        }
        let cases: [(SourcePosition, LocationTable.EntryKind)] = [
            (p(1, 1, 0, 15), .short(0)), (p(1, 1, 13, 20), .short(1)), (p(1, 1, 79, 79), .short(9)),
            (p(1, 1, 80, 81), .oneLine(lineDelta: 0)), (p(1, 1, 4, 40), .oneLine(lineDelta: 0)),
            (p(2, 2, 0, 4), .oneLine(lineDelta: 1)), (p(4, 4, 127, 127), .oneLine(lineDelta: 2)),
            (p(4, 4, nil, nil), .noColumn), (p(4, nil, nil, nil), .noColumn), (p(1, 1, nil, nil), .noColumn),
            (p(9, 9, 1, 2), .long), (p(9, 12, 1, 2), .long), (p(5, 5, 128, 130), .long),
            (p(5, 5, 10, 5), .oneLine(lineDelta: 0)),
            (p(5, 7, nil, nil), .long), (p(2, 2, 0, 1), .long), (p(nil, nil, nil, nil), .none), (p(5, 5, 3, 4), .long),
        ]
        // Each case follows the previous one, so line deltas chain.
        let positions = cases.map(\.0)
        let table = try LocationTable.encode(
            runs: positions.map { LocationTable.Run(position: $0, codeUnits: 1) }, firstLine: 1)
        let entries = try LocationTable.entries(table, firstLine: 1)
        #expect(entries.map(\.kind) == cases.map(\.1))
        // Kind 13 without an end line reads back with end line = line, as co_positions() does.
        let expected = positions.map {
            $0.column == nil && $0.endLine == nil && $0.line != nil ? p($0.line, $0.line, nil, nil) : $0
        }
        #expect(try LocationTable.decode(table, firstLine: 1, codeUnitCount: positions.count) == expected)
        // Known bytes: short kind 1 for cols 13…20, long form with its +1 columns.
        #expect(
            try LocationTable.encode(runs: [.init(position: p(1, 1, 13, 20), codeUnits: 2)], firstLine: 1) == [
                0x89, 0x57,
            ])
        #expect(
            try LocationTable.encode(runs: [.init(position: p(4, 6, nil, 3), codeUnits: 1)], firstLine: 1) == [
                0xF0, 6, 2, 0, 4,
            ])
        #expect(
            try LocationTable.encode(runs: [.init(position: p(1, 1, 200, 300), codeUnits: 1)], firstLine: 5) == [
                0xF0, 9, 0, 0x49, 3, 0x6D, 4,
            ])
    }

    @Test("runs split at 8 units; 3.11 keeps one entry per instruction, 3.12+ merges equal neighbours")
    func locationRuns() throws {
        let a = SourcePosition(line: 3, endLine: 3, column: 4, endColumn: 9)
        let b = SourcePosition(line: 3, endLine: 3, column: 0, endColumn: 9)
        let positions = Array(repeating: a, count: 11) + Array(repeating: b, count: 2) + Array(repeating: a, count: 2)
        let perInstruction = try LocationTable.encode(
            positions, instructionStarts: [0, 2, 8, 11, 13], firstLine: 3, oneEntryPerInstruction: true)
        #expect(try LocationTable.entries(perInstruction, firstLine: 3).map(\.codeUnits) == [2, 6, 3, 2, 2])
        let merged = try LocationTable.encode(
            positions, instructionStarts: nil, firstLine: 3, oneEntryPerInstruction: false)
        #expect(try LocationTable.entries(merged, firstLine: 3).map(\.codeUnits) == [8, 3, 2, 2])
        for table in [perInstruction, merged] {
            #expect(try LocationTable.decode(table, firstLine: 3, codeUnitCount: positions.count) == positions)
        }
        let runs =
            [2, 6, 3].map { LocationTable.Run(position: a, codeUnits: $0) }
            + [LocationTable.Run(position: b, codeUnits: 2), LocationTable.Run(position: a, codeUnits: 2)]
        #expect(try LocationTable.encode(runs: runs, firstLine: 3) == perInstruction)
        #expect(try LocationTable.encode(runs: runs, firstLine: 3, mergingEqualNeighbours: true) == merged)
        // co_lines: per entry (3.11) or merged by line (3.12+), in bytes.
        #expect(try LocationTable.lines(perInstruction, firstLine: 3, mergeEqualLines: false).count == 5)
        #expect(
            try LocationTable.lines(merged, firstLine: 3, mergeEqualLines: true) == [
                LineRange(start: 0, end: 30, line: 3)
            ])
        // 3.11 refuses a position that changes inside an instruction, and bad boundaries.
        #expect(throws: LineTableError(.invalidPosition, at: 11)) {
            try LocationTable.encode(
                positions, instructionStarts: [0, 2, 8], firstLine: 3, oneEntryPerInstruction: true)
        }
        #expect(throws: LineTableError(.invalidInstructionStarts, at: 0)) {
            try LocationTable.encode(positions, instructionStarts: nil, firstLine: 3, oneEntryPerInstruction: true)
        }
        #expect(throws: LineTableError(.invalidInstructionStarts, at: 1)) {
            try LocationTable.encode(
                positions, instructionStarts: [0, 5, 5], firstLine: 3, oneEntryPerInstruction: true)
        }
    }

    @Test("dis line starts of 3.11–3.13: None skipped before 3.13, reported as a change in 3.13")
    func locationLineStarts() throws {
        let runs: [LocationTable.Run] = [
            .init(position: SourcePosition(line: 0, endLine: 0, column: nil, endColumn: nil), codeUnits: 1),
            .init(position: .none, codeUnits: 2),
            .init(position: SourcePosition(line: 2, endLine: 2, column: 0, endColumn: 4), codeUnits: 1),
            .init(position: SourcePosition(line: 2, endLine: 2, column: 0, endColumn: 5), codeUnits: 1),
            .init(position: .none, codeUnits: 1),
            .init(position: SourcePosition(line: 2, endLine: 2, column: 0, endColumn: 5), codeUnits: 1),
        ]
        let table = try LocationTable.encode(runs: runs, firstLine: 0)
        let old = try LocationTable.lineStarts(table, firstLine: 0, mergeEqualLines: true, reportNoLine: false)
        #expect(old == [LineStart(offset: 0, line: 0), LineStart(offset: 6, line: 2)])
        let new = try LocationTable.lineStarts(table, firstLine: 0, mergeEqualLines: true, reportNoLine: true)
        #expect(
            new == [
                LineStart(offset: 0, line: 0), LineStart(offset: 2, line: nil), LineStart(offset: 6, line: 2),
                LineStart(offset: 10, line: nil), LineStart(offset: 12, line: 2),
            ])
    }

    @Test(
        "compile() through every interpreter with locations: positions, lines, starts and bytes",
        arguments: [
            PythonVersion.v3_11, .v3_12, .v3_13,
        ])
    func locationsFromCompiler(_ version: PythonVersion) throws {
        try TableTestKit.requireInterpreter(version)
        let caches = try TableTestKit.cacheTable(version)
        let source = """
            def f(a, b):
                x = a.b.c(b, [i for i in range(3)])  # short forms
                y = (a +
                     b)                                                                            + g(x)
                \(String(repeating: "\n", count: 300))
                try:
                    return x[y]
                except (KeyError, IndexError) as e:
                    raise ValueError(e) from None
            """
        for c in try TableTestKit.compile(version, source) {
            let positions = try LocationTable.decode(c.table, firstLine: c.firstLine, codeUnitCount: c.codeLength / 2)
            #expect(positions.map { [$0.line, $0.endLine, $0.column, $0.endColumn] } == c.positions)
            let format = version.lineTableFormat
            let starts = TableTestKit.instructionStarts(c.code, caches)
            #expect(
                try LineTable.locations(positions).encode(
                    format: format, firstLine: c.firstLine, instructionStarts: starts) == c.table)
            #expect(
                try LineTable.lines(c.table, format: format, firstLine: c.firstLine, codeLength: c.codeLength).map {
                    [$0.start, $0.end, $0.line]
                } == c.lines)
            #expect(
                try LineTable.lineStarts(c.table, format: format, firstLine: c.firstLine, codeLength: c.codeLength).map
                { [$0.offset, $0.line] } == c.starts)
        }
    }

    // MARK: - Malformed input

    @Test("malformed line tables give typed errors with the table offset")
    func malformed() throws {
        let lnotab = LineTableFormat.lnotab(signedLineDelta: true, lineStartsStopAtCodeEnd: true)
        #expect(throws: LineTableError(.oddLength, at: 2)) {
            try LineTable.decode([0, 1, 2], format: lnotab, firstLine: 1, codeLength: 4)
        }
        #expect(throws: LineTableError(.oddLength, at: 0)) { try LineTable310.lines([9], firstLine: 1) }
        // 3.10: the pairs cover 6 bytes of an 8-byte code, or 10.
        #expect(throws: LineTableError(.coverageMismatch(covered: 6, expected: 8), at: 4)) {
            try LineTable310.decode([2, 0, 4, 1], firstLine: 1, codeLength: 8)
        }
        #expect(throws: LineTableError(.coverageMismatch(covered: 10, expected: 8), at: 4)) {
            try LineTable310.decode([2, 0, 8, 1], firstLine: 1, codeLength: 8)
        }
        #expect(throws: LineTableError(.notContiguous, at: 1)) {
            try LineTable310.encode(
                [LineRange(start: 0, end: 2, line: 1), LineRange(start: 4, end: 6, line: 1)], firstLine: 1)
        }
        #expect(throws: LineTableError(.notContiguous, at: 1)) {
            try Lnotab.encode(
                [LnotabEntry(offset: 4, line: 1), LnotabEntry(offset: 2, line: 1)], firstLine: 1, signedLineDelta: true)
        }
        // Locations.
        func decode(_ t: [UInt8], units: Int = 1) throws(LineTableError) {
            _ = try LocationTable.decode(t, firstLine: 1, codeUnitCount: units)
        }
        #expect(throws: LineTableError(.missingEntryStart, at: 0)) { try decode([0x08, 0x00]) }
        #expect(throws: LineTableError(.missingEntryStart, at: 2)) { try decode([0x80, 0x00, 0x08, 0x00], units: 2) }
        #expect(throws: LineTableError(.truncated, at: 0)) { try decode([0x80]) }
        #expect(throws: LineTableError(.truncated, at: 0)) { try decode([0xD0, 4]) }
        #expect(throws: LineTableError(.truncated, at: 0)) { try decode([0xF0, 2, 0, 1]) }
        #expect(throws: LineTableError(.truncated, at: 0)) { try decode([0xE8, 0x42]) }
        #expect(throws: LineTableError(.entryStartInsideEntry, at: 1)) { try decode([0x80, 0x80]) }
        #expect(throws: LineTableError(.entryStartInsideEntry, at: 2)) { try decode([0xD0, 1, 0x90]) }
        #expect(throws: LineTableError(.varintTooLong, at: 0)) {
            try decode([0xE8, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x01])
        }
        #expect(throws: LineTableError(.varintTooLong, at: 0)) {
            try decode([0xE8, 0x40, 0x40, 0x40, 0x40, 0x40, 0x0F])
        }
        #expect(throws: LineTableError(.coverageMismatch(covered: 2, expected: 3), at: 1)) {
            try decode([0xF9], units: 3)
        }
        #expect(throws: LineTableError(.coverageMismatch(covered: 8, expected: 3), at: 0)) {
            try decode([0xFF], units: 3)
        }
        #expect(throws: LineTableError(.coverageMismatch(covered: 0, expected: 1), at: 0)) { try decode([]) }
        // A line beyond 32 bits: many long-form entries each adding 2**30 − 1.
        let huge: [UInt8] = Array(repeating: [0xF0, 0x7E, 0x7F, 0x7F, 0x7F, 0x7F, 0x01, 0, 0, 0], count: 3).flatMap {
            $0
        }
        #expect(throws: LineTableError(.valueOutOfRange, at: 20)) { try decode(huge, units: 3) }
        #expect(throws: LineTableError(.invalidPosition, at: 0)) {
            try LocationTable.encode(
                runs: [.init(position: SourcePosition(line: 5, endLine: 4, column: 0, endColumn: 1), codeUnits: 1)],
                firstLine: 1)
        }
        // Values CPython keeps in C ints.
        #expect(throws: LineTableError(.valueOutOfRange, at: 0)) {
            try LocationTable.decode([0xE8, 0x02], firstLine: Int(Int32.max) + 1, codeUnitCount: 1)
        }
        #expect(throws: LineTableError(.valueOutOfRange, at: 0)) {
            try Lnotab.encode([LnotabEntry(offset: 1 << 40, line: 1)], firstLine: 1, signedLineDelta: true)
        }
        #expect(throws: LineTableError(.valueOutOfRange, at: 0)) {
            try LineTable310.encode([LineRange(start: 0, end: 2, line: -(1 << 40))], firstLine: 1)
        }
        #expect(throws: LineTableError(.formatMismatch, at: 0)) {
            try LineTable.lnotab([]).encode(format: .linetable310, firstLine: 1)
        }
    }

    @Test("random bytes never trap the decoders", arguments: PythonVersion.all)
    func randomBytes(_ version: PythonVersion) {
        var rng = SplitMix(seed: 0x5EED_0000 &+ UInt64(version.minor))
        let format = version.lineTableFormat
        var accepted = 0
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 24)
            let table = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let codeLength = Int(rng.next() % 40) * 2
            do {
                let decoded = try LineTable.decode(table, format: format, firstLine: 1, codeLength: codeLength)
                _ = try LineTable.lineStarts(table, format: format, firstLine: 1, codeLength: codeLength)
                _ = try LineTable.lines(table, format: format, firstLine: 1, codeLength: codeLength)
                let starts = Array(0..<(codeLength / 2))
                let encoded = try decoded.encode(format: format, firstLine: 1, instructionStarts: starts)
                if case .lnotab = format { #expect(encoded == table) }
                accepted += 1
            } catch {}
        }
        print("\(version) random tables: \(accepted) of 20000 decoded")
    }

    // MARK: - Helpers

    static func checkLnotab(_ entries: [LnotabEntry], _ table: [UInt8], signed: Bool, firstLine: Int = 1) throws {
        #expect(try Lnotab.encode(entries, firstLine: firstLine, signedLineDelta: signed) == table, "\(entries)")
        #expect(try Lnotab.decode(table, firstLine: firstLine, signedLineDelta: signed) == entries, "\(table)")
    }
}

// MARK: - Test kit

/// Corpus walking, interpreter views and instruction boundaries for the table tests.
enum TableTestKit {
    /// One code object's tables, with its place for messages.
    struct CodeItem {
        var name: String
        var firstLine: Int
        var code: [UInt8]
        var lineTable: [UInt8]
        var exceptionTable: [UInt8]
    }

    static func requireInterpreter(_ version: PythonVersion) throws {
        try Require.interpreter(version)
    }

    /// The corpus of `version`; missing, it skips visibly (and fails when the interpreter exists).
    static func requireCorpus(_ version: PythonVersion) throws -> [String] {
        try Require.corpus(version)
    }

    /// Evenly spread files.
    static func sample(_ files: [String], count: Int) -> [String] {
        let step = max(1, files.count / count)
        return stride(from: step / 2, to: files.count, by: step).map { files[$0] }
    }

    static func bytes(_ o: PyObject) -> [UInt8] {
        if case .bytes(let b) = o.value { return b }
        return []
    }

    /// Every code object of the files, depth first in `co_consts` order (read in parallel).
    static func loadCodeObjects(_ files: [String]) throws -> [CodeItem] {
        let results = Locked([[CodeItem]?](repeating: nil, count: files.count))
        let failures = Locked([String]())
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            do {
                let pyc = try PycFile(bytes: try FileIO.read(files[i]))
                guard let top = pyc.code else { throw TestSupportError("no code object") }
                var out: [CodeItem] = []
                var stack = [(top, "")]
                while let (c, prefix) = stack.popLast() {
                    let name = prefix + c.nameText
                    out.append(
                        CodeItem(
                            name: files[i] + ":" + name, firstLine: Int(c.firstlineno), code: c.codeBytes,
                            lineTable: bytes(c.linetable), exceptionTable: bytes(c.exceptiontable)))
                    stack.append(contentsOf: c.nestedCode.reversed().map { ($0, name + ".") })
                }
                results.mutate { $0[i] = out }
            } catch {
                failures.mutate { $0.append("\(files[i]): \(error)") }
            }
        }
        let failed = failures.value
        if !failed.isEmpty { throw TestSupportError("\(failed.count) files unreadable: \(failed.prefix(3))") }
        return results.value.flatMap { $0 ?? [] }
    }

    // MARK: Instruction boundaries (3.11)

    struct CacheTable {
        var extendedArg: Int
        var caches: [Int]
    }

    /// `EXTENDED_ARG` and the inline cache count of every opcode, from the interpreter.
    static func cacheTable(_ version: PythonVersion) throws -> CacheTable {
        try requireInterpreter(version)
        let script = #"""
            import opcode, json
            ce = getattr(opcode, "_inline_cache_entries", None)
            def count(i):
                name = opcode.opname[i]
                if ce is None or name.startswith("<"): return 0
                return ce.get(name, 0) if isinstance(ce, dict) else ce[i]
            print(json.dumps({"ext": opcode.EXTENDED_ARG, "caches": [count(i) for i in range(256)]}))
            """#
        let out = try Interpreters.runPython(version, script)
        guard out.status == 0,
            let json = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any],
            let ext = json["ext"] as? Int, let caches = json["caches"] as? [Int]
        else { throw TestSupportError("python \(version): \(out.stderr)") }
        return CacheTable(extendedArg: ext, caches: caches)
    }

    /// Code-unit index of each instruction's first unit (its EXTENDED_ARG prefixes included).
    static func instructionStarts(_ code: [UInt8], _ table: CacheTable) -> [Int] {
        var starts: [Int] = []
        let units = code.count / 2
        var u = 0
        while u < units {
            starts.append(u)
            while u < units && Int(code[2 * u]) == table.extendedArg { u += 1 }
            guard u < units else { break }
            u += 1 + table.caches[Int(code[2 * u])]
        }
        return starts
    }

    // MARK: Interpreter views

    /// What the interpreter reports for one code object; lists hold Int or nil.
    struct View {
        var starts: [[Int?]]
        var lines: [[Int?]]?
        var positions: [[Int?]]?
        var exceptions: [[Int?]]?
    }

    static let viewsScript = #"""
        import sys, marshal, json, types, dis
        ver = sys.version_info[:2]
        hdr = 8 if ver < (3, 0) else (12 if ver < (3, 7) else 16)
        def codes(co):
            yield co
            for c in co.co_consts:
                if isinstance(c, types.CodeType):
                    for x in codes(c): yield x
        def views(top):
            out = []
            for co in codes(top):
                d = {"starts": [[o, l] for o, l in dis.findlinestarts(co)]}
                if ver >= (3, 10): d["lines"] = [list(r) for r in co.co_lines()]
                if ver >= (3, 11):
                    d["pos"] = [list(p) for p in co.co_positions()]
                    d["exc"] = [[e.start, e.end, e.target, e.depth, int(e.lasti)] for e in dis._parse_exception_table(co)]
                d["fl"] = co.co_firstlineno
                d["len"] = len(co.co_code)
                d["table"] = (co.co_lnotab if ver < (3, 10) else co.co_linetable).hex() if ver >= (3, 5) else co.co_lnotab.encode("hex")
                d["code"] = co.co_code.hex() if ver >= (3, 5) else co.co_code.encode("hex")
                if ver >= (3, 11): d["exctable"] = co.co_exceptiontable.hex()
                out.append(d)
            return out
        if sys.argv[1] == "--source":
            src = sys.stdin.read()
            sys.stdout.write(json.dumps(views(compile(src, "src", "exec"))) + "\n")
        else:
            for path in sys.argv[1:]:
                f = open(path, "rb"); data = f.read(); f.close()
                sys.stdout.write(json.dumps(views(marshal.loads(data[hdr:]))) + "\n")
        """#

    static func parseViews(_ line: Substring) throws -> [(View, [String: Any])] {
        guard let list = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]] else {
            throw TestSupportError("bad JSON from the interpreter")
        }
        func rows(_ v: Any?) -> [[Int?]]? {
            guard let a = v as? [[Any]] else { return nil }
            return a.map { $0.map { $0 as? Int } }
        }
        return list.map { d in
            (
                View(
                    starts: rows(d["starts"]) ?? [], lines: rows(d["lines"]), positions: rows(d["pos"]),
                    exceptions: rows(d["exc"])), d
            )
        }
    }

    /// The interpreter's views of every code object of each file, in `loadCodeObjects` order.
    static func interpreterViews(_ version: PythonVersion, _ files: [String]) throws -> [[View]] {
        let out = try Interpreters.runPython(version, viewsScript, args: files)
        guard out.status == 0 else { throw TestSupportError("python \(version): \(out.stderr)") }
        let lines = out.stdout.split(separator: "\n")
        guard lines.count == files.count else {
            throw TestSupportError("python \(version): \(lines.count) lines for \(files.count) files")
        }
        return try lines.map { try parseViews($0).map(\.0) }
    }

    /// A code object compiled from source by the interpreter, with its tables and views.
    struct Compiled {
        var firstLine: Int
        var codeLength: Int
        var code: [UInt8]
        var table: [UInt8]
        var exceptionTable: [UInt8]
        var starts: [[Int?]]
        var lines: [[Int?]]?
        var positions: [[Int?]]?
        var exceptions: [[Int?]]?
    }

    /// `compile(source)` in the interpreter: every code object, depth first.
    static func compile(_ version: PythonVersion, _ source: String) throws -> [Compiled] {
        let out = try Interpreters.runPython(version, viewsScript, args: ["--source"], stdin: Array(source.utf8))
        guard out.status == 0, let line = out.stdout.split(separator: "\n").first else {
            throw TestSupportError("python \(version): \(out.stderr)")
        }
        return try parseViews(line).map { view, d in
            let code = Hex.decode(d["code"] as? String ?? "")
            return Compiled(
                firstLine: d["fl"] as? Int ?? 0, codeLength: d["len"] as? Int ?? 0, code: code,
                table: Hex.decode(d["table"] as? String ?? ""),
                exceptionTable: Hex.decode(d["exctable"] as? String ?? ""),
                starts: view.starts, lines: view.lines, positions: view.positions, exceptions: view.exceptions)
        }
    }

    /// Whether `needle` occurs in `haystack` as a contiguous run.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    /// A readable dump of a decoded table (for difference reports).
    static func dump(_ t: LineTable) -> String {
        switch t {
        case .lnotab(let e): return "lnotab \(e.prefix(40))"
        case .ranges(let r): return "ranges \(r.prefix(40))"
        case .locations(let p): return "positions \(p.prefix(40))"
        }
    }

}

extension TableTestKit {
    /// A value behind a lock, for collecting results of parallel work.
    final class Locked<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Value
        init(_ value: Value) { stored = value }
        var value: Value {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
        func mutate(_ body: (inout Value) -> Void) {
            lock.lock()
            body(&stored)
            lock.unlock()
        }
    }
}
