/// Builds the one statement that calls a function for ``SMTACore/Gate/call(_:arguments:as:)``.
///
/// The statement reads the request's JSON object from `$1` with `json_to_record`, typed by the
/// catalog, calls the function with named arguments (so omitted ones take their defaults) and
/// shapes the result as PostgREST does, as a single `json` value. Only names from the catalog,
/// quoted, reach the text; the client's values travel as the bound parameter.
enum CallStatement {
    /// The statement calling `function` with the arguments named in `given`; `columns`, when
    /// given (PostgREST's `select=`), narrows each result row to those columns, already checked
    /// against the function's result.
    static func make(_ function: RPCFunction, given: Set<String>, columns: [String]? = nil) -> String {
        let arguments = function.arguments.filter { given.contains($0.name) }
        let call = "public.\(quoted(function.name))("
            + arguments.map { "\(quoted($0.name)) => _a.\(quoted($0.name))" }.joined(separator: ", ") + ")"
        let source: String
        if arguments.isEmpty {
            source = ""
        } else {
            let columns = arguments.map { "\(quoted($0.name)) \($0.type)" }.joined(separator: ", ")
            source = " from pg_catalog.json_to_record($1) as _a(\(columns))"
        }
        let lateral = arguments.isEmpty ? " from " : ", lateral "
        switch function.shape {
        case .void:
            // Evaluated once through the target list; its value (void) is not kept.
            return "select case when \(call) is null then null::json end" + source
        case .scalar:
            return "select pg_catalog.to_json(\(call))" + source
        case .row:
            return "select \(row(columns))" + source + lateral + "\(call) as _r"
        case .rows:
            return "select coalesce(pg_catalog.json_agg(\(row(columns))), '[]')" + source + lateral + "\(call) as _r"
        case .singleColumnRows(let column):
            let object = columns == [] ? "pg_catalog.json_build_object()" : "pg_catalog.json_build_object(\(literal(column)), _r)"
            return "select coalesce(pg_catalog.json_agg(\(object)), '[]')" + source + lateral + "\(call) as _r"
        case .scalars:
            return "select coalesce(pg_catalog.json_agg(_r), '[]')" + source + lateral + "\(call) as _r"
        }
    }

    /// One result row `_r` as a JSON object: whole, or narrowed to `columns`.
    private static func row(_ columns: [String]?) -> String {
        guard let columns else { return "pg_catalog.to_json(_r)" }
        let pairs = columns.map { "\(literal($0)), _r.\(quoted($0))" }.joined(separator: ", ")
        return "pg_catalog.json_build_object(\(pairs))"
    }

    /// `name` as a quoted SQL identifier.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` as a SQL string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
