import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// The 3.11+ exception table (formats.md §5): whole-corpus round trips, `dis`'s parse on a
/// sample, multi-chunk varints and malformed input.
@Suite("Exception tables")
struct ExceptionTableTests {
    @Test("every exception table of the corpus decodes and re-encodes byte for byte", arguments: PythonVersion.all)
    func corpusRoundTrip(_ version: PythonVersion) throws {
        guard version.hasExceptionTable else {
            #expect(!version.codeLayout.contains(.exceptiontable))
            print("\(version) exception tables: none in this version (SETUP_* blocks instead)")
            return
        }
        let files = try TableTestKit.requireCorpus(version)
        let codes = try TableTestKit.loadCodeObjects(files)
        var differences: [String] = []
        var errors: [String] = []
        var entries = 0
        var nonEmpty = 0
        var multiChunk = 0
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        for item in codes {
            let t0 = clock.now
            do {
                let decoded = try ExceptionTable.decode(item.exceptionTable, codeUnitCount: item.code.count / 2)
                let encoded = try ExceptionTable.encode(decoded)
                elapsed += clock.now - t0
                entries += decoded.count
                nonEmpty += decoded.isEmpty ? 0 : 1
                multiChunk += decoded.filter { $0.start >= 64 || $0.target >= 64 || $0.end - $0.start >= 64 }.count
                if encoded != item.exceptionTable {
                    differences.append(
                        "\(item.name): \(Hex.encode(item.exceptionTable)) re-encoded \(Hex.encode(encoded)): \(decoded)"
                    )
                }
                // Sorted by start and never overlapping (formats.md §5).
                if zip(decoded, decoded.dropFirst()).contains(where: { $0.end > $1.start }) {
                    differences.append("\(item.name): entries overlap or are unsorted: \(decoded)")
                }
            } catch {
                errors.append("\(item.name): \(error)")
            }
        }
        print(
            "\(version) exception tables: \(codes.count) code objects (\(nonEmpty) with a table, \(entries) entries, \(multiChunk) with multi-chunk values), \(differences.count) differences, \(errors.count) errors; decode+encode \(elapsed)"
        )
        #expect(codes.count > 10_000 && nonEmpty > 1000 && multiChunk > 100)
        #expect(errors.isEmpty, "\(errors.prefix(5).joined(separator: "\n"))")
        #expect(
            differences.isEmpty, "\(differences.count) differ, first:\n\(differences.prefix(5).joined(separator: "\n"))"
        )
    }

    @Test(
        "decoded entries match dis._parse_exception_table on a sample",
        arguments: PythonVersion.all.filter(\.hasExceptionTable))
    func interpreterParse(_ version: PythonVersion) throws {
        try TableTestKit.requireInterpreter(version)
        let files = try TableTestKit.requireCorpus(version)
        let sample = TableTestKit.sample(files, count: 60)
        let views = try TableTestKit.interpreterViews(version, sample)
        var compared = 0
        var mismatches: [String] = []
        for (path, fileViews) in zip(sample, views) {
            let codes = try TableTestKit.loadCodeObjects([path])
            try #require(codes.count == fileViews.count, "\(path)")
            for (item, view) in zip(codes, fileViews) {
                let mine = try ExceptionTable.decode(item.exceptionTable).map {
                    [$0.startOffset, $0.endOffset, $0.targetOffset, $0.depth, $0.lasti ? 1 : 0] as [Int?]
                }
                compared += mine.count
                if mine != view.exceptions { mismatches.append("\(item.name): \(mine) vs \(view.exceptions ?? [])") }
            }
        }
        print(
            "\(version) _parse_exception_table: \(compared) entries in \(sample.count) files compared, \(mismatches.count) mismatches"
        )
        #expect(compared > 500)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5).joined(separator: "\n"))")
    }

    @Test("varints: 6-bit chunks most significant first, 0x40 continues, 0x80 marks an entry's first byte")
    func varints() throws {
        let entries = [
            ExceptionTableEntry(start: 2, end: 12, target: 13, depth: 0, lasti: false),
            ExceptionTableEntry(start: 100, end: 165, target: 5000, depth: 40, lasti: true),
            ExceptionTableEntry(start: 262_143, end: 262_144, target: 0, depth: 0, lasti: true),
        ]
        let bytes: [UInt8] = [
            0x82, 0x0A, 0x0D, 0x00,
            // 100 = 1·64 + 36; 65 = 1·64 + 1; 5000 = 1·4096 + 14·64 + 8; 81 = 1·64 + 17.
            0xC1, 0x24, 0x41, 0x01, 0x41, 0x4E, 0x08, 0x41, 0x11,
            // 262143 = 63·4096 + 63·64 + 63.
            0xFF, 0x7F, 0x3F, 0x01, 0x00, 0x01,
        ]
        #expect(try ExceptionTable.encode(entries) == bytes)
        #expect(try ExceptionTable.decode(bytes) == entries)
        #expect(entries[1].description == "200 to 330 -> 10000 [40] lasti")
    }

    @Test(
        "compile(): try/except tables, the formats.md 3.12 example, three-chunk values",
        arguments: [PythonVersion.v3_11, .v3_12, .v3_13])
    func fromCompiler(_ version: PythonVersion) throws {
        try TableTestKit.requireInterpreter(version)
        let big = (0..<500).map { "        g\($0)()" }.joined(separator: "\n")
        let source =
            "\ndef f():\n    try:\n        g()\n    except E:\n        return 1\n"
            + "def h():\n    try:\n\(big)\n    except (A, B) as e:\n        with e:\n            return 2\n    finally:\n        k()\n"
        let compiled = try TableTestKit.compile(version, source)
        var values: [Int] = []
        for c in compiled {
            let decoded = try ExceptionTable.decode(c.exceptionTable, codeUnitCount: c.codeLength / 2)
            #expect(try ExceptionTable.encode(decoded) == c.exceptionTable)
            #expect(
                decoded.map { [$0.startOffset, $0.endOffset, $0.targetOffset, $0.depth, $0.lasti ? 1 : 0] as [Int?] }
                    == c.exceptions)
            values += decoded.flatMap { [$0.start, $0.end - $0.start, $0.target] }
        }
        #expect(values.contains { $0 >= 4096 }, "a three-chunk value: \(values.max() ?? 0)")
        if version == .v3_12 {
            let f = try #require(compiled.dropFirst().first)
            #expect(Hex.encode(f.exceptionTable) == "820a0d008d091903980119 03".replacingOccurrences(of: " ", with: ""))
        }
    }

    @Test("malformed exception tables give typed errors with the table offset")
    func malformed() throws {
        #expect(throws: ExceptionTableError(.missingEntryStart, at: 0)) {
            try ExceptionTable.decode([0x02, 0x0A, 0x0D, 0x00])
        }
        #expect(throws: ExceptionTableError(.missingEntryStart, at: 4)) {
            try ExceptionTable.decode([0x82, 0x0A, 0x0D, 0x00, 0x01])
        }
        #expect(throws: ExceptionTableError(.truncated, at: 0)) { try ExceptionTable.decode([0x82, 0x0A, 0x0D]) }
        #expect(throws: ExceptionTableError(.truncated, at: 0)) { try ExceptionTable.decode([0x82, 0x0A, 0x0D, 0x40]) }
        #expect(throws: ExceptionTableError(.truncated, at: 0)) { try ExceptionTable.decode([0xC2]) }
        #expect(throws: ExceptionTableError(.entryStartInsideEntry, at: 2)) {
            try ExceptionTable.decode([0x82, 0x0A, 0x8D, 0x00])
        }
        #expect(throws: ExceptionTableError(.entryStartInsideEntry, at: 1)) {
            try ExceptionTable.decode([0xC2, 0x8A, 0x0D, 0x00, 0x00])
        }
        #expect(throws: ExceptionTableError(.varintTooLong, at: 0)) {
            try ExceptionTable.decode([0xC1, 0x40, 0x40, 0x40, 0x40, 0x40, 0x00, 0x01, 0x00, 0x00])
        }
        #expect(throws: ExceptionTableError(.emptyRange, at: 4)) {
            try ExceptionTable.decode([0x82, 0x0A, 0x0D, 0x00, 0x82, 0x00, 0x0D, 0x00])
        }
        #expect(throws: ExceptionTableError(.outOfRange, at: 0)) {
            try ExceptionTable.decode([0x82, 0x0A, 0x0D, 0x00], codeUnitCount: 11)
        }
        #expect(throws: ExceptionTableError(.outOfRange, at: 0)) {
            try ExceptionTable.decode([0x82, 0x0A, 0x0D, 0x00], codeUnitCount: 13)
        }
        #expect(try ExceptionTable.decode([0x82, 0x0A, 0x0D, 0x00], codeUnitCount: 14).count == 1)
        #expect(try ExceptionTable.decode([]) == [])
        #expect(throws: ExceptionTableError(.emptyRange, at: 0)) {
            try ExceptionTable.encode([ExceptionTableEntry(start: 4, end: 4, target: 0, depth: 0, lasti: false)])
        }
        #expect(throws: ExceptionTableError(.negativeValue, at: 0)) {
            try ExceptionTable.encode([ExceptionTableEntry(start: 0, end: 4, target: -1, depth: 0, lasti: false)])
        }
    }

    @Test("random bytes never trap the decoder")
    func randomBytes() {
        var rng = SplitMix(seed: 0xE7AB)
        var accepted = 0
        for _ in 0..<50_000 {
            let table = (0..<Int(rng.next() % 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if let decoded = try? ExceptionTable.decode(table) {
                accepted += 1
                let encoded = try? ExceptionTable.encode(decoded)
                #expect(encoded != nil && encoded!.count <= table.count, "\(table)")
            }
        }
        print("random exception tables: \(accepted) of 50000 decoded")
    }
}
