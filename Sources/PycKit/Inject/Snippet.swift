/// A Python expression statement to inject, such as `events.Register(self)` or
/// `trace.enter(__name__, "f", k=(1, None))`, parsed by PycKit itself (no Python at run time).
///
/// The supported subset: names, attribute access, calls with positional and keyword arguments,
/// constants (int, float, str, bytes, None, True, False, with unary minus on numbers) and tuples
/// of these. What Python would reject is a ``SnippetError`` of kind `.syntax`; what Python
/// accepts but PycKit does not lower yet (`*args`, operators, subscripts, …) is `.unsupported`.
/// Both carry the 1-based column, as Python's `SyntaxError.offset`.
public struct Snippet: Sendable, Hashable, CustomStringConvertible {
    public let source: String
    public let expression: Expression

    /// One node of the snippet; `column` is where it starts (1-based).
    public indirect enum Expression: Sendable, Hashable {
        case name(String, column: Int)
        case attribute(Expression, String, column: Int)
        case call(Expression, arguments: [Expression], keywords: [Keyword], column: Int)
        case constant(Constant, column: Int)
        case tuple([Expression], column: Int)

        public var column: Int {
            switch self {
            case .name(_, let c), .attribute(_, _, let c), .call(_, _, _, let c), .constant(_, let c), .tuple(_, let c):
                return c
            }
        }
    }

    /// `name=value` in a call.
    public struct Keyword: Sendable, Hashable {
        public var name: String
        public var value: Expression
        public init(name: String, value: Expression) {
            self.name = name
            self.value = value
        }
    }

    /// A literal. `string` is a text string (`str`; 2.7: `unicode` when written `u"…"`),
    /// `bytes` a byte string (`b"…"`; 2.7: any plain `"…"` too, see the lowering).
    public enum Constant: Sendable, Hashable {
        case none
        case bool(Bool)
        case int(Int64)
        case float(Double)
        /// `unicodePrefix`: written with a `u` prefix.
        case string(String, unicodePrefix: Bool)
        case bytes([UInt8])
    }

    /// Parses one expression statement.
    public init(_ source: String) throws(SnippetError) {
        var parser = SnippetParser(source)
        self.source = source
        self.expression = try parser.parseStatement()
    }

    public var description: String { source }
}

/// Why a snippet was refused, and at which column (1-based, as Python's `SyntaxError.offset`).
public struct SnippetError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Python itself would reject the snippet.
        case syntax
        /// Valid Python that PycKit cannot inject yet.
        case unsupported
    }

    public var kind: Kind
    public var column: Int
    public var message: String

    public init(_ kind: Kind, _ message: String, column: Int) {
        self.kind = kind
        self.message = message
        self.column = column
    }

    public var description: String {
        (kind == .syntax ? "invalid snippet" : "unsupported snippet") + " at column \(column): \(message)"
    }
}

// MARK: - Tokens

struct SnippetToken: Equatable {
    enum Kind: Equatable {
        case name(String)
        case number(Snippet.Constant)
        case string(Snippet.Constant)
        /// Punctuation and operators, as written (`(`, `**`, `==`, …).
        case op(String)
        case end
    }
    var kind: Kind
    /// 1-based column of the token's first character.
    var column: Int
}

/// Python's reserved words (3.x; 2.7 adds `print` and `exec`, which are valid as names there
/// only with `print_function`, and removes `True`/`False`/`None`/`nonlocal`/`async`/`await`).
let pythonKeywords: Set<String> = [
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass",
    "raise", "return", "try", "while", "with", "yield",
]

struct SnippetLexer {
    let chars: [Character]
    var i = 0

    init(_ source: String) { chars = Array(source) }

    func fail(_ kind: SnippetError.Kind, _ message: String, at index: Int) -> SnippetError {
        SnippetError(kind, message, column: index + 1)
    }

    mutating func tokens() throws(SnippetError) -> [SnippetToken] {
        var out: [SnippetToken] = []
        while true {
            let t = try next()
            out.append(t)
            if t.kind == .end { return out }
        }
    }

    static func isIdentifierStart(_ c: Character) -> Bool { c == "_" || c.isLetter }
    static func isIdentifierPart(_ c: Character) -> Bool { c == "_" || c.isLetter || c.isNumber }

