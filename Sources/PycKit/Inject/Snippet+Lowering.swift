/// Lowering a snippet to instructions for one code object of one version.
extension Bytecode {
    /// How a name of the snippet resolves in this code object, as Python's scoping would:
    /// a cell or free variable of the function, else a local, else a global (`LOAD_NAME` in a
    /// module or class body).
    public enum NameScope: Sendable, Equatable {
        case cell, free, local, global, name
    }

    /// Where `name` lives in this code object.
    public func scope(of name: String) -> NameScope {
        let t = template
        if version.usesLocalsPlus {
            let names = t.localsplusnames.value.texts
            var kinds: [UInt8] = []
            if case .bytes(let k) = t.localspluskinds.value { kinds = k }
            // CO_FAST_HIDDEN 0x10 (3.12+: a variable of a comprehension inlined into a module or
            // class body), CO_FAST_LOCAL 0x20, CO_FAST_CELL 0x40, CO_FAST_FREE 0x80
            // (Include/internal/pycore_code.h). Known gap: inside a function, 3.12+ gives an
            // inlined comprehension's variable an ordinary local slot, so a snippet naming it
            // reads that (unbound) local where Python's scoping would read the global.
            var kind: UInt8 = 0
            for (i, n) in names.enumerated() where n == name && i < kinds.count && kinds[i] & 0x10 == 0 {
                kind |= kinds[i]
            }
            if kind & 0x80 != 0 { return .free }
            if kind & 0x40 != 0 { return .cell }
            if kind & 0x20 != 0 { return .local }
        } else {
            if t.cellvars.value.texts.contains(name) { return .cell }
            if t.freevars.value.texts.contains(name) { return .free }
            if t.varnames.value.texts.contains(name) { return .local }
        }
        return t.flags & CodeFlags.optimized != 0 ? .global : .name
    }

    /// The instructions that evaluate `snippet` here and discard its value (net stack effect
    /// 0). Constants are added to ``constants``; names the code does not have go to `co_names`
    /// when assembling. The instructions have no position: ``insert(_:before:)`` gives them the
    /// position of the instruction they precede.
    public mutating func lower(_ snippet: Snippet) throws(BytecodeError) -> [Instruction] {
        // A function's docstring is its co_consts[0] when that is a string (Objects/funcobject.c):
        // an empty pool gets None first, so a string constant of the snippet never becomes one.
        if constants.isEmpty && template.flags & CodeFlags.optimized != 0 { _ = addConstant(.none) }
        var out: [Instruction] = []
        try lower(snippet.expression, into: &out)
        out.append(try make("POP_TOP"))
        return out
    }

