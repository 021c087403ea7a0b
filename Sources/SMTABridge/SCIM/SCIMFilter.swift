/// A SCIM filter (RFC 7644 §3.4.2.2), parsed from the `filter` query parameter of a list.
///
/// The grammar: comparisons `attrPath op value` (`eq`, `ne`, `co`, `sw`, `ew`, `gt`, `ge`, `lt`,
/// `le`), presence `attrPath pr`, `and` (binding tighter than `or`), `not (…)`, parentheses, and
/// value paths `emails[type eq "work" and value co "@example.com"]`. Operators and attribute
/// names are case-insensitive; an attribute may carry its schema URN
/// (`urn:ietf:params:scim:schemas:core:2.0:User:userName`).
indirect enum SCIMFilter: Sendable, Equatable {
    /// `attrPath op value`.
    case compare(SCIMAttributePath, SCIMFilterOperator, SCIMFilterValue)
    /// `attrPath pr`: the attribute has a value.
    case present(SCIMAttributePath)
    /// `a and b`.
    case and(SCIMFilter, SCIMFilter)
    /// `a or b`.
    case or(SCIMFilter, SCIMFilter)
    /// `not (a)`.
    case not(SCIMFilter)
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`, whose paths
    /// name its sub-attributes.
    case valuePath(SCIMAttributePath, SCIMFilter)
}

/// SCIM's comparison operators.
enum SCIMFilterOperator: String, Sendable, CaseIterable {
    case eq, ne, co, sw, ew, gt, ge, lt, le
}

/// A comparison's operand.
enum SCIMFilterValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
}

/// An attribute path: `name`, `name.subAttribute`, either with its schema URN.
struct SCIMAttributePath: Sendable, Equatable, CustomStringConvertible {
    /// The schema URN written before the name, if any (`urn:…:User`).
    var schema: String?
    /// The attribute's name.
    var name: String
    /// The sub-attribute, if any.
    var subAttribute: String?

    var description: String {
        (schema.map { "\($0):" } ?? "") + name + (subAttribute.map { ".\($0)" } ?? "")
    }

    /// Reads `urn:…:name.sub`, `name.sub` or `name`.
    /// - Throws: `invalidPath` (or `kind`) when it is not one.
    init(parsing text: Substring, kind: SCIMError.Kind = .invalidPath) throws(SCIMError) {
        var rest = text
        if rest.lowercased().hasPrefix("urn:"), let colon = rest.lastIndex(of: ":") {
            schema = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy(Self.isName) else {
            throw SCIMError(status: .badRequest, scimType: kind, detail: "\"\(text.prefix(100))\" is not an attribute path")
        }
        name = String(parts[0])
        subAttribute = parts.count == 2 ? String(parts[1]) : nil
    }

    init(schema: String? = nil, name: String, subAttribute: String? = nil) {
        self.schema = schema
        self.name = name
        self.subAttribute = subAttribute
    }

    /// RFC 7643's ATTRNAME: a letter, then letters, digits, `-`, `_` and `$`.
    private static func isName(_ part: Substring) -> Bool {
        guard let first = part.first, first.isASCII, first.isLetter || first == "$" else { return false }
        return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "$") }
    }
}

extension SCIMFilter {
    /// The longest filter accepted, in characters.
    static let maximumLength = 4_096
    /// The deepest nesting of parentheses, `not` and value paths accepted.
    static let maximumDepth = 16

    /// Parses `text`.
    /// - Throws: ``SCIMError`` 400 `invalidFilter` naming what is wrong.
    static func parse(_ text: String) throws(SCIMError) -> SCIMFilter {
        guard text.count <= maximumLength else {
            throw invalid("The filter is longer than \(maximumLength) characters")
        }
        var parser = Parser(tokens: try tokenize(text))
        let filter = try parser.expression(depth: 0)
        if let extra = parser.peek {
            throw invalid("Unexpected \(extra.description) in the filter")
        }
        return filter
    }

    static func invalid(_ detail: String) -> SCIMError {
        SCIMError(status: .badRequest, scimType: .invalidFilter, detail: detail)
    }

    fileprivate enum Token: Equatable, CustomStringConvertible {
        case open, close, openBracket, closeBracket
        case word(Substring)
        case string(String)

        var description: String {
            switch self {
            case .open: "\"(\""
            case .close: "\")\""
            case .openBracket: "\"[\""
            case .closeBracket: "\"]\""
            case .word(let word): "\"\(word.prefix(100))\""
            case .string: "a string"
            }
        }

        /// Whether the token is the keyword `word` (case-insensitive).
        func isKeyword(_ word: String) -> Bool {
            if case .word(let text) = self { return text.lowercased() == word }
            return false
        }
    }

    private static func tokenize(_ text: String) throws(SCIMError) -> [Token] {
        var tokens: [Token] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            switch character {
            case " ", "\t", "\n", "\r":
                index = text.index(after: index)
            case "(", ")", "[", "]":
                tokens.append(character == "(" ? .open : character == ")" ? .close : character == "[" ? .openBracket : .closeBracket)
                index = text.index(after: index)
            case "\"":
                let (value, end) = try string(in: text, from: index)
                tokens.append(.string(value))
                index = end
            default:
                let start = index
                while index < text.endIndex, !" \t\n\r()[]\"".contains(text[index]) {
                    index = text.index(after: index)
                }
                tokens.append(.word(text[start..<index]))
            }
        }
        return tokens
    }

    /// A JSON string literal starting at `start` (its opening quote), and the index after it.
    private static func string(in text: String, from start: String.Index) throws(SCIMError) -> (String, String.Index) {
        var index = text.index(after: start)
        var escaped = false
        while index < text.endIndex {
            let character = text[index]
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                let end = text.index(after: index)
                guard case .string(let value) = try? SCIMJSON.parse(Array(text[start..<end].utf8)) else {
                    throw invalid("A string in the filter is not a valid JSON string")
                }
                return (value, end)
            }
            index = text.index(after: index)
        }
        throw invalid("A string in the filter has no closing quote")
    }

    private struct Parser {
        let tokens: [Token]
        var position = 0

        var peek: Token? { position < tokens.count ? tokens[position] : nil }

        mutating func next() throws(SCIMError) -> Token {
            guard let token = peek else { throw SCIMFilter.invalid("The filter ends too early") }
            position += 1
            return token
        }

        mutating func expect(_ token: Token) throws(SCIMError) {
            let found = try next()
            guard found == token else {
                throw SCIMFilter.invalid("Expected \(token.description) in the filter, found \(found.description)")
            }
        }

        /// `or` of `and`s.
        mutating func expression(depth: Int) throws(SCIMError) -> SCIMFilter {
            guard depth <= SCIMFilter.maximumDepth else {
                throw SCIMFilter.invalid("The filter nests deeper than \(SCIMFilter.maximumDepth) levels")
            }
            var left = try conjunction(depth: depth)
            while peek?.isKeyword("or") == true {
                position += 1
                left = .or(left, try conjunction(depth: depth))
            }
            return left
        }

        mutating func conjunction(depth: Int) throws(SCIMError) -> SCIMFilter {
            var left = try unary(depth: depth)
            while peek?.isKeyword("and") == true {
                position += 1
                left = .and(left, try unary(depth: depth))
            }
            return left
        }

        mutating func unary(depth: Int) throws(SCIMError) -> SCIMFilter {
            let token = try next()
            if token.isKeyword("not") {
                try expect(.open)
                let inner = try expression(depth: depth + 1)
                try expect(.close)
                return .not(inner)
            }
            if token == .open {
                let inner = try expression(depth: depth + 1)
                try expect(.close)
                return inner
            }
            guard case .word(let word) = token else {
                throw SCIMFilter.invalid("Expected an attribute in the filter, found \(token.description)")
            }
            let path = try SCIMAttributePath(parsing: word, kind: .invalidFilter)
            if peek == .openBracket {
                position += 1
                let inner = try expression(depth: depth + 1)
                try expect(.closeBracket)
                return .valuePath(path, inner)
            }
            let operatorToken = try next()
            guard case .word(let operatorWord) = operatorToken else {
                throw SCIMFilter.invalid("Expected an operator after \(path), found \(operatorToken.description)")
            }
            let lowered = operatorWord.lowercased()
            if lowered == "pr" {
                return .present(path)
            }
            guard let op = SCIMFilterOperator(rawValue: lowered) else {
                throw SCIMFilter.invalid("\"\(operatorWord.prefix(20))\" is not a filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)")
            }
            return .compare(path, op, try value())
        }

        mutating func value() throws(SCIMError) -> SCIMFilterValue {
            switch try next() {
            case .string(let text):
                return .string(text)
            case .word(let word):
                switch word.lowercased() {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default:
                    guard let number = Double(word), number.isFinite else {
                        throw SCIMFilter.invalid("\"\(word.prefix(100))\" is not a value: write strings in double quotes")
                    }
                    return .number(number)
                }
            case let token:
                throw SCIMFilter.invalid("Expected a value in the filter, found \(token.description)")
            }
        }
    }
}
