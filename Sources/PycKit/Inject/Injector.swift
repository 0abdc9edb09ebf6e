/// The injection transform: run a snippet at the entry of selected functions and/or before
/// every return of them, in this code object's nested functions (issue 5, "the seed scenario").
public struct Injection: Sendable, Hashable {
    /// Which functions to instrument.
    public enum Selection: Sendable, Hashable {
        /// Functions whose qualified name (`Test.__init__`, `outer.<locals>.inner`) is listed.
        case functions([String])
        /// Every function body: functions, methods, lambdas, comprehensions, generators, coroutines.
        case allFunctions
        /// Every `__init__` defined directly in a class body.
        case initMethods
    }

    public var selection: Selection
    /// Runs once when the body first starts (after the prologue; a generator or coroutine once,
    /// not per resume).
    public var atEntry: Snippet?
    /// Runs before every return instruction (not at yields); the return value stays untouched.
    public var beforeReturn: Snippet?
    /// Runs once at the start of the module's own code, before its first statement (at import
    /// time, before any of its functions can run). Names resolve as module-level code does.
    public var atModuleEntry: Snippet?
    /// Of the selected functions, only those that have a parameter or local (or cell or free)
    /// variable of each of these names are instrumented; the others are reported as skipped.
    /// E.g. `["self"]` with `.initMethods`: a metaclass's `__init__(cls, …)` has no `self`,
    /// and Python would read `self` there as a global (a `NameError` at run time).
    public var requiredLocals: [String]

    public init(
        selection: Selection, atEntry: Snippet? = nil, beforeReturn: Snippet? = nil, requiredLocals: [String] = [],
        atModuleEntry: Snippet? = nil
    ) {
        self.selection = selection
        self.atEntry = atEntry
        self.beforeReturn = beforeReturn
        self.requiredLocals = requiredLocals
        self.atModuleEntry = atModuleEntry
    }
}

/// What an injection changed.
public struct InjectionReport: Sendable, Equatable {
    /// Qualified names of the instrumented functions, in code order (depth first).
    public var functions: [String] = []
    /// Snippet copies placed at entries and before returns.
    public var entries = 0
    public var returns = 0
    /// Whether ``Injection/atModuleEntry`` was placed at the start of the module's code.
    public var moduleEntry = false
    /// Selected functions left alone because they lack a required local
    /// (``Injection/requiredLocals``).
    public var skipped: [String] = []
    public init() {}
}

/// Why an injection was refused.
public struct InjectError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case bytecode(BytecodeError)
        /// `--function` names that match no function; `available` lists the qualified names there are.
        case noSuchFunction([String], available: [String])
        /// A selected code object is not a function body (a module or class body).
        case notAFunction(String)
        /// Nothing matched the selection at all.
        case nothingSelected
        /// A module-entry snippet was given for code that is not a module's.
        case notAModule(String)
        /// The edited code did not pass the verifier.
        case verification([VerificationFinding])
    }
    public var kind: Kind
    public init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .bytecode(let e): return e.description
        case .noSuchFunction(let names, let available):
            let shown = available.prefix(12).joined(separator: ", ") + (available.count > 12 ? ", …" : "")
            return
                "no function named \(names.joined(separator: ", ")) (functions here: \(shown.isEmpty ? "none" : shown))"
        case .notAFunction(let q): return "\(q) is not a function body"
        case .nothingSelected: return "no function matches the selection"
        case .notAModule(let name): return "\(name) is not a module's code (a module-entry snippet needs one)"
        case .verification(let findings):
            return "the instrumented code does not verify: "
                + findings.prefix(3).map(\.description).joined(separator: "; ")
        }
    }
}

extension PythonVersion {
    /// Lifts `module`, injects, assembles and verifies: the instrumented module, or an error.
    /// Unselected code objects come back unchanged.
    public func inject(_ injection: Injection, into module: CodeObject) throws(InjectError) -> (
        code: CodeObject, report: InjectionReport
    ) {
        var bytecode: Bytecode
        do {
            bytecode = try lift(module)
        } catch {
            throw InjectError(.bytecode(error))
        }
        let report = try bytecode.inject(injection)
        let code: CodeObject
        do {
            code = try assemble(bytecode)
        } catch {
            throw InjectError(.bytecode(error))
        }
        let findings = verify(code)
        if !findings.isEmpty { throw InjectError(.verification(findings)) }
        return (code, report)
    }
}

extension Bytecode {
    /// Whether this code object is a function body (not a module or class body).
    public var isFunction: Bool { template.flags & CodeFlags.optimized != 0 }

