/// One of PostgREST's horizontal filters on a function's result rows, or a logical group of
/// them (`or=(…)`, `and=(…)`, nested), parsed from the query string.
///
/// Only the column names (checked against the catalog) and fixed SQL words ever reach the
/// statement text; every value the client sent travels as a bound parameter
/// (see ``CallStatement``).
indirect enum FilterExpression: Sendable, Equatable {
    /// `column=[not.]operator.value`.
    case comparison(column: String, operator: FilterOperator, negated: Bool, value: FilterValue)
    /// `[not.]and(…)` / `[not.]or(…)`: its members combined with AND or OR.
    case group(isAnd: Bool, negated: Bool, members: [FilterExpression])

    /// The columns the expression names.
    var columns: [String] {
        switch self {
        case .comparison(let column, _, _, _): [column]
        case .group(_, _, let members): members.flatMap(\.columns)
        }
    }
}

/// PostgREST's filter operators that the bridge applies to function results.
enum FilterOperator: String, Sendable, CaseIterable {
    case eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, `in`, `is`, isdistinct
}

/// A filter's operand, as the client wrote it.
enum FilterValue: Sendable, Equatable {
    /// One value, cast to the column's type by PostgreSQL (`like` patterns with `*` as `%`).
    case text(String)
    /// The members of `in.(a,b,"c,d")`.
    case list([String])
    /// The operand of `is`: `null`, `not_null`, `true`, `false` or `unknown`.
    case keyword(String)
}

extension FilterExpression {
    /// The words `is` accepts, and the SQL each stands for.
    static let isKeywords: [String: String] = [
        "null": "is null", "not_null": "is not null", "true": "is true", "false": "is false", "unknown": "is unknown",
    ]

    /// Every operator word of PostgREST's filter grammar, including those the bridge does not
    /// apply to function results (array, range and full-text operators).
    private static let postgrestOperators: Set<String> = Set(FilterOperator.allCases.map(\.rawValue)).union([
        "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "fts", "plfts", "phfts", "wfts",
    ])

    /// Whether a query value is written as a filter, `[not.]operator[(modifier)].operand`, as
    /// PostgREST reads a `GET /rpc` parameter: such a value filters the result, any other value
    /// is an argument.
    static func isWrittenAsFilter(_ value: String) -> Bool {
        var rest = Substring(value)
        if rest.hasPrefix("not.") {
            rest = rest.dropFirst(4)
        }
        guard let dot = rest.firstIndex(of: ".") else { return false }
        var word = rest[..<dot]
        if let open = word.firstIndex(of: "("), word.hasSuffix(")") {
            word = word[..<open]
        }
        return postgrestOperators.contains(String(word))
    }

    /// Parses a top-level query parameter: `name=value`, where `name` is a column and `value` is
    /// `[not.]op.operand`, or `name` is `or`, `and`, `not.or`, `not.and` and `value` is `(…)`.
    /// - Throws: ``BridgeError`` (400, PGRST100) for anything PostgREST would not parse.
    static func parse(name: String, value: String) throws(BridgeError) -> FilterExpression {
        if let logic = logicalOperator(name) {
            guard value.hasPrefix("("), value.hasSuffix(")") else {
                throw parseError("\(name)=\(value)", "a logical filter takes a parenthesized list")
            }
            let members = try splitTopLevel(String(value.dropFirst().dropLast())).map { item throws(BridgeError) in
                try parseMember(item)
            }
            return .group(isAnd: logic.isAnd, negated: logic.negated, members: members)
        }
        return try parseComparison(column: name, rest: value, whole: "\(name)=\(value)")
    }

    /// `and`, `or`, `not.and`, `not.or`.
    private static func logicalOperator(_ name: String) -> (isAnd: Bool, negated: Bool)? {
        switch name {
        case "and": (true, false)
        case "or": (false, false)
        case "not.and": (true, true)
        case "not.or": (false, true)
        default: nil
        }
    }

    /// One member of a logical list: `column.[not.]op.operand` or `[not.]and(…)` / `[not.]or(…)`.
    private static func parseMember(_ item: String) throws(BridgeError) -> FilterExpression {
        var rest = Substring(item)
        var negated = false
        if rest.hasPrefix("not.") {
            negated = true
            rest = rest.dropFirst(4)
        }
        for (word, isAnd) in [("and(", true), ("or(", false)] where rest.hasPrefix(word) {
            guard rest.hasSuffix(")") else {
                throw parseError(item, "unbalanced parentheses")
            }
            let inner = String(rest.dropFirst(word.count).dropLast())
            let members = try splitTopLevel(inner).map { member throws(BridgeError) in try parseMember(member) }
            return .group(isAnd: isAnd, negated: negated, members: members)
        }
        guard !negated, let dot = rest.firstIndex(of: ".") else {
            throw parseError(item, "expected column.operator.value")
        }
        return try parseComparison(column: String(rest[..<dot]), rest: String(rest[rest.index(after: dot)...]), whole: item)
    }

    /// `[not.]op.operand` for `column`.
    private static func parseComparison(column: String, rest: String, whole: String) throws(BridgeError) -> FilterExpression {
        var rest = Substring(rest)
        var negated = false
        if rest.hasPrefix("not.") {
            negated = true
            rest = rest.dropFirst(4)
        }
        guard let dot = rest.firstIndex(of: "."), let op = FilterOperator(rawValue: String(rest[..<dot])) else {
            let word = rest.prefix { $0 != "." }
            if rest.contains("."), isWrittenAsFilter(String(rest)) {
                throw parseError(
                    whole, "\(word) is not applied to function results; these are: "
                        + FilterOperator.allCases.map(\.rawValue).joined(separator: ", "))
            }
            throw parseError(whole, "unknown or missing operator (one of \(FilterOperator.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let operand = String(rest[rest.index(after: dot)...])
        let value: FilterValue
        switch op {
        case .in:
            guard operand.hasPrefix("("), operand.hasSuffix(")") else {
                throw parseError(whole, "in takes a parenthesized list")
            }
            value = .list(try splitTopLevel(String(operand.dropFirst().dropLast())).map(unquoted))
        case .is:
            let keyword = operand.lowercased()
            guard isKeywords[keyword] != nil else {
                throw parseError(whole, "is takes null, not_null, true, false or unknown")
            }
            value = .keyword(keyword)
        case .like, .ilike:
            value = .text(unquoted(operand).replacingOccurrences(of: "*", with: "%"))
        default:
            value = .text(unquoted(operand))
        }
        return .comparison(column: column, operator: op, negated: negated, value: value)
    }

    /// Splits `text` at the commas that are outside double quotes and parentheses.
    private static func splitTopLevel(_ text: String) throws(BridgeError) -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch character {
            case "\\" where quoted:
                escaped = true
                current.append(character)
            case "\"":
                quoted.toggle()
                current.append(character)
            case "(" where !quoted:
                depth += 1
                current.append(character)
            case ")" where !quoted:
                depth -= 1
                guard depth >= 0 else { throw parseError(text, "unbalanced parentheses") }
                current.append(character)
            case "," where !quoted && depth == 0:
                items.append(current)
                current = ""
            default:
                current.append(character)
            }
        }
        guard depth == 0, !quoted else {
            throw parseError(text, "unbalanced parentheses or quotes")
        }
        items.append(current)
        return items
    }

    /// A value without its surrounding double quotes, with `\"` and `\\` unescaped.
    private static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var out = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if escaped {
                out.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }

    private static func parseError(_ text: String, _ why: String) -> BridgeError {
        BridgeError(status: .badRequest, code: "PGRST100", message: "\"failed to parse filter (\(text))\"", details: why)
    }
}
