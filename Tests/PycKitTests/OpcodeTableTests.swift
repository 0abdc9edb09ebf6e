import Foundation
import PycKit
import PycKitTestSupport
import Testing

/// The per-version opcode tables (`Sources/PycKit/Versions/OpcodeTable.swift` and `Generated/`): known facts from the
/// interpreters and formats.md, the generator's `--check`, a cross-check against every installed interpreter, and
/// 2.7's hand-written stack effects against `co_stacksize`.
@Suite("OpcodeTable")
struct OpcodeTableTests {
    // MARK: - Loading and lookup

    @Test("forVersion answers 2.7 and 3.6 … 3.13 and nothing else")
    func forVersion() {
        for version in PythonVersion.all {
            let table = OpcodeTable.forVersion(major: version.major, minor: version.minor)
            #expect(table?.major == version.major && table?.minor == version.minor, "\(version)")
        }
        #expect(OpcodeTable.all.map { "\($0.major).\($0.minor)" } == PythonVersion.all.map(\.description))
        for (major, minor) in [(2, 6), (3, 5), (3, 14), (4, 0)] {
            #expect(OpcodeTable.forVersion(major: major, minor: minor) == nil, "\(major).\(minor)")
        }
    }

    @Test("lookups by byte, by name and by code agree", arguments: OpcodeTable.all)
    func lookupsAgree(table: OpcodeTable) {
        #expect(!table.opcodes.isEmpty)
        #expect(table.opcodes.map(\.code) == table.opcodes.map(\.code).sorted())
        for info in table.opcodes {
            #expect(table[info.name] == info)
            #expect(table.opcode(code: info.code) == info)
            if let byte = info.byte {
                #expect(table[byte] == info)
                #expect(!info.isPseudo)
            } else {
                #expect(info.isPseudo && info.code >= 256)
            }
            #expect(info.isSpecialized == (info.deoptName != nil))
            if let base = info.deoptName {
                #expect(table[base]?.code == info.deoptCode)
                #expect(table[base]?.cacheEntries == info.cacheEntries, "\(info) counts its base's caches")
                #expect(table[base]?.hasArgument == info.hasArgument, "\(info) decodes like its base")
            }
            #expect(info.cacheLayout.isEmpty || info.cacheLayout.map(\.size).reduce(0, +) == info.cacheEntries)
        }
        for byte in 0...255 {
            let opcode = UInt8(byte)
            if let info = table[opcode] {
                #expect(table.hasArgument(opcode: opcode) == info.hasArgument)
                #expect(table.cacheEntries(opcode: opcode) == info.cacheEntries)
                #expect(Int(table.deoptimized(opcode: opcode)) == (info.deoptCode ?? byte))
            } else {
                #expect(table.stackEffect(opcode: opcode, oparg: 0, jump: nil) == nil)
                #expect(table.cacheEntries(opcode: opcode) == 0)
                #expect(table.deoptimized(opcode: opcode) == opcode)
            }
        }
        #expect(table["NO_SUCH_OPCODE"] == nil)
    }

    // MARK: - Known facts

    @Test("EXTENDED_ARG and HAVE_ARGUMENT (formats.md §3.1, §3.2)")
    func extendedArgAndHaveArgument() throws {
        let expected: [(PythonVersion, UInt8, Int)] = [
            (.v2_7, 145, 90), (.v3_6, 144, 90), (.v3_7, 144, 90), (.v3_8, 144, 90), (.v3_9, 144, 90),
            (.v3_10, 144, 90), (.v3_11, 144, 90), (.v3_12, 144, 90), (.v3_13, 71, 44),
        ]
        for (version, extendedArg, haveArgument) in expected {
            let table = try #require(OpcodeTable.forVersion(major: version.major, minor: version.minor))
            #expect(table.extendedArg == extendedArg, "\(version)")
            #expect(table.haveArgument == haveArgument, "\(version)")
            #expect(table[extendedArg]?.name == "EXTENDED_ARG", "\(version)")
            #expect(table[extendedArg]?.hasArgument == true, "\(version)")
        }
        // 3.13: HAVE_ARGUMENT is 44, yet WITH_EXCEPT_START (44) takes no argument.
        let v313 = try opcodeTable(.v3_13)
        #expect(v313[44]?.name == "WITH_EXCEPT_START")
        #expect(v313[44]?.hasArgument == false)
        #expect(v313.hasArgument(opcode: 44) == false)
        #expect(try opcodeTable(.v2_7)[100]?.name == "LOAD_CONST")
        #expect(try opcodeTable(.v2_7)["SLICE+3"]?.code == 33)
    }

