/// One CPython release's opcode facts: names and numbers, which opcodes take an argument and what kind,
/// inline cache entries and their fields, comparison and binary operator names, and stack effects.
///
/// The data is dumped from each interpreter's `opcode` and `dis` modules by `Scripts/opcodes/dump_opcodes.py`
/// and rendered into `Generated/Opcodes+X_Y.swift` by `Scripts/opcodes/generate.py`; 2.7's stack effects are
/// hand-written in `StackEffects+2_7.swift` because 2.7 has no `dis.stack_effect`. A table is a cheap value:
/// copies share one immutable storage.
public struct OpcodeTable: Sendable {
    private let storage: Storage

    /// The table for CPython `major.minor` (2.7 or 3.6 … 3.13), or nil for a release PycKit does not know.
    public static func forVersion(major: Int, minor: Int) -> OpcodeTable? {
        switch (major, minor) {
        case (2, 7): return .v2_7
        case (3, 6): return .v3_6
        case (3, 7): return .v3_7
        case (3, 8): return .v3_8
        case (3, 9): return .v3_9
        case (3, 10): return .v3_10
        case (3, 11): return .v3_11
        case (3, 12): return .v3_12
        case (3, 13): return .v3_13
        default: return nil
        }
    }

    /// Every table, oldest release first.
    public static var all: [OpcodeTable] { [.v2_7, .v3_6, .v3_7, .v3_8, .v3_9, .v3_10, .v3_11, .v3_12, .v3_13] }

    // MARK: - Release facts

    /// The release's major version (2 or 3).
    public var major: Int { storage.major }

    /// The release's minor version.
    public var minor: Int { storage.minor }

    /// The interpreter the data was dumped from, such as "3.12.1".
    public var interpreterVersion: String { storage.interpreterVersion }

    /// `opcode.HAVE_ARGUMENT`: 90 up to 3.12, 44 in 3.13. Before 3.13 an opcode takes an argument exactly when it
    /// is at least this; in 3.13 use ``OpcodeInfo/hasArgument`` (`WITH_EXCEPT_START`, 44, takes none).
    public var haveArgument: Int { storage.haveArgument }

    /// `opcode.EXTENDED_ARG`: 145 in 2.7, 144 in 3.6 … 3.12, 71 in 3.13.
    public var extendedArg: UInt8 { storage.extendedArg }

    /// The `opcode.has*` lists this release defines (`hasnargs` only in 3.6 … 3.11, `hasexc` from 3.12).
    public var definedCategories: OpcodeInfo.ArgumentCategories { storage.definedCategories }

    /// `opcode.cmp_op`: `COMPARE_OP`'s comparison names (12 up to 3.8, the 6 rich comparisons from 3.9).
    public var cmpOp: [String] { storage.cmpOp }

    /// `opcode._nb_ops`: `BINARY_OP`'s operators indexed by oparg (3.11+; empty before).
    public var binaryOps: [BinaryOperator] { storage.binaryOps }

    /// `opcode._intrinsic_1_descs`: `CALL_INTRINSIC_1`'s function names indexed by oparg (3.12+; empty before).
    public var intrinsic1Names: [String] { storage.intrinsic1Names }

    /// `opcode._intrinsic_2_descs`: `CALL_INTRINSIC_2`'s function names indexed by oparg (3.12+; empty before).
    public var intrinsic2Names: [String] { storage.intrinsic2Names }

    /// Whether stack effects differ by direction: true for 2.7 (hand-written from `stackdepth_walk`) and 3.8+
    /// (`dis.stack_effect(jump=)`), false for 3.6 and 3.7, whose Python API only gives the larger of both, so both
    /// directions of their ``StackEffect`` hold that value.
    public var hasDirectionalStackEffects: Bool { storage.hasDirectionalStackEffects }

    /// Every opcode ordered by code: real, instrumented and specialized ones (< 256), then 3.12+ pseudo-ops.
    public var opcodes: [OpcodeInfo] { storage.opcodes }

