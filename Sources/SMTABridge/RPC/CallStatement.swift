/// Builds the one statement that calls a function for ``SMTACore/Gate/call(_:arguments:as:readOnly:)``.
///
/// The statement reads the request's JSON object of arguments with `json_to_record`, typed by
/// the catalog, calls the function with named arguments (so omitted ones take their defaults) and
/// shapes the result as PostgREST does, as a single `json` value. Only names from the catalog,
/// quoted, and fixed SQL words reach the text; everything the client sent travels in the one
/// bound parameter `$1`.
///
/// A set result comes back as `[rows in the page, total or null, rows]` (see ``PagedResult``),
/// for the `Content-Range` PostgREST sends with every set. With result operations (filters,
/// ordering, paging, counting) `$1` is the array `[arguments, values]`, the filter values
/// referenced by position.
struct CallStatement: Sendable {
    /// The statement text.
    var text: String
    /// The JSON document bound as `$1`.
    var parameter: String
    /// Whether the result is a ``PagedResult``.
    var isPaged: Bool

    /// The statement calling `function` with `arguments`, shaped by `options`.
    static func make(_ function: RPCFunction, arguments: RPCArguments, options: ResultOptions) -> CallStatement {
        guard function.shape.isSet else {
            return CallStatement(
                text: plain(function, given: arguments.names, columns: options.columns, argumentsRef: "$1"),
                parameter: arguments.json, isPaged: false)
        }
        guard options.operatesOnRows else {
            return CallStatement(
                text: plain(function, given: arguments.names, columns: options.columns, argumentsRef: "$1"),
                parameter: arguments.json, isPaged: true)
        }
        var values = FilterValues()
        let conditions = options.filters.map { condition($0, of: function, values: &values) }
        let inner = "select \(projection(function)) from "
            + source(function, given: arguments.names, argumentsRef: "$1 -> 0", alias: "_f")
            + (conditions.isEmpty ? "" : " where " + conditions.joined(separator: " and "))
        var page = "select * from _q"
        if !options.ordering.isEmpty {
            page += " order by " + options.ordering.map { ordering in
                "_q.\(quoted(ordering.column))" + (ordering.descending ? " desc" : " asc")
                    + (ordering.nullsFirst.map { $0 ? " nulls first" : " nulls last" } ?? "")
            }.joined(separator: ", ")
        }
        if let limit = options.limit {
            page += " limit \(limit)"
        }
        if options.offset > 0 {
            page += " offset \(options.offset)"
        }
        let rows = "(select coalesce(pg_catalog.json_agg(\(row(options.columns, function: function))), '[]') from _p as _r)"
        let total = options.countsTotal ? "(select pg_catalog.count(*) from _q)" : "null::bigint"
        let text = "with _q as (\(inner)), _p as (\(page)) select pg_catalog.json_build_array("
            + "(select pg_catalog.count(*) from _p), \(total), \(rows))"
        return CallStatement(text: text, parameter: "[\(arguments.json),\(values.json)]", isPaged: true)
    }

    /// The statement without result operations: a single result shaped as a whole, a set as
    /// `[rows, null, rows' array]` (its rows counted in the same pass that aggregates them).
    private static func plain(_ function: RPCFunction, given: Set<String>, columns: [String]?, argumentsRef: String) -> String {
        let arguments = function.arguments.filter { given.contains($0.name) }
        let call = self.call(function, arguments: arguments)
        let source: String
        if arguments.isEmpty {
            source = ""
        } else {
            let columns = arguments.map { "\(quoted($0.name)) \($0.type)" }.joined(separator: ", ")
            source = " from pg_catalog.json_to_record(\(argumentsRef)) as _a(\(columns))"
        }
        let lateral = (arguments.isEmpty ? " from " : ", lateral ") + "\(call) as _r"
        let set = { (element: String) in
            "select pg_catalog.json_build_array(pg_catalog.count(*), null::bigint, "
                + "coalesce(pg_catalog.json_agg(\(element)), '[]'))" + source + lateral
        }
        switch function.shape {
        case .void:
            // Evaluated once through the target list; its value (void) is not kept.
            return "select case when \(call) is null then null::json end" + source
        case .scalar:
            return "select pg_catalog.to_json(\(call))" + source
        case .row:
            return "select \(row(columns, function: function))" + source + lateral
        case .rows:
            return set(row(columns, function: function))
        case .singleColumnRows(let column):
            return set(columns == [] ? "pg_catalog.json_build_object()" : "pg_catalog.json_build_object(\(literal(column)), _r)")
        case .scalars:
            return set("_r")
        }
    }

    /// `public.f("p_a" => _a."p_a", …)`.
    private static func call(_ function: RPCFunction, arguments: [RPCFunction.Argument]) -> String {
        "public.\(quoted(function.name))("
            + arguments.map { "\(quoted($0.name)) => _a.\(quoted($0.name))" }.joined(separator: ", ") + ")"
    }

