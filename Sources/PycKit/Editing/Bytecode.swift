/// The editable form of one code object: a list of instructions with symbolic arguments,
/// labels, line markers and exception-block markers, plus the code object's other fields.
///
/// Lift one with ``PythonVersion/lift(_:)``, change ``elements`` (directly or through the edit
/// helpers in `Bytecode+Editing.swift`), and assemble it with ``PythonVersion/assemble(_:)``:
/// jumps, `EXTENDED_ARG` prefixes, cache units, the line table, the exception table and
/// `co_stacksize` are computed from the elements, never copied. Unedited code assembles to the
/// original bytes (ARCHITECTURE.md "Fidelity": the declared stack size and the encoded
/// `EXTENDED_ARG` width are the only values kept from the original, as floors).
public struct Bytecode: Sendable, Equatable {
    /// The version whose opcodes and tables the elements use.
    public var version: PythonVersion
    /// Instructions and markers in code order.
    public var elements: [Element]
    /// `co_consts`: instructions refer to constants by index into this pool (``Argument/constant(_:)``);
    /// nested code objects are lifted too.
    public var constants: [Constant]
    /// The rest of the code object (names, variables, flags, …). Its `code`, `linetable`,
    /// `exceptiontable`, `consts` and `stacksize` fields are replaced when assembling; `names`
    /// grows when instructions use new names.
    public var template: CodeObject
    /// The stack size the code object declared when it was lifted (0 for new code): the
    /// assembler writes the larger of this and the computed depth.
    public var stackSizeFloor: Int
    var nextLabel = 0
    var nextBlock = 0
    /// The lifter's decoded `co_names` and locals, so that the assembler takes each slot's name as
    /// lifted instead of looking every item up in the name pool again (a cache: not part of the value).
    var liftedTables = LiftedTables()

    public init(version: PythonVersion, template: CodeObject, constants: [Constant] = [], elements: [Element] = []) {
        self.version = version
        self.template = template
        self.constants = constants
        self.elements = elements
        self.stackSizeFloor = 0
    }

    /// One element of the instruction list.
    public enum Element: Sendable, Hashable {
        case instruction(Instruction)
        /// A jump target: the next instruction's offset.
        case label(Label)
        /// 2.7–3.9: one `co_lnotab` entry — the following code starts line `n` (byteplay's
        /// `SetLineno`). CPython writes such entries per statement, even when the line does not
        /// change, so they are kept as markers; from 3.10 each instruction's position decides.
        case setLine(Int)
        /// 2.7–3.9: one `co_lnotab` entry at the next instruction's opcode, after its
        /// `EXTENDED_ARG` prefixes (CPython's peephole optimizer leaves a few: 1 each in the 3.8
        /// and 3.9 stdlib); written at the instruction's start when it ends up without prefixes.
        /// It belongs to that instruction: the edit helpers keep the two together.
        case lineAtOpcode(Int)
        /// 3.11+: the following instructions are covered by an exception-table entry.
        case tryBegin(TryBlock)
        /// 3.11+: the end of the instructions covered by the block with this id.
        case tryEnd(TryBlock)
    }

    /// A constant of the pool.
    public enum Constant: Sendable, Equatable {
        case value(PyObject)
        /// A nested code object, lifted; `encoding` is the marshal encoding of the original object.
        /// (`indirect`: a ``Bytecode`` inline would make every constant, plain values included, as
        /// large as a code object's template, and each move of one a copy of that many bytes.)
        indirect case code(Bytecode, encoding: MarshalEncoding)

        /// The constant as a marshalled object (nested code not assembled: its template).
        public var object: PyObject {
            switch self {
            case .value(let o): return o
            case .code(let b, let e): return PyObject(.code(b.template), encoding: e)
            }
        }
    }

    /// A jump target. Labels are numbered per `Bytecode`; make new ones with ``newLabel()``.
    public struct Label: Sendable, Hashable, CustomStringConvertible {
        public let id: Int
        public init(id: Int) { self.id = id }
        public var description: String { "L\(id)" }
    }