    // MARK: - Lookup

    /// The opcode with byte value `opcode`, or nil where the release defines none (O(1)).
    public subscript(opcode: UInt8) -> OpcodeInfo? { storage.byByte[Int(opcode)] }

    /// The opcode called `name` (`opcode.opmap`, plus specialized names), or nil (O(1)).
    public subscript(name: String) -> OpcodeInfo? { storage.byName[name] }

    /// The opcode numbered `code`, including pseudo-ops (>= 256), or nil.
    public func opcode(code: Int) -> OpcodeInfo? {
        if (0..<256).contains(code) { return storage.byByte[code] }
        return storage.pseudoByCode[code]
    }

    /// Whether the code unit or instruction with opcode `opcode` carries an argument, as `dis` decodes it:
    /// a specialized opcode answers for its base; an undefined byte answers `opcode >= HAVE_ARGUMENT`.
    public func hasArgument(opcode: UInt8) -> Bool { storage.hasArgumentByByte[Int(opcode)] }

    /// The inline cache entries (code units) after opcode `opcode`: 0 before 3.11 and for undefined bytes.
    public func cacheEntries(opcode: UInt8) -> Int { Int(storage.cacheEntriesByByte[Int(opcode)]) }

    /// The base opcode a specialized opcode deopts to (`dis._deoptop`), or `opcode` itself.
    public func deoptimized(opcode: UInt8) -> UInt8 { storage.deoptByByte[Int(opcode)] }

    /// The stack effect of `opcode` with `oparg` along the jump (`jump == true`), the fall-through (`false`), or the
    /// larger of both (`nil`), as `dis.stack_effect(opcode, oparg, jump=jump)` gives it; nil where CPython has none
    /// (undefined and specialized opcodes, 3.6/3.7 `NOP` and `EXTENDED_ARG`, `INSTRUMENTED_LINE`). The oparg of an
    /// opcode without an argument is ignored.
    public func stackEffect(opcode: UInt8, oparg: Int, jump: Bool?) -> Int? {
        storage.byByte[Int(opcode)]?.stackEffect?.value(oparg: oparg, jump: jump)
    }

    // MARK: - Building (used by the generated tables)

    /// Assembles a table from the text `Scripts/opcodes/generate.py` renders from `data/X.Y.json`.
    ///
    /// The opcode rows and cache formats are multi-line text, parsed once on first use, because large
    /// array-of-tuple literals compile slowly (seconds per table with optimization). Row format, one opcode per
    /// line: `code name kind arg categories cache deopt stack` (see ``OpcodeRowParser``). `handWrittenStackEffects`
    /// (2.7) holds `name stack` lines with `#` comments and replaces the rows' stack column.
    init(
        major: Int, minor: Int, interpreter: String, haveArgument: Int, extendedArg: UInt8,
        categories: OpcodeInfo.ArgumentCategories, cmpOp: [String], binaryOps: [(String, String)],
        intrinsic1: [String], intrinsic2: [String], cacheFormats: String, directionalStackEffects: Bool,
        handWrittenStackEffects: String? = nil, rows: String
    ) {
        let context = "opcode table \(major).\(minor)"
        storage = Storage(
            major: major, minor: minor, interpreter: interpreter, haveArgument: haveArgument,
            extendedArg: extendedArg, categories: categories, cmpOp: cmpOp, binaryOps: binaryOps,
            intrinsic1: intrinsic1, intrinsic2: intrinsic2,
            cacheFormats: OpcodeRowParser.cacheFormats(cacheFormats, context: context),
            directionalStackEffects: directionalStackEffects,
            handWrittenStackEffects: handWrittenStackEffects.map {
                OpcodeRowParser.stackEffects($0, context: context + " (hand-written stack effects)")
            },
            rows: OpcodeRowParser.rows(rows, context: context))
    }
}

