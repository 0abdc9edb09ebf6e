/// The relayout stress transform: a NOP before every instruction, keeping positions, so that
/// every jump, `EXTENDED_ARG`, line table and exception table must be recomputed.
extension Bytecode {
    /// Inserts a `NOP` before every instruction, in this code object and every nested one.
    ///
    /// The NOP takes the instruction's position and goes directly before it, after the labels
    /// and markers in front of it, so a jump that targeted the instruction now targets its NOP
    /// and the NOP sits in the same line entry and exception block. Where the interpreter looks
    /// at the bytecode around an instruction, the version's editing traits keep it intact:
    /// - ``PythonVersion/mustStayAdjacent(previous:next:)``: no NOP between the pair (3.11+
    ///   `YIELD_VALUE; RESUME`, 3.11 `SEND; YIELD_VALUE`, 3.6–3.10
    ///   `BEFORE_ASYNC_WITH; GET_AWAITABLE`, 3.8 `LOAD_CONST; SETUP_FINALLY`, 3.9–3.10
    ///   `GET_ITER; CALL_FUNCTION`, …);
    /// - ``PythonVersion/jumpNeedsExactTarget(opcode:)`` (3.12+ `FOR_ITER`, `SEND`) and
    ///   ``PythonVersion/mustStayAtLabel(opcode:)`` (3.6–3.8 `WITH_CLEANUP_START`, 3.8 and 3.12+
    ///   `END_ASYNC_FOR`, 3.13 `FOR_ITER`): the NOP goes before the instruction's labels instead,
    ///   at the end of the code before them;
    /// - ``PythonVersion/mustStayFirstOfLine(opcode:)`` (2.7–3.8 `DUP_TOP`/`POP_TOP` directly
    ///   after a line marker, how `frame_setlineno` recognizes an `except` line): no NOP;
    /// - ``PythonVersion/insertsBeforeLineMarker`` (3.9, whose line events after an exception
    ///   depend on which instruction opened the line): an instruction that opens a line entry
    ///   gets its NOP in front of its labels and line marker, with the previous instruction's
    ///   position, so it belongs to the previous entry (the code's first instruction gets none).
    public mutating func padWithNops() {
        let nop = version.editingTraits.nop
        let exactTargets = exactTargetLabels()
        var out: [Element] = []
        out.reserveCapacity(elements.count * 2)
        var previous: UInt8? = nil
        var previousPosition: SourcePosition? = nil
        var runStart = 0
        var runHasExactTarget = false
        var runHasLabel = false
        var startsLine = false
        /// `lineAtOpcode` markers before the next instruction: they stay directly in front of it.
        var atOpcode: [Element] = []
        for element in elements {
            switch element {
            case .instruction(let ins):
                let padding = Element.instruction(Instruction(opcode: nop, position: ins.position))
                if let p = previous, version.mustStayAdjacent(previous: p, next: ins.opcode) {
                    // nothing between the pair
                } else if startsLine && version.mustStayFirstOfLine(opcode: ins.opcode) {
                    // nothing between the line marker and the instruction
                } else if startsLine && version.insertsBeforeLineMarker {
                    if let position = previousPosition {
                        out.insert(.instruction(Instruction(opcode: nop, position: position)), at: runStart)
                    }
                } else if runHasExactTarget || (runHasLabel && version.mustStayAtLabel(opcode: ins.opcode)) {
                    out.insert(padding, at: runStart)
                } else {
                    out.append(padding)
                }
                out.append(contentsOf: atOpcode)
                atOpcode.removeAll(keepingCapacity: true)
                out.append(element)
                previous = ins.opcode
                previousPosition = ins.position
                runStart = out.count
                runHasExactTarget = false
                runHasLabel = false
                startsLine = false
            case .setLine:
                startsLine = true
                out.append(element)
            case .lineAtOpcode:
                atOpcode.append(element)
            case .label(let l):
                if exactTargets.contains(l.id) { runHasExactTarget = true }
                runHasLabel = true
                out.append(element)
            default:
                out.append(element)
            }
        }
        out.append(contentsOf: atOpcode)  // (none: the lifter puts them before an instruction)
        elements = out
        for i in constants.indices {
            if case .code(var nested, let encoding) = constants[i] {
                nested.padWithNops()
                constants[i] = .code(nested, encoding: encoding)
            }
        }
    }
}
