import SMTACore

/// A `public` function the bridge may call, as the catalog describes it.
struct RPCFunction: Sendable {
    /// One input argument.
    struct Argument: Sendable {
        /// The argument's name (`p_org_id`); unnamed arguments are not callable by name.
        var name: String
        /// The type as SQL spells it (`uuid`, `text[]`).
        var type: String
        /// Whether the function declares a default for it.
        var hasDefault: Bool
    }

    /// How PostgREST shapes a function's result.
    enum ResultShape: Sendable, Equatable {
        /// `returns void`: 204 No Content.
        case void
        /// A single value (scalar, json, array): the value itself.
        case scalar
        /// A single composite (a table type, OUT parameters): one JSON object.
        case row
        /// `returns setof <composite>` or `returns table (…)`: an array of objects.
        case rows
        /// `returns table (x …)` with one column: an array of `{"x": …}` objects.
        case singleColumnRows(String)
        /// `returns setof <scalar>`: an array of values.
        case scalars

        /// Whether the result is a JSON array.
        var isSet: Bool {
            switch self {
            case .rows, .singleColumnRows, .scalars: true
            case .void, .scalar, .row: false
            }
        }
    }

    /// The function's name in `public`.
    var name: String
    /// Its input arguments, in declaration order.
    var arguments: [Argument]
    /// How its result is shaped.
    var shape: ResultShape
    /// The names of its result's columns, for `select=`, filters and ordering; empty for a
    /// scalar result.
    var columns: [String]
    /// The SQL type of each result column, by name (`uuid`, `timestamp with time zone`).
    var columnTypes: [String: String]
    /// The SQL type of the whole result (`text`, `record`, `void`).
    var resultType: String
    /// The function's `comment on function`, if any.
    var summary: String?
    /// Whether it is `STABLE` or `IMMUTABLE`, and so callable with `GET`.
    var isReadOnly: Bool
    /// The roles that may execute it.
    var executableBy: Set<Identity.Role>

    /// Whether `names` (the request's argument names) call this function: every name is an
    /// argument, every argument without a default is given.
    func accepts(_ names: Set<String>) -> Bool {
        let known = Set(arguments.map(\.name))
        return names.isSubset(of: known)
            && arguments.allSatisfy { $0.hasDefault || names.contains($0.name) }
    }

    /// The signature as a person reads it: `create_organization(p_name text, p_slug text = …)`.
    var signature: String {
        let list = arguments.map { "\($0.name) \($0.type)\($0.hasDefault ? " (optional)" : "")" }
        return "\(name)(\(list.joined(separator: ", ")))"
    }
}
