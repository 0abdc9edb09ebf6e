/// Walking code-object trees: apply a transformation to every code object, nested ones first.
extension PyObject {
    /// Applies `transform` to every code object in this value (depth-first, children before their
    /// parent), keeping every encoding. The recursion depth is bounded by the marshal reader's
    /// nesting limit for values it produced.
    public func mapCode<E: Error>(_ transform: (CodeObject) throws(E) -> CodeObject) throws(E) -> PyObject {
        switch value {
        case .code(var c):
            if case .tuple(let items) = c.consts.value, items.contains(where: \.value.containsCode) {
                var newItems = items
                for i in newItems.indices where newItems[i].value.containsCode {
                    newItems[i] = try newItems[i].mapCode(transform)
                }
                c.consts.value = .tuple(newItems)
            }
            var out = self
            out.value = .code(try transform(c))
            return out
        case .tuple(let items):
            guard items.contains(where: \.value.containsCode) else { return self }
            var newItems = items
            for i in newItems.indices { newItems[i] = try newItems[i].mapCode(transform) }
            var out = self
            out.value = .tuple(newItems)
            return out
        default:
            return self
        }
    }
}

extension PyValue {
    /// Whether this value is or directly holds (in a tuple) a code object.
    var containsCode: Bool {
        switch self {
        case .code: return true
        case .tuple(let items): return items.contains { $0.value.containsCode }
        default: return false
        }
    }
}

extension PythonVersion {
    /// Decodes a code object's `co_code`, line table and exception table and encodes them back
    /// (`rewrite --layer concrete`).
    public func roundTripInstructions(_ code: CodeObject) throws(ConcreteError) -> CodeObject {
        guard case .bytes(let bytes) = code.code.value else {
            throw ConcreteError(.badField("co_code is not bytes"), at: 0, in: code.nameText)
        }
        let instructions: [ConcreteInstruction]
        do {
            instructions = try decodeInstructions(bytes)
        } catch {
            var e = error
            e.codeName = code.nameText
            throw e
        }
        var out = code
        out.code.value = .bytes(encodeInstructions(instructions))
        do {
            if case .bytes(let table) = code.linetable.value {
                let format = lineTableFormat
                let decoded = try LineTable.decode(
                    table, format: format, firstLine: Int(code.firstlineno), codeLength: bytes.count)
                let encoded = try decoded.encode(
                    format: format, firstLine: Int(code.firstlineno),
                    instructionStarts: instructionStarts(instructions))
                out.linetable.value = .bytes(encoded)
            }
        } catch {
            throw ConcreteError(.table("\(lineTableFieldName): \(error)"), at: error.offset, in: code.nameText)
        }
        if hasExceptionTable, case .bytes(let table) = code.exceptiontable.value {
            do {
                let entries = try ExceptionTable.decode(table, codeUnitCount: bytes.count / 2)
                out.exceptiontable.value = .bytes(try ExceptionTable.encode(entries))
            } catch {
                throw ConcreteError(.table("co_exceptiontable: \(error)"), at: error.offset, in: code.nameText)
            }
        }
        return out
    }

    /// Code-unit indices where instructions begin, an instruction's EXTENDED_ARG prefixes counting
    /// as part of it (what 3.11's location table gives one entry at least).
    public func instructionStarts(_ instructions: [ConcreteInstruction]) -> [Int] {
        let ext = instructionTraits.extendedArg
        var starts: [Int] = []
        starts.reserveCapacity(instructions.count)
        var previousWasPrefix = false
        for ins in instructions {
            if !previousWasPrefix { starts.append(ins.offset / 2) }
            previousWasPrefix = ins.opcode == ext
        }
        return starts
    }
}