extension OpcodeTable: Hashable, CustomStringConvertible {
    /// Tables are per release: two tables are equal when they describe the same release.
    public static func == (lhs: OpcodeTable, rhs: OpcodeTable) -> Bool {
        lhs.major == rhs.major && lhs.minor == rhs.minor
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
    }

    /// "opcodes of CPython 3.12 (from 3.12.1)".
    public var description: String { "opcodes of CPython \(major).\(minor) (from \(interpreterVersion))" }
}

// MARK: - Supporting types

extension OpcodeTable {
    /// One entry of `opcode._nb_ops`, such as ("NB_INPLACE_ADD", "+=").
    public struct BinaryOperator: Sendable, Hashable {
        /// CPython's name, such as "NB_ADD".
        public let name: String
        /// The operator as `dis` prints it, such as "+".
        public let symbol: String
    }

    /// Immutable storage shared by copies of a table.
    private final class Storage: Sendable {
        let major: Int
        let minor: Int
        let interpreterVersion: String
        let haveArgument: Int
        let extendedArg: UInt8
        let definedCategories: OpcodeInfo.ArgumentCategories
        let cmpOp: [String]
        let binaryOps: [BinaryOperator]
        let intrinsic1Names: [String]
        let intrinsic2Names: [String]
        let hasDirectionalStackEffects: Bool
        let opcodes: [OpcodeInfo]
        let byByte: [OpcodeInfo?]
        let byName: [String: OpcodeInfo]
        let pseudoByCode: [Int: OpcodeInfo]
        let hasArgumentByByte: [Bool]
        let cacheEntriesByByte: [UInt8]
        let deoptByByte: [UInt8]

        init(
            major: Int, minor: Int, interpreter: String, haveArgument: Int, extendedArg: UInt8,
            categories: OpcodeInfo.ArgumentCategories, cmpOp: [String], binaryOps: [(String, String)],
            intrinsic1: [String], intrinsic2: [String], cacheFormats: [String: [OpcodeInfo.CacheField]],
            directionalStackEffects: Bool, handWrittenStackEffects: [String: StackEffect]?,
            rows: [OpcodeRowParser.Row]
        ) {
            self.major = major
            self.minor = minor
            self.interpreterVersion = interpreter
            self.haveArgument = haveArgument
            self.extendedArg = extendedArg
            self.definedCategories = categories
            self.cmpOp = cmpOp
            self.binaryOps = binaryOps.map { BinaryOperator(name: $0.0, symbol: $0.1) }
            self.intrinsic1Names = intrinsic1
            self.intrinsic2Names = intrinsic2
            self.hasDirectionalStackEffects = directionalStackEffects

            let effects = handWrittenStackEffects ?? [:]
            let codesByName = Dictionary(rows.map { ($0.name, $0.code) }, uniquingKeysWith: { first, _ in first })

            var opcodes: [OpcodeInfo] = []
            var byByte = [OpcodeInfo?](repeating: nil, count: 256)
            var byName: [String: OpcodeInfo] = [:]
            var pseudoByCode: [Int: OpcodeInfo] = [:]
            var previousCode = -1
            for row in rows {
                precondition(row.code > previousCode, "\(major).\(minor): rows out of order at \(row.name)")
                previousCode = row.code
                let layoutName = row.deopt ?? row.name
                let info = OpcodeInfo(
                    name: row.name, code: row.code, kind: row.kind, hasArgument: row.hasArgument,
                    categories: row.categories, cacheEntries: row.cacheEntries,
                    cacheLayout: cacheFormats[layoutName] ?? [], deoptName: row.deopt,
                    deoptCode: row.deopt.flatMap { codesByName[$0] },
                    stackEffect: handWrittenStackEffects == nil ? row.stackEffect : effects[row.name])
                let previous = byName.updateValue(info, forKey: info.name)
                precondition(previous == nil, "\(major).\(minor): two \(info.name)")
                if (0..<256).contains(info.code) {
                    precondition(byByte[info.code] == nil, "\(major).\(minor): two opcodes \(info.code)")
                    byByte[info.code] = info
                } else {
                    pseudoByCode[info.code] = info
                }
                opcodes.append(info)
            }
            for name in effects.keys where byName[name] == nil {
                preconditionFailure("\(major).\(minor): a hand-written stack effect for unknown opcode \(name)")
            }
            for name in cacheFormats.keys where byName[name] == nil {
                preconditionFailure("\(major).\(minor): a cache format for unknown opcode \(name)")
            }
            self.opcodes = opcodes
            self.byByte = byByte
            self.byName = byName
            self.pseudoByCode = pseudoByCode
            self.hasArgumentByByte = (0..<256).map { byte in
                guard let info = byByte[byte] else { return byte >= haveArgument }
                if let base = info.deoptCode.flatMap({ byByte[$0] }) { return base.hasArgument }
                return info.hasArgument
            }
            self.cacheEntriesByByte = byByte.map { UInt8(clamping: $0?.cacheEntries ?? 0) }
            self.deoptByByte = (0..<256).map { byte in UInt8(truncatingIfNeeded: byByte[byte]?.deoptCode ?? byte) }
        }
    }
}