    mutating func next() throws(SnippetError) -> SnippetToken {
        while i < chars.count,
            chars[i] == " " || chars[i] == "\t" || chars[i] == "\n" || chars[i] == "\r" || chars[i] == "\u{0C}"
        {
            if chars[i] == "\n" || chars[i] == "\r" {
                // Only trailing line ends are allowed (one statement).
                var k = i
                while k < chars.count, chars[k].isWhitespace { k += 1 }
                if k < chars.count && chars[k] != "#" {
                    throw fail(.unsupported, "only one line is supported", at: i)
                }
            }
            i += 1
        }
        if i < chars.count, chars[i] == "#" { i = chars.count }
        guard i < chars.count else { return SnippetToken(kind: .end, column: chars.count + 1) }
        let start = i
        let c = chars[i]
        if c.isNumber && c.isASCII || (c == "." && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber)
        {
            return SnippetToken(kind: .number(try number()), column: start + 1)
        }
        if Self.isIdentifierStart(c) {
            var j = i
            while j < chars.count, Self.isIdentifierPart(chars[j]) { j += 1 }
            let word = String(chars[i..<j])
            if j < chars.count, chars[j] == "\"" || chars[j] == "'", word.count <= 2,
                word.lowercased().allSatisfy({ "rbuf".contains($0) })
            {
                i = j
                return SnippetToken(
                    kind: .string(try string(prefix: word.lowercased(), prefixStart: start)), column: start + 1)
            }
            i = j
            return SnippetToken(kind: .name(word), column: start + 1)
        }
        if c == "\"" || c == "'" {
            return SnippetToken(kind: .string(try string(prefix: "", prefixStart: start)), column: start + 1)
        }
        for op in [
            "**=", "//=", ">>=", "<<=", "...", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "->", ":=", "+=", "-=",
            "*=", "/=", "%=", "&=", "|=", "^=", "@=",
        ] {
            let n = op.count
            if i + n <= chars.count, String(chars[i..<(i + n)]) == op {
                i += n
                return SnippetToken(kind: .op(op), column: start + 1)
            }
        }
        if "()[]{},.:;=+-*/%@&|^~<>".contains(c) {
            i += 1
            return SnippetToken(kind: .op(String(c)), column: start + 1)
        }
        throw fail(.syntax, "invalid character '\(c)'", at: i)
    }