    /// A 3.11+ exception-table entry as a block: every instruction between its `tryBegin` and
    /// `tryEnd` is covered; an exception there pops the stack to `depth`, pushes the raising
    /// instruction's offset if `lasti`, pushes the exception and jumps to `handler`.
    public struct TryBlock: Sendable, Hashable {
        public let id: Int
        public var handler: Label
        public var depth: Int
        public var lasti: Bool
        public init(id: Int, handler: Label, depth: Int, lasti: Bool) {
            self.id = id
            self.handler = handler
            self.depth = depth
            self.lasti = lasti
        }
    }

    /// An instruction with a symbolic argument.
    public struct Instruction: Sendable, Hashable, CustomStringConvertible {
        public var opcode: UInt8
        public var argument: Argument
        /// Source position. From 3.10 it decides the line table (3.10: the line only); up to 3.9
        /// the `setLine` markers do, and an instruction whose line differs from the marker in
        /// force gets an entry of its own.
        public var position: SourcePosition
        /// The number of EXTENDED_ARG prefixes it had when lifted (0 for new instructions); the
        /// assembler writes at least this many.
        public var extendedArgFloor: Int

        public init(
            opcode: UInt8, argument: Argument = .none, position: SourcePosition = .none, extendedArgFloor: Int = 0
        ) {
            self.opcode = opcode
            self.argument = argument
            self.position = position
            self.extendedArgFloor = extendedArgFloor
        }

        public var description: String { "\(opcode) \(argument)" }
    }

    /// A symbolic instruction argument; ``PythonVersion/argumentShape(opcode:)`` says which
    /// case each opcode takes. (A plain value: names are ``Name``s, so that instructions are
    /// copied and freed without reference counting.)
    public enum Argument: Sendable, Hashable, CustomStringConvertible {
        case none
        /// A plain integer; for opcodes with a symbolic argument, the raw argument (the lifter
        /// uses it only where a name would resolve to another slot: 3.13's inlined
        /// comprehensions repeat a name in `co_localsplusnames`).
        case int(Int)
        /// Index into ``Bytecode/constants``.
        case constant(Int)
        /// A name of `co_names` (added there when new).
        case name(Name)
        /// 3.11+ `LOAD_GLOBAL`.
        case global(Name, pushNull: Bool)
        /// 3.12+ `LOAD_ATTR`.
        case attribute(Name, method: Bool)
        /// 3.12+ `LOAD_SUPER_ATTR`.
        case superAttribute(Name, twoArguments: Bool, method: Bool)
        case local(Name)
        /// 3.13 two-local instructions (`LOAD_FAST_LOAD_FAST`, …).
        case localPair(Name, Name)
        /// A cell variable (of this code object).
        case cell(Name)
        /// A free variable (from an enclosing scope).
        case free(Name)
        /// `COMPARE_OP`'s argument as stored (3.12/3.13 pack the index with extra bits).
        case compare(Int)
        case label(Label)

        public var description: String {
            switch self {
            case .none: return ""
            case .int(let n): return String(n)
            case .constant(let i): return "const[\(i)]"
            case .name(let s): return s.text
            case .global(let s, let n): return n ? "NULL + \(s)" : s.text
            case .attribute(let s, let m): return m ? "\(s) (method)" : s.text
            case .superAttribute(let s, _, let m): return m ? "super.\(s) (method)" : "super.\(s)"
            case .local(let s): return s.text
            case .localPair(let a, let b): return "\(a), \(b)"
            case .cell(let s): return "cell \(s)"
            case .free(let s): return "free \(s)"
            case .compare(let n): return "cmp \(n)"
            case .label(let l): return "to \(l)"
            }
        }
    }

    /// A new label, not yet placed.
    public mutating func newLabel() -> Label {
        defer { nextLabel += 1 }
        return Label(id: nextLabel)
    }

    /// A new exception block, not yet placed.
    public mutating func newTryBlock(handler: Label, depth: Int, lasti: Bool) -> TryBlock {
        defer { nextBlock += 1 }
        return TryBlock(id: nextBlock, handler: handler, depth: depth, lasti: lasti)
    }
}

