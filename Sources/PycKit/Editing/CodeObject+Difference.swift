extension CodeObject {
    /// Where this code object tree first differs from `other`, as `qualified.name: co_field`
    /// (nested code objects are compared field by field, depth-first); nil when equal.
    /// Diagnostics for `rewrite --check`.
    public func firstDifference(from other: CodeObject, path: String = "") -> String? {
        let here = path.isEmpty ? nameText : path + "." + nameText
        let mine = constants
        let theirs = other.constants
        if mine.count == theirs.count {
            for (a, b) in zip(mine, theirs) {
                if case .code(let x) = a.value, case .code(let y) = b.value,
                    let d = x.firstDifference(from: y, path: here)
                {
                    return d
                }
            }
        }
        for field in Field.allCases {
            if field.isInteger {
                if self[integer: field] != other[integer: field] {
                    return "\(here): co_\(field.rawValue) \(self[integer: field]) instead of \(other[integer: field])"
                }
            } else if field == .consts {
                if mine.count != theirs.count { return "\(here): co_consts has \(mine.count) items instead of \(theirs.count)" }
                for (i, (a, b)) in zip(mine, theirs).enumerated() where !a.value.isCode && (a != b || a.encoding != b.encoding) {
                    return "\(here): co_consts[\(i)]"
                }
            } else if self[object: field] != other[object: field] || self[object: field].encoding != other[object: field].encoding {
                var detail = ""
                if case .bytes(let x) = self[object: field].value, case .bytes(let y) = other[object: field].value {
                    let n = min(x.count, y.count)
                    let at = (0..<n).first { x[$0] != y[$0] } ?? n
                    detail = " at byte \(at) (\(x.count) bytes instead of \(y.count))"
                }
                return "\(here): co_\(field.rawValue)\(detail)"
            }
        }
        return nil
    }
}

extension PyValue {
    var isCode: Bool {
        if case .code = self { return true }
        return false
    }
}
