import Foundation
import PycKitTestSupport
import Testing

@testable import PycKit

/// `PythonVersion.stackDepth(of:handlers:flags:)` against `co_stacksize`: every code object of every corpus,
/// snippets compiled by each interpreter, and hand-made broken code for each finding.
@Suite("Stack depth")
struct StackDepthTests {
    // MARK: - Corpus survey

    /// How many code objects of the corpus (the stdlib with `Lib/test`, `Scripts/corpus.sh`) may declare a larger
    /// co_stacksize than computed, measured: in all, and among those whose every instruction is reached. None may
    /// declare a smaller one.
    ///
    /// * 2.7–3.9: the peephole optimizer ran after the depth pass and folded constant tuples and expressions (every
    ///   such code object holds a foldable constant; 3.6 also drops code after a `return`).
    /// * 3.10: none.
    /// * 3.11–3.13: only code with an unreachable handler (a `try` whose body compiled to nothing, all in `Lib/test`):
    ///   the compiler counted the handler from its `SETUP_*` pseudo-instruction, the pyc has no covered instruction.
    /// * 3.13 also: code that needs no stack at all stores 1, as no 3.13 code object stores 0: functions that are a
    ///   bare `raise` (formats.md §6; the two in `shutil`, ten in `Lib/test`) and one empty endless loop.
    static func limits(_ version: PythonVersion) -> (smaller: Int, smallerReachable: Int) {
        switch version {
        case .v2_7: return (1056, 990)
        case .v3_6: return (1447, 1421)
        case .v3_7: return (96, 96)
        case .v3_8: return (100, 100)
        case .v3_9: return (108, 108)
        case .v3_10: return (0, 0)
        case .v3_11: return (25, 0)
        case .v3_12: return (26, 0)
        default: return (37, 12)
        }
    }

