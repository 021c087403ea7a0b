import HTTPTypes

/// What the client asked of a call's result beyond calling it, in PostgREST's grammar:
/// `select` (vertical filtering), horizontal filters, `order`, `limit` / `offset` or the `Range`
/// header, and `Prefer: count=…`.
///
/// Every column named is checked against the function's result in the catalog; an unknown
/// column is PostgreSQL's 42703, a malformed filter PostgREST's PGRST100, both 400 before the
/// database is touched.
struct ResultOptions: Sendable, Equatable {
    /// Parameter names that are never arguments of the function (PostgREST reserves them on
    /// `/rpc`).
    static let reserved: Set<String> = [
        "select", "order", "limit", "offset", "columns", "on_conflict", "and", "or", "not.and", "not.or",
    ]

    /// One `order=` item.
    struct Ordering: Sendable, Equatable {
        /// The result column.
        var column: String
        /// `.desc`.
        var descending: Bool
        /// `.nullsfirst` (true), `.nullslast` (false) or PostgreSQL's default (nil).
        var nullsFirst: Bool?
    }

    /// The columns asked for (`select=`); nil for all of them.
    var columns: [String]?
    /// The horizontal filters, all of which a row must pass.
    var filters: [FilterExpression] = []
    /// The ordering, most significant first.
    var ordering: [Ordering] = []
    /// At most this many rows (`limit=`, or the end of a `Range`).
    var limit: Int?
    /// Rows skipped first (`offset=`, or the start of a `Range`).
    var offset: Int = 0
    /// Whether the client asked for the total (`Prefer: count=exact|planned|estimated`).
    var countsTotal = false

    /// Whether the statement must do more than call the function and shape its result.
    var operatesOnRows: Bool { !filters.isEmpty || !ordering.isEmpty || countsTotal || limit != nil || offset > 0 }

    /// Reads the result options of one call of `function`.
    /// - Parameters:
    ///   - parameters: the query parameters that are not the function's arguments.
    ///   - headers: the request's headers (`Range`, `Range-Unit`, `Prefer`).
    ///   - readsRangeHeader: whether `Range` applies: on `GET` only, as RFC 9110 and PostgREST
    ///     have it (other methods ignore the header).
    ///   - function: the function called.
    /// - Throws: ``BridgeError``: 400 for a column the result does not have, paging a result
    ///   without rows, or a malformed filter, ordering, limit or range; 416 (PGRST103) for a
    ///   negative limit or a `Range` whose bounds are reversed.
    init(
        parameters: [(String, String)], headers: HTTPFields, readsRangeHeader: Bool = true, function: RPCFunction
    ) throws(BridgeError) {
        for (name, value) in parameters {
            switch name {
            case "select":
                columns = try Self.selection(value, of: function)
            case "order":
                ordering = try Self.ordering(value)
            case "limit":
                if let number = Int(value), number < 0 {
                    throw Self.unsatisfiable("Limit should be greater than or equal to zero.")
                }
                limit = try Self.count(value, name: "limit")
            case "offset":
                offset = try Self.count(value, name: "offset")
            case "columns", "on_conflict":
                throw BridgeError(
                    status: .badRequest, code: "PGRST100", message: "'\(name)' does not apply to function calls")
            default:
                filters.append(try FilterExpression.parse(name: name, value: value))
            }
        }
        if readsRangeHeader {
            try readRange(headers)
        }
        countsTotal = Self.prefersCount(headers)
        let named = filters.flatMap(\.columns) + ordering.map(\.column)
        if !named.isEmpty {
            guard function.shape.isSet, !function.columns.isEmpty else {
                throw BridgeError(
                    status: .badRequest, code: "PGRST100",
                    message: "public.\(function.name) does not return rows: it has no columns to filter or order by")
            }
            for column in named where !function.columns.contains(column) {
                throw Self.unknownColumn(column, of: function)
            }
        }
        if limit != nil || offset > 0, !function.shape.isSet {
            throw BridgeError(
                status: .badRequest, code: "PGRST100",
                message: "public.\(function.name) returns a single result: there is nothing to page")
        }
    }