    /// The FROM items calling the function as `alias`, its arguments read from `argumentsRef`.
    private static func source(_ function: RPCFunction, given: Set<String>, argumentsRef: String, alias: String) -> String {
        let arguments = function.arguments.filter { given.contains($0.name) }
        guard !arguments.isEmpty else {
            return "\(call(function, arguments: arguments)) as \(alias)"
        }
        let columns = arguments.map { "\(quoted($0.name)) \($0.type)" }.joined(separator: ", ")
        return "pg_catalog.json_to_record(\(argumentsRef)) as _a(\(columns)), lateral \(call(function, arguments: arguments)) as \(alias)"
    }

    /// The inner query's columns: the function's own, by name.
    private static func projection(_ function: RPCFunction) -> String {
        if case .singleColumnRows(let column) = function.shape {
            return "_f as \(quoted(column))"
        }
        return "_f.*"
    }

    /// A reference to result column `column` of the function called as `_f`.
    private static func reference(_ column: String, of function: RPCFunction) -> String {
        if case .singleColumnRows = function.shape {
            return "_f"
        }
        return "_f.\(quoted(column))"
    }

    /// The SQL of one filter, its values appended to `values`.
    private static func condition(_ expression: FilterExpression, of function: RPCFunction, values: inout FilterValues) -> String {
        switch expression {
        case .group(let isAnd, let negated, let members):
            let joined = members.map { condition($0, of: function, values: &values) }
                .joined(separator: isAnd ? " and " : " or ")
            return (negated ? "not " : "") + "(\(joined))"
        case .comparison(let column, let op, let negated, let value):
            let ref = reference(column, of: function)
            let type = function.columnTypes[column] ?? "text"
            let sql: String
            switch (op, value) {
            case (.is, .keyword(let keyword)):
                sql = "\(ref) \(FilterExpression.isKeywords[keyword] ?? "is null")"
            case (.in, .list(let members)):
                sql = "\(ref) = any (array(select pg_catalog.json_array_elements_text(\(values.append(members))))::\(type)[])"
            case (_, .text(let text)):
                let operand = values.appendText(text)
                switch op {
                case .eq: sql = "\(ref) = (\(operand))::\(type)"
                case .neq: sql = "\(ref) <> (\(operand))::\(type)"
                case .gt: sql = "\(ref) > (\(operand))::\(type)"
                case .gte: sql = "\(ref) >= (\(operand))::\(type)"
                case .lt: sql = "\(ref) < (\(operand))::\(type)"
                case .lte: sql = "\(ref) <= (\(operand))::\(type)"
                case .isdistinct: sql = "\(ref) is distinct from (\(operand))::\(type)"
                case .like: sql = "\(ref)::text like (\(operand))"
                case .ilike: sql = "\(ref)::text ilike (\(operand))"
                case .match: sql = "\(ref)::text ~ (\(operand))"
                case .imatch: sql = "\(ref)::text ~* (\(operand))"
                case .in, .is: sql = "false"
                }
            default:
                sql = "false"
            }
            return negated ? "not (\(sql))" : "(\(sql))"
        }
    }

    /// One result row `_r` as a JSON object: whole, or narrowed to `columns`.
    private static func row(_ columns: [String]?, function: RPCFunction) -> String {
        if case .singleColumnRows(let column) = function.shape, columns == nil {
            return "pg_catalog.json_build_object(\(literal(column)), _r.\(quoted(column)))"
        }
        guard let columns else { return "pg_catalog.to_json(_r)" }
        let pairs = columns.map { "\(literal($0)), _r.\(quoted($0))" }.joined(separator: ", ")
        return "pg_catalog.json_build_object(\(pairs))"
    }

    /// `name` as a quoted SQL identifier.
    static func quoted(_ name: String) -> String {
        // Most names hold no quote: Foundation's replacing costs a few µs per call.
        guard name.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + name + "\"" }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` as a SQL string literal.
    static func literal(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "'")) else { return "'" + text + "'" }
        return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

/// The filter values of one statement, bound as the second element of `$1`.
private struct FilterValues {
    private var members: [String] = []

    /// The values as a JSON array.
    var json: String { "[" + members.joined(separator: ",") + "]" }

    /// Appends one value; returns the SQL reading it as text.
    mutating func appendText(_ text: String) -> String {
        members.append(JSONText.string(text))
        return "$1 -> 1 ->> \(members.count - 1)"
    }

    /// Appends a list; returns the SQL reading it as a JSON array.
    mutating func append(_ list: [String]) -> String {
        members.append("[" + list.map(JSONText.string).joined(separator: ",") + "]")
        return "$1 -> 1 -> \(members.count - 1)"
    }
}