// MARK: - OpcodeInfo

/// What one release says about one opcode.
public struct OpcodeInfo: Sendable, Hashable, CustomStringConvertible {
    /// Where the opcode comes from.
    public enum Kind: Sendable, Hashable {
        /// An opcode the compiler emits and a `.pyc` may contain.
        case real
        /// A compile-time pseudo-op numbered >= 256 (3.12+: `SETUP_FINALLY`, `JUMP`, `LOAD_METHOD`, …); never in a
        /// `.pyc`.
        case pseudo
        /// An `INSTRUMENTED_*` opcode `sys.monitoring` swaps in at run time (3.12+); never in a `.pyc`.
        case instrumented
        /// A specialized (quickened) form of a base opcode (3.11+: `opcode._specializations`); never in a `.pyc`.
        case specialized
    }

    /// The `opcode.has*` lists an opcode belongs to, which say how `dis` resolves its argument.
    public struct ArgumentCategories: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// `hasconst`: the oparg indexes `co_consts`.
        public static let const = ArgumentCategories(rawValue: 1 << 0)
        /// `hasname`: the oparg indexes `co_names` (3.11+ `LOAD_GLOBAL`, 3.12+ `LOAD_ATTR` shift it first).
        public static let name = ArgumentCategories(rawValue: 1 << 1)
        /// `hasjrel`: the oparg is a relative jump.
        public static let jrel = ArgumentCategories(rawValue: 1 << 2)
        /// `hasjabs`: the oparg is an absolute jump (empty from 3.11).
        public static let jabs = ArgumentCategories(rawValue: 1 << 3)
        /// `haslocal`: the oparg indexes the local variables.
        public static let local = ArgumentCategories(rawValue: 1 << 4)
        /// `hasfree`: the oparg indexes cell and free variables.
        public static let free = ArgumentCategories(rawValue: 1 << 5)
        /// `hascompare`: the oparg selects a comparison from `cmp_op`.
        public static let compare = ArgumentCategories(rawValue: 1 << 6)
        /// `hasnargs` (3.6 … 3.11): call opcodes whose oparg counts arguments; CPython leaves the list empty.
        public static let nargs = ArgumentCategories(rawValue: 1 << 7)
        /// `hasexc` (3.12+): a pseudo-op that sets up an exception handler.
        public static let exc = ArgumentCategories(rawValue: 1 << 8)

        /// Either kind of jump.
        public static let jump: ArgumentCategories = [.jrel, .jabs]

        /// The categories in bit order with the suffix of their `opcode.has*` list.
        public static let named: [(name: String, category: ArgumentCategories)] = [
            ("const", .const), ("name", .name), ("jrel", .jrel), ("jabs", .jabs), ("local", .local), ("free", .free),
            ("compare", .compare), ("nargs", .nargs), ("exc", .exc),
        ]