    @Test(
        "inline cache entries (formats.md §3.3)",
        arguments: [
            (PythonVersion.v3_11, "LOAD_GLOBAL", 5), (.v3_11, "LOAD_ATTR", 4), (.v3_11, "STORE_ATTR", 4),
            (.v3_11, "CALL", 4), (.v3_11, "PRECALL", 1), (.v3_11, "LOAD_METHOD", 10), (.v3_11, "BINARY_SUBSCR", 4),
            (.v3_11, "STORE_SUBSCR", 1), (.v3_11, "BINARY_OP", 1), (.v3_11, "COMPARE_OP", 2),
            (.v3_11, "UNPACK_SEQUENCE", 1), (.v3_11, "FOR_ITER", 0),
            (.v3_12, "LOAD_GLOBAL", 4), (.v3_12, "LOAD_ATTR", 9), (.v3_12, "STORE_ATTR", 4), (.v3_12, "CALL", 3),
            (.v3_12, "BINARY_SUBSCR", 1), (.v3_12, "COMPARE_OP", 1), (.v3_12, "FOR_ITER", 1), (.v3_12, "SEND", 1),
            (.v3_12, "LOAD_SUPER_ATTR", 1), (.v3_12, "JUMP_BACKWARD", 0),
            (.v3_13, "LOAD_GLOBAL", 4), (.v3_13, "LOAD_ATTR", 9), (.v3_13, "CALL", 3), (.v3_13, "TO_BOOL", 3),
            (.v3_13, "CONTAINS_OP", 1), (.v3_13, "JUMP_BACKWARD", 1), (.v3_13, "POP_JUMP_IF_TRUE", 1),
            (.v3_13, "POP_JUMP_IF_FALSE", 1), (.v3_13, "POP_JUMP_IF_NONE", 1), (.v3_13, "POP_JUMP_IF_NOT_NONE", 1),
            (.v3_13, "FOR_ITER", 1),
        ])
    func cacheEntries(version: PythonVersion, name: String, entries: Int) throws {
        let info = try #require(try opcodeTable(version)[name], "\(version) \(name)")
        #expect(info.cacheEntries == entries)
        #expect(try opcodeTable(version).cacheEntries(opcode: #require(info.byte)) == entries)
    }

    @Test("no inline caches before 3.11; cache field layouts", arguments: OpcodeTable.all)
    func cacheLayouts(table: OpcodeTable) throws {
        if (table.major, table.minor) < (3, 11) {
            #expect(table.opcodes.allSatisfy { $0.cacheEntries == 0 && $0.cacheLayout.isEmpty })
        }
        if (table.major, table.minor) == (3, 12) {
            let layout = try #require(table["LOAD_ATTR"]).cacheLayout
            #expect(layout.map(\.name) == ["counter", "version", "keys_version", "descr"])
            #expect(layout.map(\.size) == [1, 2, 2, 4])
            #expect(table["LOAD_ATTR_SLOT"]?.cacheLayout == layout, "a specialized opcode has its base's layout")
        }
    }

    @Test("pseudo, instrumented and specialized opcodes (formats.md §3.2)")
    func opcodeKinds() throws {
        let v312 = try opcodeTable(.v3_12)
        #expect(v312["SETUP_FINALLY"]?.code == 256 && v312["SETUP_FINALLY"]?.isPseudo == true)
        #expect(v312["SETUP_FINALLY"]?.categories == .exc)
        #expect(v312["JUMP"]?.code == 260 && v312["JUMP"]?.categories == .jrel)
        #expect(v312["LOAD_METHOD"]?.isPseudo == true)
        #expect(v312[254]?.name == "INSTRUMENTED_LINE" && v312[254]?.isInstrumented == true)
        let add = try #require(v312["BINARY_OP_ADD_INT"])
        #expect(add.isSpecialized && add.deoptName == "BINARY_OP")
        #expect(v312.deoptimized(opcode: try #require(add.byte)) == 122)  // BINARY_OP
        #expect(add.stackEffect == nil, "CPython gives specialized opcodes no stack effect")
        let v313 = try opcodeTable(.v3_13)
        #expect(v313["JUMP"]?.code == 256 && v313["SETUP_FINALLY"]?.code == 265)
        #expect(v313["RESUME_CHECK"]?.deoptName == "RESUME")
        #expect(try opcodeTable(.v3_11)["LOAD_FAST__LOAD_FAST"]?.deoptName == "LOAD_FAST")
        for version in [PythonVersion.v2_7, .v3_6, .v3_10] {
            #expect(try opcodeTable(version).opcodes.allSatisfy { $0.kind == .real }, "\(version)")
        }
    }

