/// How one resource type's attributes are read in SQL, for ``SCIMFilter/sql(columns:firstParameter:)``.
///
/// Only these fixed column expressions and SQL words reach the statement text; every value of
/// the filter travels as a bound text parameter.
struct SCIMFilterColumns: Sendable {
    /// A column's SCIM type, which decides the comparisons allowed on it.
    enum Kind: Sendable {
        /// A string; compared case-insensitively unless `caseExact` (RFC 7643 §2.3.1).
        case text(caseExact: Bool)
        case boolean
        case dateTime
    }

    /// One column expression.
    struct Column: Sendable {
        let sql: String
        let kind: Kind
    }

    /// An attribute of the resource.
    enum Attribute: Sendable {
        /// A single value.
        case simple(Column)
        /// A complex attribute (`name`): its sub-attributes by lowercased name.
        case complex([String: Column])
        /// A multi-valued attribute: its values' sub-attributes by lowercased name, the one a
        /// path without sub-attribute means (`value`), and the SQL `FROM` item listing the values
        /// (nil when the row holds one value in its own columns).
        case multiValued(values: String?, subAttributes: [String: Column], defaultSubAttribute: String)
    }

    /// The schema URNs a path may be prefixed with (the core schema, extensions), lowercased.
    let schemas: Set<String>
    /// The attributes by lowercased name.
    let attributes: [String: Attribute]
}

extension SCIMFilter {
    /// The filter as an SQL condition over `columns`, with its values as parameters numbered
    /// from `firstParameter`.
    /// - Throws: ``SCIMError`` 400 `invalidFilter` for an unknown attribute or a comparison its
    ///   type does not have.
    func sql(columns: SCIMFilterColumns, firstParameter: Int) throws(SCIMError) -> (condition: String, parameters: [String]) {
        var compiler = SCIMFilterCompiler(columns: columns, firstParameter: firstParameter)
        let condition = try compiler.condition(self, scope: nil)
        return (condition, compiler.parameters)
    }
}

private struct SCIMFilterCompiler {
    let columns: SCIMFilterColumns
    let firstParameter: Int
    var parameters: [String] = []

    /// A value path's scope: the multi-valued attribute whose sub-attributes the inner paths name.
    typealias Scope = (name: String, subAttributes: [String: SCIMFilterColumns.Column])

    mutating func condition(_ filter: SCIMFilter, scope: Scope?) throws(SCIMError) -> String {
        switch filter {
        case .and(let left, let right):
            return "(\(try condition(left, scope: scope)) and \(try condition(right, scope: scope)))"
        case .or(let left, let right):
            return "(\(try condition(left, scope: scope)) or \(try condition(right, scope: scope)))"
        case .not(let inner):
            // A comparison with an absent attribute is false, and so its negation true.
            return "(not coalesce(\(try condition(inner, scope: scope)), false))"
        case .valuePath(let path, let inner):
            guard scope == nil else {
                throw SCIMFilter.invalid("Value paths cannot nest: \(path)")
            }
            guard path.subAttribute == nil, case .multiValued(let values, let subAttributes, _)? = try attribute(path) else {
                throw SCIMFilter.invalid("\(path) is not a multi-valued attribute: it takes no [filter]")
            }
            return Self.some(of: values, "(\(try condition(inner, scope: (path.name, subAttributes))))")
        case .present(let path):
            let (column, values) = try resolve(path, scope: scope)
            let present = if case .text = column.kind {
                "(\(column.sql) is not null and \(column.sql) <> '')"
            } else {
                "(\(column.sql) is not null)"
            }
            return Self.some(of: values, present)
        case .compare(let path, let op, let value):
            let (column, values) = try resolve(path, scope: scope)
            return Self.some(of: values, try comparison(column, op, value, path: path))
        }
    }

    /// `condition` over the values `values` lists (some value matches), or itself when the row
    /// holds the value.
    private static func some(of values: String?, _ condition: String) -> String {
        values.map { "exists (select 1 from \($0) where \(condition))" } ?? condition
    }

    private func attribute(_ path: SCIMAttributePath) throws(SCIMError) -> SCIMFilterColumns.Attribute? {
        if let schema = path.schema, !columns.schemas.contains(schema.lowercased()) {
            throw SCIMFilter.invalid("Unknown schema \(schema.prefix(100))")
        }
        return columns.attributes[path.name.lowercased()]
    }