        /// The category of list `opcode.has<name>` ("const", "jrel", …), or nil.
        public init?(name: String) {
            guard let entry = Self.named.first(where: { $0.name == name }) else { return nil }
            self = entry.category
        }
    }

    /// One field of an opcode's inline cache (`opcode._cache_format`), such as ("counter", 1).
    public struct CacheField: Sendable, Hashable {
        /// CPython's field name.
        public let name: String
        /// The field's size in code units (2 bytes each).
        public let size: Int
    }

    /// The name in `opcode.opname` (for specialized opcodes: `dis._all_opname`).
    public let name: String
    /// The opcode number: a byte value, or >= 256 for a pseudo-op.
    public let code: Int
    /// Real, pseudo, instrumented or specialized.
    public let kind: Kind
    /// Whether it takes an argument: `opcode.hasarg` (3.12+), else `code >= HAVE_ARGUMENT`; a specialized opcode
    /// follows its base, as `dis` decodes it.
    public let hasArgument: Bool
    /// The `opcode.has*` lists it is in.
    public let categories: ArgumentCategories
    /// The inline cache entries (code units) following it (`opcode._inline_cache_entries`; a specialized opcode
    /// counts its base's); 0 before 3.11.
    public let cacheEntries: Int
    /// The named fields of those entries in order (`opcode._cache_format`); empty when CPython names none.
    public let cacheLayout: [CacheField]
    /// For a specialized opcode, the base opcode it deopts to (`dis.deoptmap`).
    public let deoptName: String?
    /// The number of ``deoptName``.
    public let deoptCode: Int?
    /// Its stack effect, or nil where CPython defines none (`dis.stack_effect` raises ValueError).
    public let stackEffect: StackEffect?

    /// Whether this is a compile-time pseudo-op (>= 256).
    public var isPseudo: Bool { kind == .pseudo }
    /// Whether this is an `INSTRUMENTED_*` opcode.
    public var isInstrumented: Bool { kind == .instrumented }
    /// Whether this is a specialized form of another opcode.
    public var isSpecialized: Bool { kind == .specialized }
    /// The byte value, or nil for a pseudo-op.
    public var byte: UInt8? { (0..<256).contains(code) ? UInt8(code) : nil }

    /// "LOAD_CONST (100)".
    public var description: String { "\(name) (\(code))" }
}

// MARK: - Stack effects

/// An opcode's stack effect along each way out of it, as `dis.stack_effect(op, oparg, jump=)` defines it.
public struct StackEffect: Sendable, Hashable {
    /// The effect when execution continues with the next instruction (`jump=False`).
    public let fallThrough: StackEffectFormula
    /// The effect when the opcode jumps to its target (`jump=True`); equal to ``fallThrough`` for non-jumps.
    public let jump: StackEffectFormula

    /// An effect that differs by direction.
    public init(fallThrough: StackEffectFormula, jump: StackEffectFormula) {
        self.fallThrough = fallThrough
        self.jump = jump
    }

    /// The same effect both ways.
    public init(_ both: StackEffectFormula) {
        self.init(fallThrough: both, jump: both)
    }

    /// The effect along the jump (`true`), the fall-through (`false`) or the larger of both (`nil`, CPython's
    /// default).
    public func value(oparg: Int, jump: Bool?) -> Int {
        switch jump {
        case true?: return self.jump.evaluate(oparg: oparg)
        case false?: return fallThrough.evaluate(oparg: oparg)
        case nil: return max(fallThrough.evaluate(oparg: oparg), self.jump.evaluate(oparg: oparg))
        }
    }
}