    @Test("argument categories (opcode.has*)")
    func categories() throws {
        let v27 = try opcodeTable(.v2_7)
        #expect(v27["JUMP_ABSOLUTE"]?.categories == .jabs)
        #expect(v27["FOR_ITER"]?.categories == .jrel)
        #expect(v27["LOAD_CONST"]?.categories == .const)
        #expect(v27["LOAD_DEREF"]?.categories == .free)
        #expect(v27["COMPARE_OP"]?.categories == .compare)
        #expect(!v27.definedCategories.contains(.nargs))
        #expect(try opcodeTable(.v3_6).definedCategories.contains(.nargs))
        let v311 = try opcodeTable(.v3_11)
        #expect(v311.opcodes.allSatisfy { !$0.categories.contains(.jabs) }, "hasjabs is empty from 3.11")
        #expect(v311["KW_NAMES"]?.categories == .const)
        #expect(try opcodeTable(.v3_12).definedCategories.contains(.exc))
        #expect(OpcodeInfo.ArgumentCategories(name: "jrel") == .jrel)
        #expect(OpcodeInfo.ArgumentCategories(name: "bogus") == nil)
    }

    @Test("cmp_op, _nb_ops and intrinsic names (formats.md §3.4)")
    func operatorNames() throws {
        #expect(try opcodeTable(.v2_7).cmpOp.count == 12)
        #expect(try opcodeTable(.v3_8).cmpOp[10] == "exception match")
        #expect(try opcodeTable(.v3_9).cmpOp == ["<", "<=", "==", "!=", ">", ">="])
        #expect(try opcodeTable(.v3_10).binaryOps.isEmpty)
        for version in [PythonVersion.v3_11, .v3_12, .v3_13] {
            let ops = try opcodeTable(version).binaryOps
            #expect(ops.count == 26, "\(version)")
            #expect(ops.first?.symbol == "+" && ops[13].symbol == "+=" && ops[13].name == "NB_INPLACE_ADD")
        }
        #expect(try opcodeTable(.v3_11).intrinsic1Names.isEmpty)
        #expect(try opcodeTable(.v3_12).intrinsic1Names[1] == "INTRINSIC_PRINT")
        #expect(try opcodeTable(.v3_13).intrinsic2Names.last == "INTRINSIC_SET_TYPEPARAM_DEFAULT")
    }

    // MARK: - Stack effects