    /// `select=a,b` (or `*`).
    private static func selection(_ value: String, of function: RPCFunction) throws(BridgeError) -> [String]? {
        let list = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if list.isEmpty || list == ["*"] {
            return nil
        }
        guard !function.columns.isEmpty else {
            throw BridgeError(
                status: .badRequest, code: "PGRST100",
                message: "public.\(function.name) returns a single value: it has no columns to select")
        }
        for column in list where !function.columns.contains(column) {
            throw unknownColumn(column, of: function)
        }
        return list
    }

    /// `order=a.desc.nullslast,b`.
    private static func ordering(_ value: String) throws(BridgeError) -> [Ordering] {
        try value.split(separator: ",", omittingEmptySubsequences: false).map { item throws(BridgeError) in
            let parts = item.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard let column = parts.first, !column.isEmpty, parts.count <= 3 else {
                throw BridgeError(status: .badRequest, code: "PGRST100", message: "\"failed to parse order (\(value))\"")
            }
            var ordering = Ordering(column: column, descending: false, nullsFirst: nil)
            for modifier in parts.dropFirst() {
                switch modifier {
                case "asc": ordering.descending = false
                case "desc": ordering.descending = true
                case "nullsfirst": ordering.nullsFirst = true
                case "nullslast": ordering.nullsFirst = false
                default:
                    throw BridgeError(
                        status: .badRequest, code: "PGRST100", message: "\"failed to parse order (\(value))\"",
                        details: "unknown modifier \(modifier): asc, desc, nullsfirst or nullslast")
                }
            }
            return ordering
        }
    }

    /// A non-negative whole number.
    private static func count(_ value: String, name: String) throws(BridgeError) -> Int {
        guard let number = Int(value), number >= 0 else {
            throw BridgeError(status: .badRequest, code: "PGRST100", message: "\(name) must be a non-negative whole number")
        }
        return number
    }

    /// `Range: first-[last]` with `Range-Unit: items` (the default), narrowing limit and offset.
    private mutating func readRange(_ headers: HTTPFields) throws(BridgeError) {
        guard let range = headers[.range] else { return }
        if let unit = HTTPField.Name("Range-Unit").flatMap({ headers[$0] }), unit.lowercased() != "items" {
            return
        }
        let bounds = range.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int(bounds[0]), first >= 0 else {
            throw BridgeError(status: .badRequest, code: "PGRST100", message: "The Range header must read first-last, e.g. 0-24")
        }
        offset = max(offset, first)
        if !bounds[1].isEmpty {
            guard let last = Int(bounds[1]) else {
                throw BridgeError(status: .badRequest, code: "PGRST100", message: "The Range header must read first-last, e.g. 0-24")
            }
            guard last >= first else {
                throw Self.unsatisfiable(
                    "The lower boundary must be lower than or equal to the upper boundary in the Range header.")
            }
            limit = min(limit ?? Int.max, last - first + 1)
        }
    }

    /// Whether `Prefer` asks for `count=exact`, `planned` or `estimated`: the bridge counts a
    /// function's rows exactly in every case (PostgreSQL's plan only guesses a function's rows).
    private static func prefersCount(_ headers: HTTPFields) -> Bool {
        guard let prefer = HTTPField.Name("Prefer") else { return false }
        return headers[values: prefer].contains { value in
            value.split(separator: ",").contains { preference in
                let trimmed = preference.trimmingCharacters(in: .whitespaces)
                return ["count=exact", "count=planned", "count=estimated"].contains(trimmed)
            }
        }
    }

    /// PostgREST's 416 for a range that cannot be served, whatever the rows.
    private static func unsatisfiable(_ details: String) -> BridgeError {
        BridgeError(status: .rangeNotSatisfiable, code: "PGRST103", message: "Requested range not satisfiable", details: details)
    }

    private static func unknownColumn(_ column: String, of function: RPCFunction) -> BridgeError {
        BridgeError(
            status: .badRequest, code: "42703", message: "column \(function.name).\(column) does not exist",
            hint: "Its columns are: \(function.columns.joined(separator: ", ")).")
    }
}