/// A stack effect as a function of the oparg:
///
///     effect(oparg) = cases[oparg]                                              if oparg is a case
///                   = base + Σ coefficient · ((oparg >> shift) & mask)          otherwise (no mask: unbounded)
///
/// Fields express every oparg-dependent effect in CPython 2.7 … 3.13: counts (`BUILD_TUPLE`: 1 - oparg), packed
/// counts (`UNPACK_EX`: (oparg & 0xff) + (oparg >> 8); 2.7 `CALL_FUNCTION`: -(oparg & 0xff) - 2·(oparg >> 8)) and
/// flag bits (`MAKE_FUNCTION`, `FORMAT_VALUE` bit 2, 3.11+ `LOAD_GLOBAL` bit 0). Cases cover the one effect that is
/// not bitwise additive, `BUILD_SLICE` (-2 when oparg is 3, else -1). `Scripts/opcodes/dump_opcodes.py` fits these
/// to `dis.stack_effect` and checks them on every oparg 0…1023 and on larger ones up to 2³¹-1.
public struct StackEffectFormula: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// coefficient · ((oparg >> shift) & mask), or coefficient · (oparg >> shift) without a mask.
    public struct Field: Sendable, Hashable {
        public let coefficient: Int
        public let shift: Int
        public let mask: Int?

        public init(coefficient: Int, shift: Int, mask: Int?) {
            self.coefficient = coefficient
            self.shift = shift
            self.mask = mask
        }
    }

    /// An oparg whose effect is given outright.
    public struct Case: Sendable, Hashable {
        public let oparg: Int
        public let effect: Int

        public init(oparg: Int, effect: Int) {
            self.oparg = oparg
            self.effect = effect
        }
    }

    /// The effect for oparg 0 (unless 0 is a case).
    public let base: Int
    /// The oparg-dependent terms.
    public let fields: [Field]
    /// Opargs with an explicit effect.
    public let cases: [Case]

    public init(base: Int, fields: [Field] = [], cases: [Case] = []) {
        self.base = base
        self.fields = fields
        self.cases = cases
    }

    /// A constant effect.
    public init(integerLiteral value: Int) {
        self.init(base: value)
    }

    /// Whether the effect is the same for every oparg.
    public var isConstant: Bool { fields.isEmpty && cases.isEmpty }

    /// The effect for `oparg` (wrapping arithmetic: never traps, exact for every oparg a code object can hold).
    public func evaluate(oparg: Int) -> Int {
        for entry in cases where entry.oparg == oparg {
            return entry.effect
        }
        var total = base
        for field in fields {
            var value = oparg >> field.shift
            if let mask = field.mask { value &= mask }
            total &+= field.coefficient &* value
        }
        return total
    }

    /// Canonical C-like text without spaces, such as "1-oparg", "(oparg&0xff)+(oparg>>8)",
    /// "-(oparg&0xff)-2*(oparg>>8)" or "oparg==3?-2:-1"; ``init(_:)`` reads it back.
    public var description: String {
        var text = fields.isEmpty || base != 0 ? "\(base)" : ""
        for field in fields {
            var term = field.shift == 0 ? "oparg" : "(oparg>>\(field.shift))"
            if let mask = field.mask {
                let digits = mask > 9 ? "0x" + String(mask, radix: 16) : String(mask)
                term = field.shift == 0 ? "(oparg&\(digits))" : "((oparg>>\(field.shift))&\(digits))"
            }
            if abs(field.coefficient) != 1 { term = "\(abs(field.coefficient))*\(term)" }
            text += field.coefficient < 0 ? "-\(term)" : (text.isEmpty ? term : "+\(term)")
        }
        for entry in cases.reversed() {
            text = "oparg==\(entry.oparg)?\(entry.effect):\(text)"
        }
        return text
    }

    /// Parses the text ``description`` writes: optional cases `oparg==N?E:`, then a sum of integer terms and
    /// oparg terms `[C*]oparg`, `[C*](oparg>>S)`, `[C*](oparg&M)`, `[C*]((oparg>>S)&M)` (M decimal or 0x hex).
    /// Returns nil for anything else.
    public init?(_ text: String) {
        var scanner = FormulaScanner(text)
        var cases: [Case] = []
        while scanner.skip("oparg==") {
            guard let oparg = scanner.integer(), scanner.skip("?"), let effect = scanner.signedInteger(),
                scanner.skip(":")
            else { return nil }
            cases.append(Case(oparg: oparg, effect: effect))
        }
        var base = 0
        var fields: [Field] = []
        var first = true
        while !scanner.atEnd {
            var sign = 1
            if scanner.skip("-") {
                sign = -1
            } else if !scanner.skip("+") && !first {
                return nil
            }
            first = false
            var coefficient = 1
            if let number = scanner.integer() {
                guard scanner.skip("*") else {
                    base += sign * number
                    continue
                }
                coefficient = number
            }
            guard let (shift, mask) = scanner.opargTerm() else { return nil }
            fields.append(Field(coefficient: sign * coefficient, shift: shift, mask: mask))
        }
        if first { return nil }
        self.init(base: base, fields: fields, cases: cases)
    }
}