    @Test("computed depth vs co_stacksize over the corpus", arguments: PythonVersion.all)
    func corpusSurvey(version: PythonVersion) throws {
        let files = try Require.corpus(version)
        let clock = ContinuousClock()
        let started = clock.now
        let parts = TableTestKit.Locked([Survey?](repeating: nil, count: files.count))
        let failures = TableTestKit.Locked([String]())
        DispatchQueue.concurrentPerform(iterations: files.count) { number in
            let path = files[number]
            let file = path.split(separator: "/").last.map(String.init) ?? path
            do {
                let pyc = try PycFile(bytes: FileIO.read(path))
                guard pyc.version == version else { throw TestSupportError("\(path): a \(pyc.version) file") }
                var survey = Survey()
                try StackDepthInput.forEachCode(in: pyc.object) { code in
                    try survey.add(code, file: file, version: version)
                }
                parts.mutate { $0[number] = survey }
            } catch {
                failures.mutate { $0.append("\(path): \(error)") }
            }
        }
        let survey = parts.value.reduce(into: Survey()) { $0.merge($1 ?? Survey()) }
        print("\(version) stack depth: \(survey) (\(clock.now - started))")
        for dump in survey.dumps { print(dump) }
        #expect(failures.value.isEmpty, "\(failures.value.prefix(5))")
        #expect(survey.codeObjects > 10_000)
        #expect(survey.greater.isEmpty, "computed > co_stacksize: \(survey.greater.prefix(10))")
        #expect(survey.findings.isEmpty, "findings: \(survey.findings.prefix(10))")
        #expect(survey.assemblerDiffers.isEmpty, "assembler's maximum differs: \(survey.assemblerDiffers.prefix(10))")
        let limits = Self.limits(version)
        #expect(
            survey.smaller.count <= limits.smaller,
            "computed < co_stacksize: \(survey.smaller.prefix(10))")
        #expect(
            survey.smallerReachable.count <= limits.smallerReachable,
            "computed < co_stacksize, every instruction reached: \(survey.smallerReachable.prefix(10))")
        if version == .v3_13 {
            #expect(
                survey.smallerReachable.count == survey.needingNoStack,
                "3.13: every reachable code object declaring more needs no stack: \(survey.smallerReachable)")
        }
    }

    /// One code object or many: counts, and names for messages.
    struct Survey: CustomStringConvertible {
        var codeObjects = 0
        var equal = 0
        /// Code objects declaring more than computed.
        var smaller: [String] = []
        /// Those of `smaller` whose every instruction is reached (CPython did not count code the pyc cannot run).
        var smallerReachable: [String] = []
        /// Those of `smallerReachable` that compute 0 and declare 1.
        var needingNoStack = 0
        var greater: [String] = []
        var findings: [String] = []
        /// Code objects whose ``PythonVersion/maxStackDepth(of:handlers:flags:storage:)`` differs.
        var assemblerDiffers: [String] = []
        /// Reused by each code object's `maxStackDepth`, as in the assembler.
        var storage = StackDepthStorage()
        /// Readable dumps of the first code objects computed greater or with findings.
        var dumps: [String] = []

        mutating func add(_ code: CodeObject, file: String, version: PythonVersion) throws {
            let input = try StackDepthInput(code, version: version)
            let (computed, found) = version.stackDepth(
                of: input.instructions, handlers: input.handlers, flags: code.flags)
            let declared = Int(code.stacksize)
            let name = "\(file):\(code.nameText)"
            codeObjects += 1
            if computed == declared {
                equal += 1
            } else if computed < declared {
                smaller.append("\(name) \(computed) < \(declared)")
                let depths = version.stackDepthsBefore(
                    of: input.instructions, handlers: input.handlers, flags: code.flags)
                if !depths.contains(nil) {
                    smallerReachable.append("\(name) \(computed) < \(declared)")
                    if computed == 0, declared == 1 { needingNoStack += 1 }
                }
            } else {
                greater.append("\(name) \(computed) > \(declared)")
            }
            findings.append(contentsOf: found.map { "\(name): \($0)" })
            let assembler = version.maxStackDepth(
                of: StackDepthColumns(input.instructions), handlers: input.handlers, flags: code.flags,
                storage: &storage)
            if assembler != computed { assemblerDiffers.append("\(name) \(assembler) != \(computed)") }
            if (computed > declared || !found.isEmpty) && dumps.count < 3 {
                dumps.append(name + "\n" + input.dump(version: version, flags: code.flags))
            }
        }

        mutating func merge(_ other: Survey) {
            codeObjects += other.codeObjects
            equal += other.equal
            smaller += other.smaller
            smallerReachable += other.smallerReachable
            needingNoStack += other.needingNoStack
            greater += other.greater
            findings += other.findings
            assemblerDiffers += other.assemblerDiffers
            dumps += other.dumps.prefix(max(0, 3 - dumps.count))
        }

        var description: String {
            "\(codeObjects) code objects, \(equal) equal, \(smaller.count) smaller than declared "
                + "(\(smallerReachable.count) with every instruction reached), \(greater.count) greater, "
                + "\(findings.count) findings"
        }
    }

    // MARK: - Snippets compiled by each interpreter

    /// A source with the oldest and newest version that compiles it.
    struct Snippet {
        var from: PythonVersion
        var to: PythonVersion
        var source: String
        init(_ from: PythonVersion, _ to: PythonVersion, _ source: String) {
            self.from = from
            self.to = to
            self.source = source
        }
    }

    /// Together the snippets take every rule of formats.md §6: loops, every kind of try, with, async, generators,
    /// comprehensions, short-circuit chains, match, except*. None folds constants, so co_stacksize is exact even where
    /// the optimizer runs after the depth pass.
    static let snippets: [Snippet] = [
        // 3.13: RETURN_CONST counts as LOAD_CONST + RETURN_VALUE (1), the generators' entry depth (3.10–3.12).
        Snippet(
            .v2_7, .v3_13,
            """
            def f():
                pass
            def g():
                yield
            """),
        Snippet(
            .v3_6, .v3_13,
            """
            async def h():
                pass
            async def i():
                yield
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(a, b, c):
                return a < b < c, (a if b else c), [a, b][c:], {a: b, c: a}
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x):
                for i in x:
                    with i as j:
                        try:
                            if j:
                                return j
                            break
                        finally:
                            del j
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(a, b):
                return a and b or not a
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x):
                for i in x:
                    for j in i:
                        if j: break
                        g(i, j)
                else:
                    return 1
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x):
                while x:
                    try:
                        g(x)
                    except E as e:
                        h(e)
                        continue
                    except:
                        raise
                    else:
                        x -= 1
                    finally:
                        k()
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x):
                try:
                    return g(x)
                finally:
                    h(x)
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x):
                with x as (a, b):
                    with a, b:
                        return g(a, b)
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x):
                y = yield x
                for i in x:
                    yield i, y
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x):
                return [i for i in x if i], {i: j for i, j in x}, (i for i in x), {i for i in x}
            """),
        Snippet(
            .v2_7, .v3_13,
            """
            def f(x, y):
                return g(x, y, *x, **y), x[1:2], x[y:], h(a=x, b=y)
            """),
        Snippet(
            .v2_7, .v3_10,
            """
            def f(x):
                try:
                    pass
                except E:
                    return 1
                return 2
            """),
        Snippet(
            .v2_7, .v3_12,
            """
            def f():
                raise
            """),
        Snippet(
            .v3_6, .v3_13,
            """
            def f(x):
                yield from g(x)
                return (yield)
            """),
        Snippet(
            .v3_6, .v3_13,
            """
            async def f(x):
                yield x
                await x
            """),
        Snippet(
            .v3_6, .v3_13,
            """
            def f(x):
                return f'{x!r:>{x}} {x}'
            """),
        Snippet(
            .v3_6, .v3_13,
            """
            class C:
                def m(self):
                    return super().m(), __class__
            """),
        Snippet(
            .v3_7, .v3_13,
            """
            async def f(x):
                async with x as y:
                    async for i in y:
                        await g(i)
                return [j async for j in x]
            """),
        Snippet(
            .v3_8, .v3_13,
            """
            def f(x):
                count = 0
                while count < 100:
                    count += 1
                    try:
                        return count
                    finally:
                        if x:
                            continue
                return 'end', count
            """),
        Snippet(
            .v3_8, .v3_13,
            """
            def f(x):
                for i in x:
                    try:
                        g(i)
                    finally:
                        break
            """),
        Snippet(
            .v3_10, .v3_13,
            """
            def f(x):
                match x:
                    case [a, *b, c] if a: return b
                    case {'k': v, **r}: return v, r
                    case C(p, q=1) | D(p): return p
                    case _: return None
            """),
        Snippet(
            .v3_11, .v3_13,
            """
            def f(x):
                try:
                    g(x)
                except* ValueError as e:
                    h(e)
                except* TypeError:
                    pass
            """),
    ]

    @Test("snippets: computed depth equals co_stacksize, no findings", arguments: PythonVersion.all)
    func snippets(version: PythonVersion) throws {
        try Require.interpreter(version)
        let sources = Self.snippets.filter { $0.from <= version && version <= $0.to }.map { $0.source + "\n" }
        let output = try Interpreters.runPython(
            version, Self.compileScript, stdin: Array(sources.joined(separator: "\u{0}").utf8))
        try #require(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n")
        try #require(lines.count == sources.count, "\(output.stdout)")
        var checked = 0
        for (source, line) in zip(sources, lines) {
            let module = try MarshalReader(version: version).loads(Hex.decode(String(line)))
            try StackDepthInput.forEachCode(in: module) { code in
                let input = try StackDepthInput(code, version: version)
                let (depth, findings) = version.stackDepth(
                    of: input.instructions, handlers: input.handlers, flags: code.flags)
                #expect(
                    depth == Int(code.stacksize) && findings.isEmpty,
                    "\(version) \(code.nameText): computed \(depth), co_stacksize \(code.stacksize), findings \(findings)\n\(source)\n\(input.dump(version: version, flags: code.flags))"
                )
                checked += 1
            }
        }
        print("\(version) stack depth: \(sources.count) snippets, \(checked) code objects exact")
    }

    /// Reads NUL-separated sources on stdin and prints each compiled module's marshal bytes as hex (2.7-compatible).
    static let compileScript = """
        import binascii, marshal, sys
        data = sys.stdin.read()
        for source in data.split("\\0") if data else []:
            print(binascii.hexlify(marshal.dumps(compile(source, "<snippet>", "exec"))).decode())
        """

    // MARK: - Hand-made code: one test per finding, hostile input

    /// Instructions from rows `(opcode name, oparg, jump target, handler)`; the first name the version knows wins
    /// where a row offers alternatives separated by `|`.
    static func code(
        _ version: PythonVersion, _ rows: [(String, Int, Int?, Int?)]
    ) throws -> [StackDepthInstruction] {
        try rows.map { name, oparg, target, handler in
            let byte = name.split(separator: "|").lazy.compactMap { version.opcodes[String($0)]?.byte }.first
            return StackDepthInstruction(
                opcode: try #require(byte, "\(version) has no \(name)"), oparg: oparg, jumpTarget: target,
                handler: handler)
        }
    }

    /// The maximum as the assembler computes it (``PythonVersion/maxStackDepth(of:handlers:flags:storage:)``, with
    /// `storage` reused), expected to equal ``PythonVersion/stackDepth(of:handlers:flags:)``'s.
    static func expectAssemblerDepth(
        _ version: PythonVersion, _ code: [StackDepthInstruction], _ handlers: [StackDepthHandler] = [],
        flags: Int32 = 0, equal depth: Int, storage: inout StackDepthStorage
    ) {
        let assembler = version.maxStackDepth(
            of: StackDepthColumns(code), handlers: handlers, flags: flags, storage: &storage)
        #expect(assembler == depth, "\(version): \(code.count) instructions")
    }

    static let conditionalJump = "POP_JUMP_IF_FALSE|POP_JUMP_FORWARD_IF_FALSE"
    static let backwardJump = "JUMP_BACKWARD|JUMP_ABSOLUTE"

    @Test("underflow: popping an empty stack", arguments: PythonVersion.all)
    func underflow(version: PythonVersion) throws {
        let code = try Self.code(
            version, [("POP_TOP", 0, nil, nil), ("LOAD_CONST", 0, nil, nil), ("RETURN_VALUE", 0, nil, nil)])
        let (depth, findings) = version.stackDepth(of: code, handlers: [], flags: 0)
        #expect(findings == [StackDepthFinding(.underflow(depth: -1), at: 0)])
        #expect(depth == 0, "CPython's walk goes on below 0: -1, 0, -1")
        #expect(findings.first?.description == "instruction 0: stack underflow (depth -1)")
    }

    @Test("inconsistent depth: a merge point reached with 0 and with 1", arguments: PythonVersion.all)
    func inconsistentDepth(version: PythonVersion) throws {
        // 0 LOAD_CONST; 1 jump to 3 if false (depth 0 there); 2 LOAD_CONST; 3 reached with 1 by falling through.
        let code = try Self.code(
            version,
            [
                ("LOAD_CONST", 0, nil, nil), (Self.conditionalJump, 0, 3, nil), ("LOAD_CONST", 0, nil, nil),
                ("LOAD_CONST", 0, nil, nil), ("RETURN_VALUE", 0, nil, nil),
            ])
        let (depth, findings) = version.stackDepth(of: code, handlers: [], flags: 0)
        #expect(depth == 2, "the deeper arrival counts")
        var storage = StackDepthStorage()
        Self.expectAssemblerDepth(version, code, equal: depth, storage: &storage)
        // 3.9+ compilers keep merges consistent (3.12+ refuse otherwise); 2.7–3.8 count worst cases.
        let expected = version >= .v3_9 ? [StackDepthFinding(.inconsistentDepth(expected: 0, found: 1), at: 3)] : []
        #expect(findings == expected)
    }

    @Test(
        "handler deeper than the stack it covers; handler targets start at depth + 1 + lasti",
        arguments: PythonVersion.all.filter(\.hasExceptionTable))
    func handlerDepth(version: PythonVersion) throws {
        let code = try Self.code(
            version,
            [("LOAD_CONST", 0, nil, 0), ("RETURN_VALUE", 0, nil, nil), ("RETURN_VALUE", 0, nil, nil)])
        let (depth, findings) = version.stackDepth(
            of: code, handlers: [StackDepthHandler(target: 2, depth: 2, lasti: true)], flags: 0)
        #expect(findings == [StackDepthFinding(.handlerDepthTooDeep(handlerDepth: 2, stackDepth: 0), at: 0)])
        #expect(depth == 4)
        // A handler of depth 0 is fine, and only reached instructions lead to it.
        let fine = try Self.code(
            version,
            [
                ("LOAD_CONST", 0, nil, 0), ("RETURN_VALUE", 0, nil, nil), ("LOAD_CONST", 0, nil, 1),
                ("RETURN_VALUE", 0, nil, nil), ("RETURN_VALUE", 0, nil, nil),
            ])
        let handlers = [
            StackDepthHandler(target: 4, depth: 0, lasti: false), StackDepthHandler(target: 4, depth: 5, lasti: true),
        ]
        let result = version.stackDepth(of: fine, handlers: handlers, flags: 0)
        #expect(result.findings.isEmpty && result.maxDepth == 1)
        var storage = StackDepthStorage()
        Self.expectAssemblerDepth(version, fine, handlers, equal: 1, storage: &storage)
    }

    @Test("unknown stack effect: an opcode the version does not define", arguments: PythonVersion.all)
    func unknownStackEffect(version: PythonVersion) throws {
        let byte = try #require(
            (0..<256).map(UInt8.init).first {
                version.opcodes[$0]?.stackEffect == nil && version.opcodes[$0]?.name != "NOP"
            })
        let code =
            [StackDepthInstruction(opcode: byte, oparg: 0, jumpTarget: nil, handler: nil)]
            + (try Self.code(version, [("LOAD_CONST", 0, nil, nil), ("RETURN_VALUE", 0, nil, nil)]))
        let (depth, findings) = version.stackDepth(of: code, handlers: [], flags: 0)
        #expect(findings == [StackDepthFinding(.unknownStackEffect, at: 0)])
        #expect(depth == 1)
    }

    @Test("jumps and handlers that lead nowhere", arguments: PythonVersion.all)
    func jumpOutOfRange(version: PythonVersion) throws {
        let code = try Self.code(
            version,
            [
                ("LOAD_CONST", 0, nil, nil), (Self.conditionalJump, 0, 99, nil), ("LOAD_CONST", 0, nil, nil),
                (Self.conditionalJump, 0, -5, nil), ("LOAD_CONST", 0, nil, nil), ("RETURN_VALUE", 0, nil, nil),
            ])
        let (depth, findings) = version.stackDepth(of: code, handlers: [], flags: 0)
        #expect(
            findings == [
                StackDepthFinding(.jumpOutOfRange(target: 99), at: 1),
                StackDepthFinding(.jumpOutOfRange(target: -5), at: 3),
            ])
        #expect(findings.first?.description == "instruction 1: jump target 99 is not an instruction")
        #expect(depth == 1)
        guard version.hasExceptionTable else { return }
        let covered = try Self.code(
            version,
            [
                ("LOAD_CONST", 0, nil, 7), ("LOAD_CONST", 0, nil, 0), ("LOAD_CONST", 0, nil, 1),
                ("BUILD_TUPLE", 3, nil, nil), ("RETURN_VALUE", 0, nil, nil),
            ])
        let handlers = [
            StackDepthHandler(target: 40, depth: 0, lasti: false),
            StackDepthHandler(target: 4, depth: -1, lasti: false),
        ]
        let result = version.stackDepth(of: covered, handlers: handlers, flags: 0)
        #expect(
            result.findings == [
                StackDepthFinding(.jumpOutOfRange(target: -1), at: 0),
                StackDepthFinding(.jumpOutOfRange(target: 40), at: 1),
                StackDepthFinding(.underflow(depth: -1), at: 2),
            ])
        #expect(result.maxDepth == 3)
        var storage = StackDepthStorage()
        Self.expectAssemblerDepth(version, code, equal: depth, storage: &storage)
        Self.expectAssemblerDepth(version, covered, handlers, equal: 3, storage: &storage)
    }

    @Test("a depth growing around a loop stops with a finding", arguments: PythonVersion.all)
    func growingLoop(version: PythonVersion) throws {
        let code = try Self.code(version, [("LOAD_CONST", 0, nil, nil), (Self.backwardJump, 0, 0, nil)])
        let (depth, findings) = version.stackDepth(of: code, handlers: [], flags: 0)
        var storage = StackDepthStorage()
        Self.expectAssemblerDepth(version, code, equal: depth, storage: &storage)
        if StackDepthTraits.forVersion(version).algorithm == .recursiveWalk {
            // stackdepth_walk never re-enters a block on the current path: CPython's answer is 1.
            #expect(depth == 1 && findings.isEmpty)
        } else {
            #expect(findings.first?.instruction == 0, "\(findings)")
            #expect(findings.allSatisfy { if case .inconsistentDepth = $0.kind { true } else { false } })
            #expect(depth >= 1)
        }
    }

    @Test("hostile opargs and targets never trap", arguments: PythonVersion.all)
    func hostileInput(version: PythonVersion) throws {
        let opargs = [0, 1, 3, -1, 255, 1 << 40, Int.max, Int.min]
        let loadConst = try #require(version.opcodes["LOAD_CONST"]?.byte)
        var runs = 0
        var storage = StackDepthStorage()
        for opcode in 0..<256 {
            for oparg in opargs {
                let code = [
                    StackDepthInstruction(opcode: loadConst, oparg: 0, jumpTarget: nil, handler: 0),
                    StackDepthInstruction(
                        opcode: UInt8(opcode), oparg: oparg, jumpTarget: oparg & 3, handler: oparg & 1),
                    StackDepthInstruction(opcode: UInt8(opcode), oparg: oparg, jumpTarget: 1, handler: nil),
                ]
                let handlers = [
                    StackDepthHandler(target: 0, depth: Int.max, lasti: true),
                    StackDepthHandler(target: Int.min, depth: Int.min, lasti: false),
                ]
                let (depth, _) = version.stackDepth(
                    of: code, handlers: handlers, flags: Int32(truncatingIfNeeded: oparg))
                #expect(depth >= 0)
                Self.expectAssemblerDepth(
                    version, code, handlers, flags: Int32(truncatingIfNeeded: oparg), equal: depth, storage: &storage)
                runs += 1
            }
        }
        #expect(runs == 256 * opargs.count)
    }

    @Test("100,000 instructions: linear, without recursion", arguments: PythonVersion.all)
    func largeCode(version: PythonVersion) throws {
        let ops = try Self.code(
            version,
            [
                ("LOAD_CONST", 0, nil, nil), ("POP_TOP", 0, nil, nil), (Self.conditionalJump, 0, nil, nil),
                ("RETURN_VALUE", 0, nil, nil),
            ]
        ).map(\.opcode)
        func instruction(_ opcode: UInt8, to target: Int? = nil) -> StackDepthInstruction {
            StackDepthInstruction(opcode: opcode, oparg: 0, jumpTarget: target, handler: nil)
        }
        let (load, pop, jump, ret) = (ops[0], ops[1], ops[2], ops[3])
        // 40,000 pushes, 40,000 pops, then 10,000 conditional jumps all to the end.
        var code =
            Array(repeating: instruction(load), count: 40_000) + Array(repeating: instruction(pop), count: 40_000)
        let end = code.count + 20_000
        for _ in 0..<10_000 { code += [instruction(load), instruction(jump, to: end)] }
        code += [instruction(load), instruction(ret)]
        let (depth, findings) = version.stackDepth(of: code, handlers: [], flags: 0)
        #expect(depth == 40_000)
        #expect(findings.isEmpty, "\(findings.prefix(3))")
        var storage = StackDepthStorage()
        Self.expectAssemblerDepth(version, code, equal: depth, storage: &storage)
        // One long block reached ever deeper, 10,000 times: the worklist walks it once (with the deepest arrival),
        // 2.7/3.6's depth-first replay stops after 64 walks and falls back to the bound.
        var deeper: [StackDepthInstruction] = []
        for _ in 0..<10_000 { deeper += [instruction(load), instruction(load), instruction(jump, to: 30_000)] }
        deeper += Array(repeating: instruction(load), count: 10_000) + [instruction(ret)]
        let result = version.stackDepth(of: deeper, handlers: [], flags: 0)
        #expect(result.maxDepth >= 20_000)
        Self.expectAssemblerDepth(version, deeper, equal: result.maxDepth, storage: &storage)
    }
}