    @Test("BUILD_TUPLE 3 is -2 and BUILD_SLICE 3 is -2 everywhere", arguments: OpcodeTable.all)
    func simpleStackEffects(table: OpcodeTable) throws {
        let tuple = try #require(table["BUILD_TUPLE"]?.byte)
        let slice = try #require(table["BUILD_SLICE"]?.byte)
        for jump in [nil, false, true] as [Bool?] {
            #expect(table.stackEffect(opcode: tuple, oparg: 3, jump: jump) == -2)
            #expect(table.stackEffect(opcode: tuple, oparg: 0, jump: jump) == 1)
            #expect(table.stackEffect(opcode: slice, oparg: 3, jump: jump) == -2)
            #expect(table.stackEffect(opcode: slice, oparg: 2, jump: jump) == -1)
        }
        #expect(
            table.hasDirectionalStackEffects == !([(3, 6), (3, 7)] as [(Int, Int)]).contains {
                $0 == (table.major, table.minor)
            })
    }

    @Test("oparg-dependent and jump-dependent effects")
    func stackEffects() throws {
        func effect(_ version: PythonVersion, _ name: String, _ oparg: Int, jump: Bool? = nil) throws -> Int? {
            let table = try opcodeTable(version)
            return table.stackEffect(
                opcode: try #require(table[name]?.byte, "\(version) \(name)"), oparg: oparg, jump: jump)
        }
        // 2.7, hand-written: NARGS = positional + 2 * keyword; FOR_ITER and SETUP_* per stackdepth_walk.
        #expect(try effect(.v2_7, "CALL_FUNCTION", 0x0102) == -4)
        #expect(try effect(.v2_7, "CALL_FUNCTION_VAR_KW", 0x0001) == -3)
        #expect(try effect(.v2_7, "MAKE_CLOSURE", 2) == -3)
        #expect(try effect(.v2_7, "FOR_ITER", 0, jump: false) == 1)
        #expect(try effect(.v2_7, "FOR_ITER", 0, jump: true) == -1)
        #expect(try effect(.v2_7, "SETUP_EXCEPT", 10, jump: true) == 3)
        #expect(try effect(.v2_7, "SETUP_FINALLY", 10, jump: false) == 0)
        #expect(try effect(.v2_7, "SETUP_WITH", 10, jump: nil) == 4)
        #expect(try effect(.v2_7, "STOP_CODE", 0) == nil)
        // 3.6/3.7: only the combined value; 3.8+: per direction.
        #expect(try effect(.v3_6, "FOR_ITER", 0, jump: true) == 1)
        #expect(try effect(.v3_6, "SETUP_WITH", 0) == 7)
        #expect(try effect(.v3_6, "UNPACK_EX", 0x0102) == 3)
        #expect(try effect(.v3_6, "MAKE_FUNCTION", 0x0f) == -5)
        #expect(try effect(.v3_6, "FORMAT_VALUE", 0x04) == -1)
        #expect(try effect(.v3_6, "NOP", 0) == nil, "3.6's dis.stack_effect refuses NOP")
        #expect(try effect(.v3_8, "FOR_ITER", 0, jump: false) == 1)
        #expect(try effect(.v3_8, "FOR_ITER", 0, jump: true) == -1)
        #expect(try effect(.v3_8, "FOR_ITER", 0) == 1)
        #expect(try effect(.v3_8, "SETUP_FINALLY", 0, jump: true) == 6)
        #expect(try effect(.v3_11, "LOAD_GLOBAL", 1) == 2)
        #expect(try effect(.v3_11, "LOAD_GLOBAL", 2) == 1)
        #expect(try effect(.v3_12, "LOAD_ATTR", 1) == 1)
        #expect(try effect(.v3_12, "LOAD_ATTR", 0) == 0)
        #expect(try effect(.v3_12, "LOAD_SUPER_ATTR", 3) == -1)
        #expect(try effect(.v3_12, "CALL", 2) == -3)
        #expect(try effect(.v3_12, "BUILD_MAP", 2) == -3)
        let v312 = try opcodeTable(.v3_12)
        #expect(v312["SETUP_FINALLY"]?.stackEffect?.value(oparg: 0, jump: true) == 1)
        #expect(v312["SETUP_CLEANUP"]?.stackEffect?.value(oparg: 0, jump: true) == 2)
        #expect(try effect(.v3_13, "RETURN_GENERATOR", 0) == 1)
        #expect(try effect(.v3_13, "INSTRUMENTED_LINE", 0) == nil)
    }

    @Test("stack-effect formulas: text round trip and evaluation")
    func formulas() throws {
        var seen = Set<StackEffectFormula>()
        for table in OpcodeTable.all {
            for info in table.opcodes {
                guard let effect = info.stackEffect else { continue }
                seen.insert(effect.fallThrough)
                seen.insert(effect.jump)
                #expect(StackEffect(effect.description) == effect, "\(table.major).\(table.minor) \(info)")
            }
        }
        for formula in seen {
            #expect(StackEffectFormula(formula.description) == formula, "\(formula)")
        }
        let unpackEx = try #require(StackEffectFormula("(oparg&0xff)+(oparg>>8)"))
        #expect(unpackEx.evaluate(oparg: 0x0203) == 5)
        #expect(
            unpackEx.fields == [
                .init(coefficient: 1, shift: 0, mask: 0xff), .init(coefficient: 1, shift: 8, mask: nil),
            ])
        #expect(StackEffectFormula("oparg==3?-2:-1")?.evaluate(oparg: 3) == -2)
        #expect(StackEffectFormula("oparg==3?-2:-1")?.evaluate(oparg: 4) == -1)
        #expect(StackEffectFormula("-1-((oparg>>1)&1)")?.evaluate(oparg: 2) == -2)
        #expect(StackEffectFormula("1-2*oparg")?.evaluate(oparg: 5) == -9)
        #expect(StackEffectFormula("-7")?.isConstant == true)
        #expect(StackEffect("1/-1")?.value(oparg: 0, jump: nil) == 1)
        #expect(StackEffect("1/-1")?.value(oparg: 0, jump: true) == -1)
        for bad in ["", "oparg+", "1--oparg", "2*", "(oparg>>)", "oparg==3?-2", "x", "1 - oparg", "1/2/3"] {
            #expect(StackEffect(bad) == nil, "\(bad)")
        }
        // Large opargs never trap.
        #expect(StackEffectFormula("1-2*oparg")?.evaluate(oparg: Int.max) != nil)
    }

    @Test("2.7: every opcode but STOP_CODE has a hand-written stack effect")
    func handWrittenStackEffectsAreComplete() throws {
        let v27 = try opcodeTable(.v2_7)
        #expect(v27.hasDirectionalStackEffects)
        let missing = v27.opcodes.filter { $0.stackEffect == nil }.map(\.name)
        #expect(missing == ["STOP_CODE"])
    }

    // MARK: - Generator

    static let python3Available = (try? Interpreters.run(["python3", "--version"]).status) == 0

    @Test(
        "Scripts/opcodes/generate.py --check: the generated Swift is current",
        .enabled(if: python3Available, "no python3 on PATH: cannot run Scripts/opcodes/generate.py --check"))
    func generatorCheck() throws {
        let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("Scripts/opcodes/generate.py").path
        let result = try Interpreters.run(["python3", script, "--check"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    // MARK: - Against the interpreters

    @Test("the table agrees with the interpreter's opcode and dis modules", arguments: PythonVersion.all)
    func agreesWithInterpreter(version: PythonVersion) throws {
        let python = try installedPython(version)
        let table = try opcodeTable(version)
        let output = try Interpreters.run([python, "-c", Self.crossCheckScript])
        try #require(output.status == 0, "\(output.stderr)")
        let facts = try #require(
            try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "JSON from \(python)")
        #expect(facts["version"] as? String == version.description)
        #expect(facts["have_argument"] as? Int == table.haveArgument)
        #expect(facts["extended_arg"] as? Int == Int(table.extendedArg))
        #expect(facts["cmp_op"] as? [String] == table.cmpOp)
        #expect(
            (facts["nb_ops"] as? [[String]])?.map { $0.joined(separator: " ") }
                == table.binaryOps.map { "\($0.name) \($0.symbol)" })

        let rows = try #require(facts["rows"] as? [[String: Any]])
        #expect(rows.count == table.opcodes.count, "number of opcodes")
        for row in rows {
            let name = try #require(row["name"] as? String)
            guard let info = table[name] else {
                Issue.record("\(version): \(name) missing from the table")
                continue
            }
            #expect(row["code"] as? Int == info.code, "\(version) \(name)")
            #expect(row["arg"] as? Bool == info.hasArgument, "\(version) \(name) takes an argument")
            #expect(row["cache"] as? Int == info.cacheEntries, "\(version) \(name) cache entries")
            #expect(row["deopt"] as? String == info.deoptName, "\(version) \(name) deopt")
            let categories = (row["categories"] as? [String] ?? []).compactMap(
                OpcodeInfo.ArgumentCategories.init(name:))
            #expect(OpcodeInfo.ArgumentCategories(categories) == info.categories, "\(version) \(name) categories")
        }

        let effects = try #require(facts["effects"] as? [[Any]])
        #expect(effects.isEmpty == (version == .v2_7), "2.7 has no dis.stack_effect")
        var checked = 0
        for effect in effects {
            let code = try #require(effect[0] as? Int)
            let oparg = effect[1] as? Int
            let jump = effect[2] as? Bool
            let expected = effect[3] as? Int
            let info = table.opcode(code: code)
            let actual = info?.stackEffect?.value(oparg: oparg ?? 0, jump: jump)
            let direction = jump.map { $0 ? "jump" : "fall-through" } ?? "max"
            #expect(actual == expected, "\(version) \(info?.name ?? "\(code)") oparg \(oparg ?? 0) \(direction)")
            checked += 1
        }
        print("\(version): \(rows.count) opcodes and \(checked) stack effects agree with \(python)")
    }

    @Test(
        "2.7: hand-written stack effects reproduce co_stacksize",
        .enabled(if: Interpreters.python(.v2_7) != nil, "no Python 2.7 interpreter installed"))
    func stackEffects27AgainstStacksize() throws {
        let python = try installedPython(.v2_7)
        let table = try opcodeTable(.v2_7)
        let output = try Interpreters.run([python, "-c", Self.stacksizeScript27])
        try #require(output.status == 0, "\(output.stderr)")
        var snippets = 0
        var sweep = 0
        var sweepExact = 0
        var larger: [String] = []
        for line in output.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 4, "bad line \(line)")
            let (kind, name, declared, code) = (fields[0], fields[1], Int(fields[2]) ?? -1, Hex.decode(fields[3]))
            let computed = try #require(Self.stackDepth27(code: code, table: table), "\(name): undecodable")
            if computed > declared { larger.append("\(name): computed \(computed), declared \(declared)") }
            if kind == "snippet" {
                snippets += 1
                #expect(computed == declared, "\(name): computed \(computed), co_stacksize \(declared)")
            } else {
                sweep += 1
                if computed == declared { sweepExact += 1 }
            }
        }
        #expect(larger.isEmpty, "the peephole optimizer only ever lowers what code needs: \(larger.prefix(10))")
        #expect(snippets >= 30)
        // The sweep compiles 2.7's own Lib/*.py: the peephole optimizer runs after the depth pass and folds constants,
        // so a few code objects declare more than their final code needs; none may need more.
        #expect(sweep > 5_000 && Double(sweepExact) >= 0.98 * Double(sweep), "\(sweepExact) of \(sweep) exact")
        print("2.7 co_stacksize: \(snippets) snippets exact; stdlib sweep \(sweepExact) of \(sweep) exact, none larger")
    }

    // MARK: - Helpers

    private func opcodeTable(_ version: PythonVersion) throws -> OpcodeTable {
        try #require(OpcodeTable.forVersion(major: version.major, minor: version.minor), "no table for \(version)")
    }

    /// The interpreter for `version`, or a visible skip (printed and cancelled) when it is not installed.
    private func installedPython(_ version: PythonVersion) throws -> String {
        guard let python = Interpreters.python(version) else {
            print(Interpreters.missingMessage(version))
            try Test.cancel(Comment(rawValue: Interpreters.missingMessage(version)))
        }
        return python
    }

    /// The largest stack depth of 2.7 bytecode as 2.7's `stackdepth_walk()` computes it, replayed on the final code:
    /// blocks start at 0, at jump targets and after jumps; a block is walked when it is not on the current path and
    /// is reached deeper than before; each instruction adds its fall-through effect, each jump walks its target with
    /// the jump effect, `JUMP_ABSOLUTE`/`JUMP_FORWARD` end the path, a block's end falls into the next block.
    /// Written with an explicit stack of frames (CPython recurses). Nil when the code does not decode.
    static func stackDepth27(code: [UInt8], table: OpcodeTable) -> Int? {
        var instructions: [(start: Int, info: OpcodeInfo, oparg: Int, next: Int)] = []
        var index = 0
        var start = 0
        var extended = 0
        while index < code.count {
            let opcode = code[index]
            var oparg = 0
            var size = 1
            if table.hasArgument(opcode: opcode) {
                guard index + 2 < code.count else { return nil }
                oparg = Int(code[index + 1]) | Int(code[index + 2]) << 8 | extended
                size = 3
            }
            index += size
            if opcode == table.extendedArg {
                extended = oparg << 16
                continue
            }
            guard let info = table[opcode], info.stackEffect != nil else { return nil }
            instructions.append((start, info, oparg, index))
            extended = 0
            start = index
        }
        var position: [Int: Int] = [:]
        for (number, instruction) in instructions.enumerated() { position[instruction.start] = number }
        func target(_ number: Int) -> Int? {
            let instruction = instructions[number]
            guard !instruction.info.categories.isDisjoint(with: .jump) else { return nil }
            let offset =
                instruction.info.categories.contains(.jrel)
                ? instruction.next + instruction.oparg
                : instruction.oparg
            return position[offset] ?? -1
        }
        var leaders: Set<Int> = [0]
        for number in instructions.indices {
            guard let destination = target(number) else { continue }
            guard destination >= 0 else { return nil }
            leaders.insert(destination)
            if number + 1 < instructions.count { leaders.insert(number + 1) }
        }
        let starts = leaders.sorted()
        let ends = Array(starts.dropFirst()) + [instructions.count]
        var blockOf: [Int: Int] = [:]
        for (block, first) in starts.enumerated() { blockOf[first] = block }

        struct Frame {
            var block: Int
            var next: Int
            var depth: Int
            var endsPath = false
            var fellThrough = false
        }
        var seen = [Bool](repeating: false, count: starts.count)
        var startDepth = [Int](repeating: Int.min, count: starts.count)
        var frames: [Frame] = []
        var maximum = 0
        func enter(_ block: Int, _ depth: Int) {
            guard !seen[block], startDepth[block] < depth else { return }
            seen[block] = true
            startDepth[block] = depth
            frames.append(Frame(block: block, next: starts[block], depth: depth))
        }
        enter(0, 0)
        while var frame = frames.popLast() {
            if frame.endsPath || (frame.fellThrough && frame.next == ends[frame.block]) {
                seen[frame.block] = false
                continue
            }
            if frame.next < ends[frame.block] {
                let number = frame.next
                let instruction = instructions[number]
                let effect = instruction.info.stackEffect!
                let before = frame.depth
                frame.next += 1
                frame.depth = before + effect.fallThrough.evaluate(oparg: instruction.oparg)
                maximum = max(maximum, frame.depth)
                if let destination = target(number) {
                    let targetDepth = before + effect.jump.evaluate(oparg: instruction.oparg)
                    maximum = max(maximum, targetDepth)
                    frame.endsPath = ["JUMP_ABSOLUTE", "JUMP_FORWARD"].contains(instruction.info.name)
                    frames.append(frame)
                    enter(blockOf[destination]!, targetDepth)
                } else {
                    frames.append(frame)
                }
            } else {
                frame.fellThrough = true
                frames.append(frame)
                if frame.block + 1 < starts.count { enter(frame.block + 1, frame.depth) }
            }
        }
        return maximum
    }

    /// Prints the interpreter's opcode facts as JSON (2.7-compatible): names and numbers (specialized ones included),
    /// argument flag (a specialized opcode's base's, as `dis` decodes), cache entries, categories, deopt bases, and
    /// `dis.stack_effect` for each opcode at a spread of opargs, per direction from 3.8.
    static let crossCheckScript = """
        import dis, json, opcode, sys
        V = sys.version_info[:2]
        ops = {}
        for code, name in enumerate(getattr(dis, "_all_opname", None) or opcode.opname):
            if not name.startswith("<"):
                ops[name] = code
        for name, code in opcode.opmap.items():
            ops.setdefault(name, code)
        deopt = getattr(dis, "deoptmap", {})
        hasarg = set(opcode.hasarg) if hasattr(opcode, "hasarg") else None
        def raw_arg(code):
            return (code in hasarg) if hasarg is not None else code >= opcode.HAVE_ARGUMENT
        entries = getattr(opcode, "_inline_cache_entries", None)
        def cache(name):
            base = deopt.get(name, name)
            if entries is None:
                return 0
            if isinstance(entries, dict):
                return entries.get(base, 0)
            return entries[ops[base]] if ops[base] < len(entries) else 0
        rows = []
        for name, code in sorted(ops.items()):
            cats = [c for c in ("const", "name", "jrel", "jabs", "local", "free", "compare", "nargs", "exc")
                    if code in getattr(opcode, "has" + c, ())]
            rows.append({"name": name, "code": code, "arg": raw_arg(ops[deopt.get(name, name)]),
                         "cache": cache(name), "categories": cats, "deopt": deopt.get(name)})
        effects = []
        if hasattr(dis, "stack_effect"):
            directional = V >= (3, 8)
            for name, code in sorted(ops.items()):
                opargs = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 255, 256, 257, 258, 511, 1000, 65535, 65793, 1 << 20]
                for oparg in (opargs if raw_arg(code) else [None]):
                    for jump in ([False, True] if directional else [None]):
                        try:
                            if directional:
                                value = dis.stack_effect(code, oparg, jump=jump)
                            else:
                                value = dis.stack_effect(code, oparg)
                        except ValueError:
                            value = None
                        effects.append([code, oparg, jump, value])
        print(json.dumps({"version": "%d.%d" % V, "have_argument": opcode.HAVE_ARGUMENT,
                          "extended_arg": opcode.EXTENDED_ARG, "cmp_op": list(opcode.cmp_op),
                          "nb_ops": [list(p) for p in getattr(opcode, "_nb_ops", [])],
                          "rows": rows, "effects": effects}))
        """

    /// Prints `kind name co_stacksize co_code-hex` for every code object of small snippets covering each statement
    /// form, then of every module in 2.7's own `Lib/*.py` (Python 2.7 only).
    static let stacksizeScript27 = #"""
        import binascii, glob, os, types
        SNIPPETS = [
            "def f(a, b): return a + b * 2 - a / b",
            "def f(x):\n    for i in x:\n        print i, x\n",
            "def f(x):\n    try:\n        g(x)\n    except (KeyError, ValueError) as e:\n"
            "        h(e)\n    else:\n        k()\n",
            "def f(x):\n    try:\n        return g(x)\n    finally:\n        h()\n",
            "def f(p):\n    with open(p) as a, open(p) as b:\n        return a.read() + b.read()\n",
            "def f(x): return [i * j for i in x for j in x if i if j]",
            "def f(x): return {i: j for i, j in x}, {i for i in x}",
            "def f(x): return (i for i in x)",
            "def f(x):\n    def g(y=1, *a, **k): return x + y\n    return g\n",
            "def f(x): return lambda a, b=x, *c: a + b",
            "def f(g, a, k): return g(1, 2, x=3, *a, **k), g(*a), g(**k), g(1, y=2)",
            "def f(a, i, j, v):\n    a[i:j] = v\n    del a[i:]\n    return a[:j], a[i:j], a[:], a[i:j:2]\n",
            "def f(f, x):\n    print >>f, x, x\n    print >>f\n",
            "def f(c, g, l): exec c in g, l",
            "class C(object):\n    x = 1\n    def m(self): return self.x\n",
            "def f(a, b, c): return a < b < c, a if b else c, not a",
            "def f(a, b): return a and b or not a and not b",
            "def f(x):\n    while x:\n        if x > 3: break\n        if x < 0: continue\n"
            "        x -= 1\n    else:\n        x = 9\n    return x\n",
            "def f(x):\n    raise ValueError, x\n",
            "def f():\n    from os import path, sep\n    import sys\n    return path, sep, sys\n",
            "def f(x):\n    a, (b, c), d = x\n    return a, b, c, d\n",
            "def f(x):\n    yield x\n    y = yield\n    yield y\n",
            "def f(x):\n    assert x, 'no'\n    global G\n    G = x\n    del G\n",
            "def f(d, k, v):\n    d[k] = v\n    d[k] += v\n    d.a += v\n    del d[k]\n",
            "def f(x):\n    return {1: x, 2: x, 3: x}, [x, x, x], (x, x, x), {x, x}\n",
            "def f(x):\n    for a, b in x:\n        try:\n            continue\n        finally:\n            pass\n",
            "def f(x):\n    return `x`, -x, +x, ~x, x ** 2, x // 2, x % 2, x << 1, x >> 1, x & 1, x | 1, x ^ 1\n",
            "def f(x, y):\n    x[1:2] += y\n    x[::2] = y\n    return x[1:2:3]\n",
            "def f(x):\n    try:\n        try:\n            a\n        except:\n            raise\n"
            "    finally:\n        b\n",
            "def f(*a, **k):\n    return [[i for i in a] for j in k]\n",
            "def f(o):\n    o.a, o.b = o.b, o.a\n    o.a, o.b, o.c = o.c, o.b, o.a\n    return o\n",
            "def f(x):\n    with x:\n        with x as (a, b):\n            return a\n",
            "def f(n):\n    return [f(i) for i in range(n) if i % 2] + list(range(3))\n",
        ]
        def walk(code, prefix):
            yield prefix + code.co_name, code
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    for item in walk(const, prefix + code.co_name + "."):
                        yield item
        def emit(kind, tag, source):
            for name, code in walk(compile(source, tag, "exec"), tag + ":"):
                print("%s %s %d %s" % (kind, name.replace(" ", "_"), code.co_stacksize,
                                       binascii.hexlify(code.co_code).decode()))
        for number, source in enumerate(SNIPPETS):
            emit("snippet", "s%d" % number, source)
        for path in sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py"))):
            try:
                source = open(path).read()
                compile(source, path, "exec")
            except Exception:
                continue
            emit("sweep", os.path.basename(path), source)
        """#
}