extension StackEffect: CustomStringConvertible {
    /// The formula, or "fall-through/jump" when they differ, such as "1/-1" (2.7 `FOR_ITER`).
    public var description: String {
        fallThrough == jump ? fallThrough.description : "\(fallThrough)/\(jump)"
    }

    /// Parses ``description``'s text: one formula for both ways, or two separated by "/".
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let fallThrough = StackEffectFormula(String(parts[0])),
            let jump = StackEffectFormula(String(parts[parts.count - 1]))
        else { return nil }
        self.init(fallThrough: fallThrough, jump: jump)
    }
}

/// A cursor over the UTF-8 bytes of a formula or a row field.
private struct FormulaScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: some StringProtocol) { bytes = Array(text.utf8) }

    var atEnd: Bool { index == bytes.count }

    /// The whole text as a non-negative decimal integer, or nil.
    static func decimal(_ text: some StringProtocol) -> Int? {
        var scanner = FormulaScanner(text)
        guard let value = scanner.integer(), scanner.atEnd else { return nil }
        return value
    }

    /// Consumes `literal` (ASCII) when the text continues with it.
    mutating func skip(_ literal: String) -> Bool {
        var position = index
        for byte in literal.utf8 {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
        }
        index = position
        return true
    }

    /// A non-negative decimal or 0x-hex integer of at most 15 digits.
    mutating func integer() -> Int? {
        let radix = skip("0x") ? 16 : 10
        var value = 0
        var digits = 0
        while index < bytes.count, digits < 15, let digit = Self.digit(bytes[index], radix: radix) {
            value = value * radix + digit
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }

    /// An integer with an optional leading minus sign.
    mutating func signedInteger() -> Int? {
        let negative = skip("-")
        return integer().map { negative ? -$0 : $0 }
    }

    /// `oparg`, `(oparg>>S)`, `(oparg&M)` or `((oparg>>S)&M)` as (shift, mask).
    mutating func opargTerm() -> (Int, Int?)? {
        if skip("oparg") { return (0, nil) }
        if skip("((oparg>>") {
            guard let shift = integer(), skip(")&"), let mask = integer(), skip(")") else { return nil }
            return (shift, mask)
        }
        if skip("(oparg>>") {
            guard let shift = integer(), skip(")") else { return nil }
            return (shift, nil)
        }
        if skip("(oparg&") {
            guard let mask = integer(), skip(")") else { return nil }
            return (0, mask)
        }
        return nil
    }

    private static func digit(_ byte: UInt8, radix: Int) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: return Int(byte - UInt8(ascii: "a")) + 10
        default: return nil
        }
    }
}

// MARK: - Reading the generated text

/// Reads the text blocks of `Generated/Opcodes+X_Y.swift` and `StackEffects+2_7.swift`.
///
/// The text is generated (or, for 2.7's stack effects, reviewed) data, so a malformed line is a programming error:
/// it traps with the table and line, and `OpcodeTableTests` loads every table.
enum OpcodeRowParser {
    /// One opcode row.
    struct Row {
        var code: Int
        var name: String
        var kind: OpcodeInfo.Kind
        var hasArgument: Bool
        var categories: OpcodeInfo.ArgumentCategories
        var cacheEntries: Int
        var deopt: String?
        var stackEffect: StackEffect?
    }

