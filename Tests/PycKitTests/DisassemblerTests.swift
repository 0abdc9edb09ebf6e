import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// `pyckit dis` against each interpreter's own `dis` on snippets chosen for the tricky parts:
/// EXTENDED_ARG chains (2.7's `L` arguments), backward jumps, inline caches, exception tables,
/// line numbers past 1000, constant reprs, nested code, and each version's special arguments.
@Suite("Disassembler vs dis")
struct DisassemblerTests {
    static let fixtures = Corpus.packageRoot + "/Tests/PycKitTests/Fixtures"

    struct Reference: Decodable {
        var name: String
        var pyc: String
        var ref: String
    }

    struct Normalized: Decodable {
        var path: String
        var text: String
    }

    @Test("snippets disassemble exactly like the interpreter's dis", arguments: PythonVersion.all)
    func snippets(version: PythonVersion) throws {
        guard let python = Interpreters.python(version) else {
            print(Interpreters.missingMessage(version))
            return
        }
        let dir = NSTemporaryDirectory() + "pyckit-dis-\(version)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let driver = Self.fixtures + "/dis_snippets_driver.py"
        let compiled = try Interpreters.run([python, driver, "compile", Self.fixtures + "/dis_snippets.py", dir])
        try #require(compiled.status == 0, "\(compiled.stderr)")
        let refs = try compiled.stdout.split(separator: "\n").map {
            try JSONDecoder().decode(Reference.self, from: Data($0.utf8))
        }
        #expect(refs.count >= (version.major == 2 ? 7 : 10), "too few snippets compiled for \(version)")
        var ours: [String] = []
        for r in refs {
            let file = try PycFile(bytes: FileIO.read(r.pyc))
            #expect(file.version == version)
            let (text, problems) = Disassembler(version: version).listing(try #require(file.code))
            #expect(problems.isEmpty, "\(r.name): \(problems)")
            let path = r.pyc + ".ours"
            try FileIO.writeAtomically(text, to: path)
            ours.append(path)
        }
        let normalized = try Interpreters.run([python, driver, "normalize"] + ours)
        try #require(normalized.status == 0, "\(normalized.stderr)")
        let texts = try normalized.stdout.split(separator: "\n").map {
            try JSONDecoder().decode(Normalized.self, from: Data($0.utf8)).text
        }
        try #require(texts.count == refs.count)
        for (r, text) in zip(refs, texts) {
            if text != r.ref {
                let a = r.ref.split(separator: "\n", omittingEmptySubsequences: false)
                let b = text.split(separator: "\n", omittingEmptySubsequences: false)
                let k = zip(a, b).prefix { $0 == $1 }.count
                Issue.record("\(version) \(r.name): line \(k + 1)\n   ref: \(k < a.count ? String(a[k]) : "<end>")\n  ours: \(k < b.count ? String(b[k]) : "<end>")")
            }
        }
    }

    @Test func extendedArgumentsFoldLikeDis() throws {
        // 3.12: EXTENDED_ARG 1, EXTENDED_ARG 2, LOAD_CONST 3 -> 0x010203; a no-argument opcode
        // between a prefix and its instruction resets the prefix from 3.10 on, not before.
        let v = PythonVersion.v3_12
        let ext = v.opcodes.extendedArg
        let loadConst = try #require(v.opcodes["LOAD_CONST"]?.byte)
        let nop = try #require(v.opcodes["NOP"]?.byte)
        let ins = try v.decodeInstructions([ext, 1, ext, 2, loadConst, 3, ext, 5, nop, 0, loadConst, 1])
        #expect(ins.map(\.oparg) == [1, 0x102, 0x10203, 5, nil, 1])
        let v9 = PythonVersion.v3_9
        let ins9 = try v9.decodeInstructions([v9.opcodes.extendedArg, 5, try #require(v9.opcodes["NOP"]?.byte), 0, try #require(v9.opcodes["LOAD_CONST"]?.byte), 1])
        #expect(ins9.map(\.oparg) == [5, nil, 0x501])
        // 2.7: 16-bit arguments, EXTENDED_ARG supplies the high 16 bits.
        let v27 = PythonVersion.v2_7
        let ins27 = try v27.decodeInstructions([145, 1, 0, 100, 0, 0, 9])
        #expect(ins27.map(\.oparg) == [1, 65536, nil])
        #expect(ins27.map(\.offset) == [0, 3, 6])
        #expect(v27.encodeInstructions(ins27) == [145, 1, 0, 100, 0, 0, 9])
    }

    @Test func backwardJumpsAndCaches() throws {
        // 3.12 `JUMP_BACKWARD 9` at offset 22 targets 22 + 2 - 18 = 6; FOR_ITER has one cache unit.
        let v = PythonVersion.v3_12
        let jb = try #require(v.opcodes["JUMP_BACKWARD"]?.byte)
        let forIter = try #require(v.opcodes["FOR_ITER"]?.byte)
        let nop = try #require(v.opcodes["NOP"]?.byte)
        var code = [UInt8](repeating: 0, count: 24)
        for i in stride(from: 0, to: 22, by: 2) { code[i] = nop }
        code[6] = forIter
        code[7] = 5
        code[8] = 0  // FOR_ITER's cache unit
        code[22] = jb
        code[23] = 9
        let ins = try v.decodeInstructions(code)
        let jump = try #require(ins.last)
        #expect(v.jumpTarget(of: jump) == 6)
        let fi = try #require(ins.first { $0.opcode == forIter })
        #expect(fi.cacheCount == 1)
        #expect(v.jumpTarget(of: fi) == 6 + 4 + 10)
        #expect(!ins.contains { $0.offset == 8 })
        #expect(v.encodeInstructions(ins) == code)
    }

    @Test func truncatedCodeIsAnErrorNotATrap() throws {
        let v = PythonVersion.v3_11
        let loadGlobal = try #require(v.opcodes["LOAD_GLOBAL"]?.byte)
        #expect(throws: ConcreteError.self) { try v.decodeInstructions([loadGlobal, 0, 0, 0]) }
        #expect(throws: ConcreteError.self) { try v.decodeInstructions([9]) }
        #expect(throws: ConcreteError.self) { try PythonVersion.v2_7.decodeInstructions([100, 0]) }
        let (partial, error) = PythonVersion.v2_7.decodeInstructionsLeniently([9, 9, 100, 0])
        #expect(partial.count == 2)
        #expect(error?.offset == 2)
    }
}
