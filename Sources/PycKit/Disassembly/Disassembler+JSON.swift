/// The same information as the `dis` listing, as JSON (schema in README.md, "dis --format json").
extension Disassembler {
    /// One JSON object for a module: `{"version": …, "code": CODE}`; CODE nests its code constants.
    public func json(_ code: CodeObject, path: String? = nil) -> (text: [UInt8], problems: [Problem]) {
        var out = ByteWriter(capacity: code.codeBytes.count * 40 + 256)
        var problems: [Problem] = []
        var scratch = Scratch()
        out.append("{" as StaticString)
        if let path {
            out.append(contentsOf: "\"path\": ".utf8)
            appendJSONString(path, to: &out)
            out.append(", " as StaticString)
        }
        out.append(contentsOf: "\"version\": \"\(version)\", \"code\": ".utf8)
        writeJSON(code, to: &out, scratch: &scratch, problems: &problems, depth: 0)
        out.append(contentsOf: "}\n".utf8)
        return (out.bytes, problems)
    }

    func writeJSON(
        _ code: CodeObject, to out: inout ByteWriter, scratch: inout Scratch, problems: inout [Problem], depth: Int
    ) {
        let name = code.nameText
        let source = TreeCode(code, usesLocalsPlus: style.usesLocalsPlus)
        let bytes = code.codeBytes
        let a = bytes.withUnsafeBufferPointer { analyze(source, bytes: $0, scratch: &scratch, problems: &problems) }
        let instructions = version.decodeInstructionsLeniently(bytes).0
        let lineStarts = scratch.lineStarts
        let marks = scratch
        let labels = scratch.labels

        // Positions per code unit (3.11+) or line ranges (before).
        var positions: [SourcePosition]? = nil
        var ranges: [LineRange] = []
        if case .bytes(let table) = code.linetable.value {
            if case .locations = version.lineTableFormat {
                positions = try? LocationTable.decode(table, firstLine: Int(code.firstlineno), codeUnitCount: bytes.count / 2)
            } else {
                ranges = (try? LineTable.lines(table, format: version.lineTableFormat, firstLine: Int(code.firstlineno), codeLength: bytes.count)) ?? []
            }
        }

        out.append(contentsOf: "{\"name\": ".utf8)
        appendJSONString(name, to: &out)
        if case .str = code.qualname.value {
            out.append(contentsOf: ", \"qualname\": ".utf8)
            appendJSONString(code.qualname.value.text ?? "", to: &out)
        }
        out.append(contentsOf: ", \"filename\": ".utf8)
        appendJSONString(code.filename.value.text ?? "", to: &out)
        out.append(contentsOf: ", \"firstlineno\": \(code.firstlineno), \"argcount\": \(code.argcount), \"flags\": \(code.flags), \"stacksize\": \(code.stacksize)".utf8)
        out.append(contentsOf: ", \"instructions\": [".utf8)
        var startIndex = 0
        var rangeIndex = 0
        var currentLine: Int? = nil
        var pendingExtended = false
        for (n, ins) in instructions.enumerated() {
            if n > 0 { out.append(0x2C) }
            out.append(contentsOf: "{\"offset\": \(ins.offset), \"opcode\": \(ins.opcode), \"opname\": ".utf8)
            appendJSONString(traits.opcodes[ins.opcode]?.name ?? "<\(ins.opcode)>", to: &out)
            out.append(contentsOf: ", \"arg\": ".utf8)
            var argrepr = ByteWriter()
            if let arg = ins.oparg {
                appendInt(arg, width: 0, to: &out)
                let isLong = style.extendedArgumentIsLong && pendingExtended
                describe(
                    ins, arg: arg, isLong: isLong, code: source, labels: labels, into: &argrepr, problems: &problems)
                if traits.hasArgument[Int(ins.opcode)] { pendingExtended = ins.opcode == traits.extendedArg }
            } else {
                out.append("null" as StaticString)
            }
            out.append(contentsOf: ", \"argrepr\": ".utf8)
            appendJSONString(String(decoding: argrepr.bytes, as: UTF8.self), to: &out)
            out.append(contentsOf: ", \"jump_target\": ".utf8)
            if let t = jumpTarget(ins) { appendInt(t, width: 0, to: &out) } else { out.append("null" as StaticString) }
            out.append(contentsOf: ", \"is_jump_target\": \(marks.isTarget(ins.offset))".utf8)
            if style.layout == .labels {
                out.append(contentsOf: ", \"label\": ".utf8)
                if let l = labels.label(at: ins.offset) { appendInt(l, width: 0, to: &out) } else { out.append("null" as StaticString) }
            }
            while startIndex < lineStarts.count && lineStarts[startIndex].offset < ins.offset { startIndex += 1 }
            out.append(contentsOf: ", \"line_start\": ".utf8)
            if startIndex < lineStarts.count && lineStarts[startIndex].offset == ins.offset {
                if let l = lineStarts[startIndex].line { appendInt(l, width: 0, to: &out) } else { out.append("null" as StaticString) }
            } else {
                out.append("false" as StaticString)
            }
            // The instruction's own line and, from 3.11, its full position.
            if let positions {
                let unit = ins.offset / 2
                let p = unit < positions.count ? positions[unit] : SourcePosition(line: nil, endLine: nil, column: nil, endColumn: nil)
                currentLine = p.line
                out.append(contentsOf: ", \"line\": \(jsonInt(p.line)), \"positions\": [\(jsonInt(p.line)), \(jsonInt(p.endLine)), \(jsonInt(p.column)), \(jsonInt(p.endColumn))]".utf8)
            } else {
                while rangeIndex < ranges.count && ranges[rangeIndex].end <= ins.offset { rangeIndex += 1 }
                currentLine = rangeIndex < ranges.count && ranges[rangeIndex].start <= ins.offset ? ranges[rangeIndex].line : nil
                out.append(contentsOf: ", \"line\": \(jsonInt(currentLine))".utf8)
            }
            out.append(contentsOf: ", \"cache_count\": \(ins.cacheCount)}".utf8)
        }
        out.append(contentsOf: "], \"exception_table\": [".utf8)
        for (n, e) in a.exceptionEntries.enumerated() {
            if n > 0 { out.append(", " as StaticString) }
            out.append(contentsOf: "{\"start\": \(e.startOffset), \"end\": \(e.endOffset), \"target\": \(e.targetOffset), \"depth\": \(e.depth), \"lasti\": \(e.lasti)}".utf8)
        }
        out.append(contentsOf: "], \"nested\": [".utf8)
        var first = true
        if depth < MarshalReader.maxDepth {
            for c in code.constants {
                guard case .code(let nested) = c.value else { continue }
                if !first { out.append(", " as StaticString) }
                first = false
                writeJSON(nested, to: &out, scratch: &scratch, problems: &problems, depth: depth + 1)
            }
        }
        out.append("]}" as StaticString)
    }
}

func jsonInt(_ v: Int?) -> String { v.map(String.init) ?? "null" }

/// Appends `s` as a JSON string literal.
func appendJSONString(_ s: String, to out: inout ByteWriter) {
    out.append(0x22)
    let hex = Array("0123456789abcdef".utf8)
    for b in s.utf8 {
        switch b {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: out.append(contentsOf: [0x5C, 0x72])
        case 0x09: out.append(contentsOf: [0x5C, 0x74])
        case 0..<0x20: out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]] as [UInt8])
        default: out.append(b)
        }
    }
    out.append(0x22)
}