    /// Rows `code name kind arg categories cache deopt stack`: kind is real, pseudo, instrumented or specialized;
    /// arg is `arg` or `-`; categories are comma-separated (`const,name`) or `-`; deopt is a name or `-`; stack is
    /// a ``StackEffect`` text or `-` for none.
    static func rows(_ text: String, context: String) -> [Row] {
        lines(text).map { number, fields in
            func fail(_ message: String) -> Never {
                preconditionFailure("\(context), row \(number): \(message): \(fields.joined(separator: " "))")
            }
            guard fields.count == 8 else { fail("expected 8 fields") }
            guard let code = FormulaScanner.decimal(fields[0]) else { fail("bad code") }
            let kind: OpcodeInfo.Kind
            switch fields[2] {
            case "real": kind = .real
            case "pseudo": kind = .pseudo
            case "instrumented": kind = .instrumented
            case "specialized": kind = .specialized
            default: fail("bad kind")
            }
            guard fields[3] == "arg" || fields[3] == "-" else { fail("bad argument flag") }
            var categories: OpcodeInfo.ArgumentCategories = []
            if fields[4] != "-" {
                for name in fields[4].split(separator: ",") {
                    guard let category = OpcodeInfo.ArgumentCategories(name: String(name)) else {
                        fail("bad category \(name)")
                    }
                    categories.insert(category)
                }
            }
            guard let cache = FormulaScanner.decimal(fields[5]) else { fail("bad cache count") }
            var effect: StackEffect?
            if fields[7] != "-" {
                guard let parsed = StackEffect(fields[7]) else { fail("bad stack effect") }
                effect = parsed
            }
            return Row(
                code: code, name: fields[1], kind: kind, hasArgument: fields[3] == "arg", categories: categories,
                cacheEntries: cache, deopt: fields[6] == "-" ? nil : fields[6], stackEffect: effect)
        }
    }

    /// Lines `opname field:size …` (`opcode._cache_format`).
    static func cacheFormats(_ text: String, context: String) -> [String: [OpcodeInfo.CacheField]] {
        var formats: [String: [OpcodeInfo.CacheField]] = [:]
        for (number, fields) in lines(text) {
            let layout = fields.dropFirst().map { field -> OpcodeInfo.CacheField in
                let parts = field.split(separator: ":")
                guard parts.count == 2, let size = FormulaScanner.decimal(parts[1]) else {
                    preconditionFailure("\(context), cache format \(number): bad field \(field)")
                }
                return OpcodeInfo.CacheField(name: String(parts[0]), size: size)
            }
            let previous = formats.updateValue(layout, forKey: fields[0])
            precondition(previous == nil, "\(context): two \(fields[0])")
        }
        return formats
    }

    /// Lines `name stack`, where `#` starts a comment.
    static func stackEffects(_ text: String, context: String) -> [String: StackEffect] {
        var effects: [String: StackEffect] = [:]
        for (number, fields) in lines(text) {
            guard fields.count == 2, let effect = StackEffect(fields[1]) else {
                preconditionFailure("\(context), line \(number): expected `name effect`: \(fields)")
            }
            let previous = effects.updateValue(effect, forKey: fields[0])
            precondition(previous == nil, "\(context): two \(fields[0])")
        }
        return effects
    }

    /// The non-blank lines with their 1-based numbers, comments (`#` to the end) removed, split at blanks.
    /// Splits the UTF-8 bytes, not characters: the tables are parsed when a release is first used,
    /// which for one small file is most of a `pyckit dis` run.
    private static func lines(_ text: String) -> [(Int, [String])] {
        var result: [(Int, [String])] = []
        var text = text
        text.withUTF8 { bytes in
            for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
                let content = line.prefix { $0 != UInt8(ascii: "#") }
                let fields = content.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
                if !fields.isEmpty { result.append((index + 1, fields)) }
            }
        }
        return result
    }
}