    /// A number literal: decimal, hex, octal, binary integers (with `_` separators) and floats.
    mutating func number() throws(SnippetError) -> Snippet.Constant {
        let start = i
        func digits(_ ok: (Character) -> Bool) -> String {
            var s = ""
            while i < chars.count,
                ok(chars[i]) || (chars[i] == "_" && i + 1 < chars.count && ok(chars[i + 1]) && !s.isEmpty)
            {
                if chars[i] != "_" { s.append(chars[i]) }
                i += 1
            }
            return s
        }
        let isDigit: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        if chars[i] == "0", i + 1 < chars.count, "xXoObB".contains(chars[i + 1]) {
            let radix: Int
            switch chars[i + 1] {
            case "x", "X": radix = 16
            case "o", "O": radix = 8
            default: radix = 2
            }
            i += 2
            let text = digits { $0.isASCII && $0.isHexDigit && Int(String($0), radix: radix) != nil }
            guard !text.isEmpty else { throw fail(.syntax, "invalid number literal", at: start) }
            try checkNumberEnd(start)
            guard let v = Int64(text, radix: radix) else {
                throw fail(.unsupported, "integer literal does not fit in 64 bits", at: start)
            }
            return .int(v)
        }
        var text = digits(isDigit)
        var isFloat = false
        if i < chars.count, chars[i] == "." {
            isFloat = true
            text.append(".")
            i += 1
            text += digits(isDigit)
        }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            isFloat = true
            text.append("e")
            i += 1
            if i < chars.count, chars[i] == "+" || chars[i] == "-" {
                text.append(chars[i])
                i += 1
            }
            let e = digits(isDigit)
            guard !e.isEmpty else { throw fail(.syntax, "invalid float literal", at: start) }
            text += e
        }
        if i < chars.count, chars[i] == "j" || chars[i] == "J" {
            throw fail(.unsupported, "complex literals are not supported", at: start)
        }
        if i < chars.count, chars[i] == "l" || chars[i] == "L" {
            throw fail(.unsupported, "2.x long literals are not supported", at: start)
        }
        try checkNumberEnd(start)
        if isFloat {
            guard let d = Double(text.hasPrefix(".") ? "0" + text : text) else {
                throw fail(.syntax, "invalid float literal", at: start)
            }
            return .float(d)
        }
        if text.count > 1, text.hasPrefix("0"), text.contains(where: { $0 != "0" }) {
            throw fail(.syntax, "leading zeros in decimal integer literals are not permitted", at: start)
        }
        guard let v = Int64(text) else {
            throw fail(.unsupported, "integer literal does not fit in 64 bits", at: start)
        }
        return .int(v)
    }

    func checkNumberEnd(_ start: Int) throws(SnippetError) {
        if i < chars.count, Self.isIdentifierPart(chars[i]) {
            throw fail(.syntax, "invalid number literal", at: start)
        }
    }

    /// A string literal after its prefix (`r`, `b`, `u`, `rb`, `br`; `f` is refused).
    mutating func string(prefix: String, prefixStart: Int) throws(SnippetError) -> Snippet.Constant {
        if prefix.contains("f") { throw fail(.unsupported, "f-strings are not supported", at: prefixStart) }
        let raw = prefix.contains("r")
        let isBytes = prefix.contains("b")
        if prefix.contains("u") && prefix.count > 1 { throw fail(.syntax, "invalid string prefix", at: prefixStart) }
        if isBytes && prefix.count == 2 && !raw { throw fail(.syntax, "invalid string prefix", at: prefixStart) }
        let quote = chars[i]
        let triple = i + 2 < chars.count && chars[i + 1] == quote && chars[i + 2] == quote
        i += triple ? 3 : 1
        var scalars: [UInt32] = []
        while true {
            guard i < chars.count else {
                throw fail(.syntax, "unterminated string literal", at: prefixStart)
            }
            let c = chars[i]
            if c == quote {
                if !triple {
                    i += 1
                    break
                }
                if i + 2 < chars.count, chars[i + 1] == quote, chars[i + 2] == quote {
                    i += 3
                    break
                }
            }
            if !triple && (c == "\n" || c == "\r") {
                throw fail(.syntax, "unterminated string literal", at: prefixStart)
            }
            if c == "\\" && !raw {
                i += 1
                guard i < chars.count else { throw fail(.syntax, "unterminated string literal", at: prefixStart) }
                try escape(into: &scalars, isBytes: isBytes)
                continue
            }
            if c == "\\" && raw, i + 1 < chars.count {
                // A raw string keeps the backslash, and the next character cannot end it.
                scalars.append(0x5C)
                i += 1
                for u in chars[i].unicodeScalars { scalars.append(u.value) }
                i += 1
                continue
            }
            if isBytes && !c.isASCII { throw fail(.syntax, "bytes can only contain ASCII literal characters", at: i) }
            for u in c.unicodeScalars { scalars.append(u.value) }
            i += 1
        }
        if isBytes { return .bytes(scalars.map { UInt8(truncatingIfNeeded: $0) }) }
        var s = ""
        for v in scalars {
            guard let u = Unicode.Scalar(v) else {
                throw fail(.unsupported, "lone surrogates are not supported", at: prefixStart)
            }
            s.unicodeScalars.append(u)
        }
        return .string(s, unicodePrefix: prefix.contains("u"))
    }

    mutating func escape(into scalars: inout [UInt32], isBytes: Bool) throws(SnippetError) {
        let at = i - 1
        let c = chars[i]
        i += 1
        func hex(_ n: Int) throws(SnippetError) -> UInt32 {
            guard i + n <= chars.count, let v = UInt32(String(chars[i..<(i + n)]), radix: 16) else {
                throw fail(.syntax, "truncated \\\(c) escape", at: at)
            }
            i += n
            return v
        }
        switch c {
        case "\n": break
        case "\\": scalars.append(0x5C)
        case "'": scalars.append(0x27)
        case "\"": scalars.append(0x22)
        case "a": scalars.append(7)
        case "b": scalars.append(8)
        case "f": scalars.append(12)
        case "n": scalars.append(10)
        case "r": scalars.append(13)
        case "t": scalars.append(9)
        case "v": scalars.append(11)
        case "x": scalars.append(try hex(2))
        case "u" where !isBytes: scalars.append(try hex(4))
        case "U" where !isBytes:
            let v = try hex(8)
            guard v <= 0x10FFFF else { throw fail(.syntax, "illegal Unicode character", at: at) }
            scalars.append(v)
        case "N" where !isBytes: throw fail(.unsupported, "\\N{…} escapes are not supported", at: at)
        case "0"..."7":
            var v = UInt32(String(c))!
            var n = 1
            while n < 3, i < chars.count, let d = UInt32(String(chars[i])), d < 8 {
                v = v * 8 + d
                i += 1
                n += 1
            }
            scalars.append(v)
        default:
            // Unknown escapes keep their backslash (a DeprecationWarning in Python, not an error).
            scalars.append(0x5C)
            for u in c.unicodeScalars { scalars.append(u.value) }
        }
    }
}