/// Name tables as the lifter decoded them; see ``Bytecode/liftedTables``. Equal whatever they
/// hold, so that they never decide whether two ``Bytecode`` values are equal.
struct LiftedTables: Sendable, Equatable {
    /// `co_names`.
    var names: LiftedTable?
    /// `co_varnames` (up to 3.10) or `co_localsplusnames` (3.11+).
    var locals: LiftedTable?

    static func == (_: LiftedTables, _: LiftedTables) -> Bool { true }
}

/// One name table as lifted: the tuple's items and each slot's name.
struct LiftedTable: Sendable {
    /// The tuple's items, kept so that their buffer's identity shows the table is unchanged.
    var items: [PyObject]
    var names: [Name]

    /// The slots' names, if `tuple` still holds the very items they were lifted from.
    func names(ifLiftedFrom tuple: PyObject) -> [Name]? {
        guard case .tuple(let current) = tuple.value, current.count == items.count, names.count == items.count,
            current.withUnsafeBufferPointer({ a in
                items.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress }
            })
        else { return nil }
        return names
    }
}

/// Why code could not be lifted, assembled or edited, and where.
public struct BytecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The concrete layer could not decode the code object.
        case concrete(ConcreteError)
        /// An opcode this version does not define.
        case unknownOpcode(UInt8)
        /// A jump, line entry or exception entry that points inside an instruction (between an
        /// EXTENDED_ARG prefix and its instruction) or past the code.
        case targetInsideInstruction(what: String, offset: Int)
        /// An argument index outside its table.
        case indexOutOfRange(what: String, index: Int)
        /// An argument whose kind does not fit the opcode.
        case argumentMismatch(expected: ArgumentShape, found: String)
        /// A name the code object's tables do not have (locals, cells and free variables are not
        /// added implicitly: that would change the function's frame).
        case unknownVariable(String)
        /// A label used by a jump or block that is not placed, or placed twice.
        case label(String)
        /// An argument that does not fit in 32 bits, or a negative one.
        case argumentOutOfRange(Int)
        /// Markers that do not fit the version (a `setLine` from 3.10, a try block before 3.11),
        /// or unbalanced try blocks.
        case marker(String)
        /// A line or exception table the assembler could not encode.
        case table(String)
        /// An edit that would separate instructions the interpreter expects next to each other.
        case wouldSeparate(String)
        /// A name that does not fit the process-wide name pool any more (``Name``s are numbered by
        /// 32-bit offsets into it: 4 GiB of distinct names in all).
        case namePoolFull
    }

    public var kind: Kind
    /// Element index (editing/assembling) or byte offset (lifting).
    public var index: Int
    public var codeName: String

    public init(_ kind: Kind, at index: Int, in codeName: String = "") {
        self.kind = kind
        self.index = index
        self.codeName = codeName
    }

    public var description: String {
        let prefix = codeName.isEmpty ? "" : "code object \(codeName): "
        switch kind {
        case .concrete(let e): return e.description
        case .unknownOpcode(let op): return prefix + "offset \(index): opcode \(op) is not defined in this version"
        case .targetInsideInstruction(let what, let offset):
            return prefix + "\(what) at offset \(offset) is not at an instruction start"
        case .indexOutOfRange(let what, let i): return prefix + "element \(index): \(what) index \(i) out of range"
        case .argumentMismatch(let expected, let found):
            return prefix + "element \(index): argument \(found) does not fit an opcode taking \(expected)"
        case .unknownVariable(let n): return prefix + "element \(index): unknown variable \(n)"
        case .label(let s): return prefix + "element \(index): \(s)"
        case .argumentOutOfRange(let n): return prefix + "element \(index): argument \(n) out of range"
        case .marker(let s): return prefix + "element \(index): \(s)"
        case .table(let s): return prefix + s
        case .wouldSeparate(let s): return prefix + "element \(index): \(s)"
        case .namePoolFull:
            return prefix + "offset \(index): a name does not fit the name pool (4 GiB of distinct names in this process)"
        }
    }
}