    /// The snippet constant as this version's compiler stores it.
    func constantObject(_ c: Snippet.Constant) -> PyObject {
        switch c {
        case .none: return .none
        case .bool(let b): return PyObject(.bool(b))
        case .int(let v): return PyObject(.int(v))
        case .float(let d): return PyObject(.float(d))
        case .bytes(let b): return .bytes(b)
        case .string(let s, let u):
            if version.injectTraits.plainStringsAreBytes && !u {
                // 2.7 source is read as bytes: a plain literal is the UTF-8 of its text.
                return PyObject(.bytes(Array(s.utf8)))
            }
            // CPython interns constant strings made of name characters only (`all_name_chars`).
            let nameLike = s.utf8.allSatisfy {
                $0 == 95 || ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122)
            }
            return .str(s, interned: nameLike)
        }
    }

    /// The constant value of an expression made only of constants and tuples of them (CPython
    /// folds such tuples into one constant), or nil.
    func folded(_ e: Snippet.Expression) -> PyObject? {
        switch e {
        case .constant(let c, _): return constantObject(c)
        case .tuple(let items, _):
            var objects: [PyObject] = []
            for item in items {
                guard let o = folded(item) else { return nil }
                objects.append(o)
            }
            return .tuple(objects)
        default: return nil
        }
    }

    /// A keyword name as the compiler stores it (an interned identifier).
    func identifier(_ s: String) -> PyObject { version.newName(s) }

    mutating func loadConstant(_ o: PyObject) throws(BytecodeError) -> Instruction {
        try make("LOAD_CONST", .constant(addConstant(o)))
    }

    /// `LOAD_GLOBAL name`, with the NULL bit where the version has one.
    func loadGlobal(_ name: String, pushNull: Bool) throws(BytecodeError) -> Instruction {
        let op = try make("LOAD_GLOBAL")
        let arg: Argument =
            version.argumentShape(opcode: op.opcode) == .global ? .global(Name(name), pushNull: pushNull) : .name(Name(name))
        return Instruction(opcode: op.opcode, argument: arg)
    }

    /// `LOAD_ATTR name`, with the method bit where the version has one.
    func loadAttribute(_ name: String, method: Bool) throws(BytecodeError) -> Instruction {
        let op = try make("LOAD_ATTR")
        let arg: Argument =
            version.argumentShape(opcode: op.opcode) == .attribute ? .attribute(Name(name), method: method) : .name(Name(name))
        return Instruction(opcode: op.opcode, argument: arg)
    }

    /// An instruction whose argument is a constant index: `.constant` where the opcode's
    /// argument is one, the plain index otherwise (3.11 `KW_NAMES`).
    mutating func withConstant(_ name: String, _ o: PyObject) throws(BytecodeError) -> Instruction {
        let op = try make(name)
        let k = addConstant(o)
        return Instruction(
            opcode: op.opcode, argument: version.argumentShape(opcode: op.opcode) == .constant ? .constant(k) : .int(k))
    }

    mutating func lower(_ e: Snippet.Expression, into out: inout [Instruction]) throws(BytecodeError) {
        if let o = folded(e) {
            out.append(try loadConstant(o))
            return
        }
        switch e {
        case .constant: break  // folded above
        case .name(let n, _):
            switch scope(of: n) {
            case .cell: out.append(try make("LOAD_DEREF", .cell(Name(n))))
            case .free: out.append(try make("LOAD_DEREF", .free(Name(n))))
            case .local: out.append(try make(version.injectTraits.loadLocal, .local(Name(n))))
            case .global: out.append(try loadGlobal(n, pushNull: false))
            case .name: out.append(try make("LOAD_NAME", .name(Name(n))))
            }
        case .attribute(let base, let n, _):
            try lower(base, into: &out)
            out.append(try loadAttribute(n, method: false))
        case .tuple(let items, _):
            for item in items { try lower(item, into: &out) }
            out.append(try make("BUILD_TUPLE", .int(items.count)))
        case .call(let callee, let arguments, let keywords, _):
            try lowerCall(callee, arguments, keywords, into: &out)
        }
    }

    mutating func lowerCall(
        _ callee: Snippet.Expression, _ arguments: [Snippet.Expression], _ keywords: [Snippet.Keyword],
        into out: inout [Instruction]
    ) throws(BytecodeError) {
        let traits = version.injectTraits
        let hasKeywords = !keywords.isEmpty
        // The callable, with its NULL or self slot.
        var methodForm = false
        switch callee {
        case .attribute(let base, let n, _)
        where traits.method != .attribute && !(traits.method == .loadMethodWithoutKeywords && hasKeywords):
            try lower(base, into: &out)
            if traits.method == .attributeMethodBit {
                out.append(try loadAttribute(n, method: true))
            } else {
                out.append(try make("LOAD_METHOD", .name(Name(n))))
            }
            methodForm = true
        case .name(let n, _) where traits.globalPushesNull && scope(of: n) == .global:
            out.append(try loadGlobal(n, pushNull: true))
        default:
            if traits.null == .pushBefore { out.append(try make("PUSH_NULL")) }
            try lower(callee, into: &out)
            if traits.null == .pushAfter { out.append(try make("PUSH_NULL")) }
        }
        for a in arguments { try lower(a, into: &out) }
        let n = arguments.count + keywords.count
        let names = PyObject.tuple(keywords.map { identifier($0.name) })
        switch traits.call {
        case .packedKeywords:
            for k in keywords {
                out.append(try loadConstant(identifier(k.name)))
                try lower(k.value, into: &out)
            }
            out.append(try make("CALL_FUNCTION", .int(arguments.count | keywords.count << 8)))
        case .keywordNamesOnStack:
            for k in keywords { try lower(k.value, into: &out) }
            if hasKeywords {
                out.append(try loadConstant(names))
                out.append(try make("CALL_FUNCTION_KW", .int(n)))
            } else {
                out.append(try make(methodForm ? "CALL_METHOD" : "CALL_FUNCTION", .int(n)))
            }
        case .kwNamesPrecall, .kwNamesCall:
            for k in keywords { try lower(k.value, into: &out) }
            if hasKeywords { out.append(try withConstant("KW_NAMES", names)) }
            if traits.call == .kwNamesPrecall { out.append(try make("PRECALL", .int(n))) }
            out.append(try make("CALL", .int(n)))
        case .callKeywords:
            for k in keywords { try lower(k.value, into: &out) }
            if hasKeywords {
                out.append(try loadConstant(names))
                out.append(try make("CALL_KW", .int(n)))
            } else {
                out.append(try make("CALL", .int(n)))
            }
        }
    }
}