    /// Applies `injection` to the functions nested in this code object (a module, usually),
    /// at any depth, and its module-entry snippet to this code object itself. Throws when
    /// `--function` names are missing or nothing is selected.
    public mutating func inject(_ injection: Injection) throws(InjectError) -> InjectionReport {
        var report = InjectionReport()
        var seen: [String] = []
        try injectNested(injection, prefix: "", parentIsClass: false, report: &report, seen: &seen)
        if case .functions(let names) = injection.selection {
            let missing = names.filter { !seen.contains($0) }
            if !missing.isEmpty { throw InjectError(.noSuchFunction(missing, available: seen)) }
        }
        if let s = injection.atModuleEntry {
            guard !isFunction && template.nameText == "<module>" else { throw InjectError(.notAModule(template.nameText)) }
            do {
                try injectAtEntry(s)
            } catch {
                throw InjectError(.bytecode(error))
            }
            report.moduleEntry = true
        }
        if report.functions.isEmpty && !report.moduleEntry { throw InjectError(.nothingSelected) }
        return report
    }

    /// The qualified name of a nested code object: `co_qualname` from 3.11, else CPython's rule
    /// (`Python/compile.c` `compiler_set_qualname`): `outer.<locals>.name` inside a function,
    /// `Class.name` inside a class body, `name` at module level.
    func qualifiedName(prefix: String) -> String {
        if version.hasQualname, let q = template.qualname.value.text { return q }
        return prefix + template.nameText
    }

    mutating func injectNested(
        _ injection: Injection, prefix: String, parentIsClass: Bool, report: inout InjectionReport, seen: inout [String]
    ) throws(InjectError) {
        for i in constants.indices {
            guard case .code(var nested, let encoding) = constants[i] else { continue }
            let qualname = nested.qualifiedName(prefix: prefix)
            let function = nested.isFunction
            if function { seen.append(qualname) }
            let selected: Bool
            switch injection.selection {
            case .allFunctions: selected = function
            case .initMethods: selected = function && parentIsClass && nested.template.nameText == "__init__"
            case .functions(let names):
                selected = names.contains(qualname)
                if selected && !function { throw InjectError(.notAFunction(qualname)) }
            }
            try nested.injectNested(
                injection, prefix: qualname + (function ? ".<locals>." : "."), parentIsClass: !function,
                report: &report,
                seen: &seen)
            if selected, injection.requiredLocals.contains(where: { nested.scope(of: $0) == .global }) {
                report.skipped.append(qualname)
            } else if selected {
                do {
                    if let s = injection.beforeReturn { report.returns += try nested.injectBeforeReturns(s) }
                    if let s = injection.atEntry {
                        try nested.injectAtEntry(s)
                        report.entries += 1
                    }
                } catch {
                    throw InjectError(.bytecode(error))
                }
                report.functions.append(qualname)
            }
            constants[i] = .code(nested, encoding: encoding)
        }
    }

    /// Element index where the body starts: after the version's prologue instructions (3.11+
    /// up to and including the first `RESUME`; 3.10 a generator's `GEN_START`), before any
    /// markers and labels in front of the first body instruction.
    public var bodyStart: Int {
        let traits = version.injectTraits
        let prologue = Set(traits.prologue.compactMap { version.opcodes[$0]?.byte })
        let ends = Set(traits.prologueEnd.compactMap { version.opcodes[$0]?.byte })
        var start = 0
        for (i, e) in elements.enumerated() {
            guard case .instruction(let ins) = e else { continue }
            guard prologue.contains(ins.opcode) else { break }
            if ends.contains(ins.opcode) {
                start = i + 1
                break
            }
        }
        return start
    }

    /// Inserts `snippet` so that it runs once when the body starts. Labels in front of the first
    /// body instruction (a loop jumping back to it) move after the snippet, so it runs once;
    /// line markers and try-block markers stay in front, so the snippet takes the first body
    /// instruction's line and block and no new line entry appears.
    public mutating func injectAtEntry(_ snippet: Snippet) throws(BytecodeError) {
        let start = bodyStart
        var first = start
        while first < elements.count, instruction(at: first) == nil { first += 1 }
        guard let target = instruction(at: first) else {
            throw BytecodeError(.marker("no instruction after the prologue"), at: start, in: template.nameText)
        }
        let exact = exactTargetLabels()
        var markers: [Element] = []
        var labels: [Element] = []
        for e in elements[start..<first] {
            if case .label(let l) = e {
                if exact.contains(l.id) {
                    throw BytecodeError(
                        .wouldSeparate("the first body instruction must stay at its jump's target label"), at: first,
                        in: template.nameText)
                }
                labels.append(e)
            } else {
                markers.append(e)
            }
        }
        let code = try lower(snippet).map { ins -> Element in
            var ins = ins
            ins.position = target.position
            return .instruction(ins)
        }
        elements.replaceSubrange(start..<first, with: markers + code + labels)
    }

    /// Inserts `snippet` before every return instruction (``returnIndices``), after the labels
    /// and markers in front of it (see ``insert(_:before:)``). Returns how many it placed.
    @discardableResult
    public mutating func injectBeforeReturns(_ snippet: Snippet) throws(BytecodeError) -> Int {
        let returns = returnIndices
        guard !returns.isEmpty else { return 0 }
        let code = try lower(snippet)
        for r in returns.reversed() { try insert(code, before: r) }
        return returns.count
    }
}