// MARK: - Parser

/// Recursive descent over the tokens: `statement := expression [';'] END`, `expression :=
/// '-'* primary | tuple`, `primary := atom ('.' NAME | '(' arguments ')')*`.
struct SnippetParser {
    let source: String
    var tokens: [SnippetToken] = []
    var p = 0
    var lexError: SnippetError?
    var depth = 0

    init(_ source: String) {
        self.source = source
        var lexer = SnippetLexer(source)
        do {
            tokens = try lexer.tokens()
        } catch {
            lexError = error
        }
    }

    var current: SnippetToken { tokens[p] }

    func fail(_ kind: SnippetError.Kind, _ message: String, at token: SnippetToken) -> SnippetError {
        SnippetError(kind, message, column: token.column)
    }

    func isOp(_ s: String) -> Bool { current.kind == .op(s) }

    mutating func parseStatement() throws(SnippetError) -> Snippet.Expression {
        if let lexError {
            // A lexical error after a complete statement-level problem is still reported where it is.
            throw lexError
        }
        if case .end = current.kind { throw fail(.syntax, "empty snippet: expected an expression", at: current) }
        if case .name(let w) = current.kind,
            pythonKeywords.contains(w) && !["lambda", "not", "await", "yield"].contains(w)
        {
            throw fail(.syntax, "'\(w)' starts a statement, not an expression statement", at: current)
        }
        let e = try parseExpressionList()
        if isOp(";") {
            p += 1
            if case .end = current.kind { return e }
            throw fail(.unsupported, "only one statement is supported", at: current)
        }
        switch current.kind {
        case .end:
            return e
        case .op(let o) where o == "=" || o.hasSuffix("=") && o.count >= 2 && !["==", "<=", ">=", "!="].contains(o):
            throw fail(.syntax, "an assignment is not an expression statement", at: current)
        case .op(let o) where o == ":":
            throw fail(.syntax, "an annotation is not an expression statement", at: current)
        default:
            return try unexpected()
        }
    }

    /// Reports the current token as unexpected: operators Python accepts are unsupported,
    /// anything else is a syntax error.
    func unexpected() throws(SnippetError) -> Snippet.Expression {
        switch current.kind {
        case .end: throw fail(.syntax, "unexpected end of snippet", at: current)
        case .op(let o):
            let binary: Set<String> = [
                "+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^", "<", ">", "==", "!=", "<=", ">=",
            ]
            if binary.contains(o) { throw fail(.unsupported, "operator '\(o)' is not supported", at: current) }
            if o == "[" { throw fail(.unsupported, "subscripts are not supported", at: current) }
            if o == ":=" { throw fail(.unsupported, "assignment expressions are not supported", at: current) }
            throw fail(.syntax, "unexpected '\(o)'", at: current)
        case .name(let w) where ["if", "and", "or", "not", "in", "is", "for"].contains(w):
            throw fail(.unsupported, "'\(w)' is not supported", at: current)
        default:
            throw fail(.syntax, "unexpected token after the expression", at: current)
        }
    }