/// The depth computation's input built from a code object as read: EXTENDED_ARG prefixes folded into the
/// instruction they prefix (which starts at its first prefix), byte targets mapped to instruction indices, and the
/// 3.11+ exception table's entries as handlers.
struct StackDepthInput {
    var instructions: [StackDepthInstruction] = []
    var handlers: [StackDepthHandler] = []

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ code: CodeObject, version: PythonVersion) throws {
        guard case .bytes(let bytes) = code.code.value else { throw Failure(description: "co_code is not bytes") }
        let concrete = try version.decodeInstructions(bytes)
        let extendedArg = version.opcodes.extendedArg
        // The instructions left after folding, and the byte offset each starts at (its first prefix).
        var kept: [ConcreteInstruction] = []
        var starts: [Int] = []
        kept.reserveCapacity(concrete.count)
        starts.reserveCapacity(concrete.count)
        var prefix = -1
        for instruction in concrete {
            if instruction.opcode == extendedArg {
                if prefix < 0 { prefix = instruction.offset }
                continue
            }
            kept.append(instruction)
            starts.append(prefix < 0 ? instruction.offset : prefix)
            prefix = -1
        }
        var indexAt = [Int](repeating: -1, count: bytes.count + 1)
        for index in starts.indices { indexAt[starts[index]] = index }
        func index(ofByte offset: Int) -> Int {
            offset >= 0 && offset < bytes.count ? indexAt[offset] : -1
        }
        var covering = [Int?](repeating: nil, count: kept.count)
        if version.hasExceptionTable, case .bytes(let table) = code.exceptiontable.value, !table.isEmpty {
            let entries = try ExceptionTable.decode(table, codeUnitCount: bytes.count / 2)
            var next = 0
            for number in entries.indices {
                let entry = entries[number]
                handlers.append(
                    StackDepthHandler(target: index(ofByte: entry.targetOffset), depth: entry.depth, lasti: entry.lasti)
                )
                while next > 0 && kept[next - 1].offset >= entry.startOffset { next -= 1 }
                while next < kept.count && kept[next].offset < entry.startOffset { next += 1 }
                var covered = next
                while covered < kept.count && kept[covered].offset < entry.endOffset {
                    covering[covered] = number
                    covered += 1
                }
            }
        }
        instructions.reserveCapacity(kept.count)
        for index in kept.indices {
            let instruction = kept[index]
            instructions.append(
                StackDepthInstruction(
                    opcode: instruction.opcode, oparg: instruction.oparg ?? 0,
                    jumpTarget: version.jumpTarget(of: instruction).map(index(ofByte:)), handler: covering[index]))
        }
    }

    /// One line per instruction: index, opcode name, oparg, jump target, handler, and the settled depth before it.
    func dump(version: PythonVersion, flags: Int32) -> String {
        let depths = version.stackDepthsBefore(of: instructions, handlers: handlers, flags: flags)
        var lines: [String] = []
        for (index, instruction) in instructions.enumerated() {
            let name = version.opcodes[instruction.opcode]?.name ?? "<\(instruction.opcode)>"
            var line = "  \(index) \(name) \(instruction.oparg)"
            if let target = instruction.jumpTarget { line += " -> \(target)" }
            if let handler = instruction.handler { line += " handler \(handler)" }
            line += "  depth \(depths[index].map(String.init) ?? "-")"
            lines.append(line)
        }
        for (index, handler) in handlers.enumerated() {
            lines.append(
                "  handler \(index): -> \(handler.target) depth \(handler.depth)\(handler.lasti ? " lasti" : "")")
        }
        return lines.joined(separator: "\n")
    }

    /// Calls `body` with every code object in `object`, nested ones included (without recursion).
    static func forEachCode(in object: PyObject, _ body: (CodeObject) throws -> Void) rethrows {
        var pending = [object]
        while let next = pending.popLast() {
            switch next.value {
            case .code(let code):
                try body(code)
                pending.append(code.consts)
            default:
                if let items = next.value.items { pending.append(contentsOf: items) }
            }
        }
    }
}