    /// The column `path` names (inside `scope` for a value path's inner paths), and the `FROM`
    /// item listing the values of a multi-valued attribute it belongs to.
    private func resolve(_ path: SCIMAttributePath, scope: Scope?) throws(SCIMError) -> (SCIMFilterColumns.Column, values: String?) {
        if let scope {
            guard path.schema == nil, path.subAttribute == nil, let column = scope.subAttributes[path.name.lowercased()] else {
                throw SCIMFilter.invalid("\(scope.name) has no sub-attribute \(path)")
            }
            return (column, nil)
        }
        switch try attribute(path) {
        case nil:
            throw SCIMFilter.invalid("Unknown attribute \(path) (filterable: \(columns.attributes.keys.sorted().joined(separator: ", ")))")
        case .simple(let column)?:
            guard path.subAttribute == nil else {
                throw SCIMFilter.invalid("\(path.name) has no sub-attributes")
            }
            return (column, nil)
        case .complex(let subAttributes)?:
            guard let sub = path.subAttribute, let column = subAttributes[sub.lowercased()] else {
                throw SCIMFilter.invalid("\(path) is not a sub-attribute of \(path.name)")
            }
            return (column, nil)
        case .multiValued(let values, let subAttributes, let defaultSubAttribute)?:
            guard let column = subAttributes[(path.subAttribute ?? defaultSubAttribute).lowercased()] else {
                throw SCIMFilter.invalid("\(path.name) has no sub-attribute \(path.subAttribute ?? "")")
            }
            return (column, values)
        }
    }

    private mutating func comparison(
        _ column: SCIMFilterColumns.Column, _ op: SCIMFilterOperator, _ value: SCIMFilterValue, path: SCIMAttributePath
    ) throws(SCIMError) -> String {
        if value == .null {
            switch op {
            case .eq: return "(\(column.sql) is null)"
            case .ne: return "(\(column.sql) is not null)"
            default: throw SCIMFilter.invalid("\(op.rawValue) cannot compare with null")
            }
        }
        switch column.kind {
        case .text(let caseExact):
            guard case .string(let text) = value else {
                throw SCIMFilter.invalid("\(path) is a string: compare it with a quoted value")
            }
            let parameter = bind(text)
            let (left, right) = caseExact
                ? (column.sql, "\(parameter)::text")
                : ("pg_catalog.lower(\(column.sql))", "pg_catalog.lower(\(parameter)::text)")
            switch op {
            case .eq: return "(\(left) = \(right))"
            case .ne: return "(\(left) is distinct from \(right))"
            case .co: return "(pg_catalog.strpos(\(left), \(right)) > 0)"
            case .sw: return "pg_catalog.starts_with(\(left), \(right))"
            case .ew: return "(pg_catalog.right(\(left), pg_catalog.char_length(\(parameter)::text)) = \(right))"
            case .gt: return "(\(left) > \(right))"
            case .ge: return "(\(left) >= \(right))"
            case .lt: return "(\(left) < \(right))"
            case .le: return "(\(left) <= \(right))"
            }
        case .boolean:
            guard case .bool(let flag) = value else {
                throw SCIMFilter.invalid("\(path) is a boolean: compare it with true or false")
            }
            switch op {
            case .eq: return "(\(column.sql) = \(bind(flag ? "true" : "false"))::boolean)"
            case .ne: return "(\(column.sql) is distinct from \(bind(flag ? "true" : "false"))::boolean)"
            default: throw SCIMFilter.invalid("\(path) is a boolean: only eq and ne compare it")
            }
        case .dateTime:
            guard case .string(let text) = value, SCIMFilter.isDateTime(text) else {
                throw SCIMFilter.invalid("\(path) is a dateTime: compare it with a quoted xsd:dateTime such as \"2026-12-07T12:00:00Z\"")
            }
            let sqlOperator: String
            switch op {
            case .eq: sqlOperator = "="
            case .ne: sqlOperator = "is distinct from"
            case .gt: sqlOperator = ">"
            case .ge: sqlOperator = ">="
            case .lt: sqlOperator = "<"
            case .le: sqlOperator = "<="
            case .co, .sw, .ew: throw SCIMFilter.invalid("\(path) is a dateTime: co, sw and ew do not compare it")
            }
            return "(\(column.sql) \(sqlOperator) \(bind(text))::timestamptz)"
        }
    }

    private mutating func bind(_ value: String) -> String {
        parameters.append(value)
        return "$\(firstParameter + parameters.count - 1)"
    }
}

extension SCIMFilter {
    /// xsd:dateTime as RFC 7643 §2.3.5 writes it: `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`.
    static func isDateTime(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.upperBound <= bytes.count && bytes[range].allSatisfy { (48...57).contains($0) } }
        guard bytes.count >= 20, digits(0..<4), bytes[4] == 45, digits(5..<7), bytes[7] == 45, digits(8..<10),
            bytes[10] == 84 || bytes[10] == 116, digits(11..<13), bytes[13] == 58, digits(14..<16), bytes[16] == 58,
            digits(17..<19)
        else { return false }
        var index = 19
        if bytes[index] == 46 {
            index += 1
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < bytes.count else { return false }
        if bytes[index] == 90 || bytes[index] == 122 {
            return index + 1 == bytes.count
        }
        return (bytes[index] == 43 || bytes[index] == 45) && index + 6 == bytes.count && digits(index + 1..<index + 3)
            && bytes[index + 3] == 58 && digits(index + 4..<index + 6)
    }
}