    /// `a, b` at the top level or inside parentheses: a tuple when there is a comma.
    mutating func parseExpressionList() throws(SnippetError) -> Snippet.Expression {
        let start = current
        let first = try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            p += 1
            if isOp(")") || current.kind == .end || isOp(";") || isOp("=") { break }
            items.append(try parseExpression())
        }
        return .tuple(items, column: start.column)
    }

    mutating func parseExpression() throws(SnippetError) -> Snippet.Expression {
        depth += 1
        defer { depth -= 1 }
        guard depth < 100 else { throw fail(.unsupported, "nesting too deep", at: current) }
        if isOp("-") || isOp("+") {
            let sign = current
            p += 1
            let operand = try parseExpression()
            if case .constant(let c, _) = operand {
                switch (c, sign.kind == .op("-")) {
                case (.int(let v), true) where v != Int64.min: return .constant(.int(-v), column: sign.column)
                case (.float(let d), true): return .constant(.float(-d), column: sign.column)
                case (.int, false), (.float, false): return .constant(c, column: sign.column)
                default: break
                }
            }
            throw fail(
                .unsupported, "unary '\(sign.kind == .op("-") ? "-" : "+")' is supported on number literals only",
                at: sign)
        }
        if case .name(let w) = current.kind, ["lambda", "not", "await", "yield"].contains(w) {
            throw fail(.unsupported, "'\(w)' is not supported", at: current)
        }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws(SnippetError) -> Snippet.Expression {
        var e = try parseAtom()
        while true {
            if isOp(".") {
                p += 1
                guard case .name(let n) = current.kind else {
                    throw fail(.syntax, "expected an attribute name after '.'", at: current)
                }
                if pythonKeywords.contains(n) || ["None", "True", "False"].contains(n) {
                    throw fail(.syntax, "'\(n)' is a keyword, not an attribute name", at: current)
                }
                p += 1
                e = .attribute(e, n, column: e.column)
            } else if isOp("(") {
                p += 1
                e = try parseCall(e)
            } else if isOp("[") {
                throw fail(.unsupported, "subscripts are not supported", at: current)
            } else {
                return e
            }
        }
    }

    mutating func parseCall(_ callee: Snippet.Expression) throws(SnippetError) -> Snippet.Expression {
        var arguments: [Snippet.Expression] = []
        var keywords: [Snippet.Keyword] = []
        while !isOp(")") {
            if case .end = current.kind { throw fail(.syntax, "'(' was never closed", at: current) }
            if isOp("*") || isOp("**") {
                throw fail(.unsupported, "'\(isOp("*") ? "*" : "**")' unpacking in calls is not supported", at: current)
            }
            let argStart = current
            if case .name(let n) = current.kind, tokens[p + 1].kind == .op("=") {
                if pythonKeywords.contains(n) || ["None", "True", "False"].contains(n) {
                    throw fail(.syntax, "cannot assign to \(n)", at: current)
                }
                p += 2
                let value = try parseExpression()
                if keywords.contains(where: { $0.name == n }) {
                    throw fail(.syntax, "keyword argument repeated: \(n)", at: argStart)
                }
                keywords.append(Snippet.Keyword(name: n, value: value))
            } else {
                let value = try parseExpression()
                if isOp("=") { throw fail(.syntax, "expression cannot contain assignment", at: argStart) }
                if !keywords.isEmpty {
                    throw fail(.syntax, "positional argument follows keyword argument", at: argStart)
                }
                if case .name("for") = current.kind {
                    throw fail(.unsupported, "generator expressions are not supported", at: current)
                }
                arguments.append(value)
            }
            if isOp(",") {
                p += 1
                continue
            }
            if !isOp(")") {
                if case .end = current.kind { throw fail(.syntax, "'(' was never closed", at: current) }
                _ = try unexpected()
            }
        }
        p += 1
        return .call(callee, arguments: arguments, keywords: keywords, column: callee.column)
    }

    mutating func parseAtom() throws(SnippetError) -> Snippet.Expression {
        let t = current
        switch t.kind {
        case .name(let n):
            p += 1
            switch n {
            case "None": return .constant(.none, column: t.column)
            case "True": return .constant(.bool(true), column: t.column)
            case "False": return .constant(.bool(false), column: t.column)
            default:
                if pythonKeywords.contains(n) { throw fail(.syntax, "unexpected keyword '\(n)'", at: t) }
                return .name(n, column: t.column)
            }
        case .number(let c):
            p += 1
            return .constant(c, column: t.column)
        case .string(var c):
            p += 1
            // Adjacent literals concatenate; str and bytes do not mix.
            while case .string(let next) = current.kind {
                switch (c, next) {
                case (.string(let a, let u), .string(let b, let v)): c = .string(a + b, unicodePrefix: u || v)
                case (.bytes(let a), .bytes(let b)): c = .bytes(a + b)
                default: throw fail(.syntax, "cannot mix bytes and nonbytes literals", at: current)
                }
                p += 1
            }
            return .constant(c, column: t.column)
        case .op("("):
            p += 1
            if isOp(")") {
                p += 1
                return .tuple([], column: t.column)
            }
            let inner = try parseExpressionList()
            guard isOp(")") else {
                if case .end = current.kind { throw fail(.syntax, "'(' was never closed", at: current) }
                return try unexpected()
            }
            p += 1
            return inner
        case .op("["), .op("{"):
            throw fail(.unsupported, "list, set and dict displays are not supported", at: t)
        case .op("..."):
            throw fail(.unsupported, "Ellipsis is not supported", at: t)
        default:
            return try unexpected()
        }
    }
}
