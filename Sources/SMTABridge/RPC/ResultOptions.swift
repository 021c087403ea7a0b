import Foundation

/// PostgREST's query parameters that shape a call's result rather than pass an argument.
///
/// The bridge honours `select` (the result columns, PostgREST's vertical filtering); it refuses
/// the others with a clear 400 rather than ignore them: ordering, paging and filtering belong in
/// the function.
struct ResultOptions: Sendable {
    /// Parameter names PostgREST reserves on `/rpc`.
    static let reserved: Set<String> = ["select", "order", "limit", "offset", "columns", "on_conflict", "and", "or", "not"]

    /// The columns asked for; nil for all of them.
    var columns: [String]?

    /// Reads the reserved parameters of `query` for `function`.
    /// - Throws: ``BridgeError`` (400) for a column the result does not have, a select on a
    ///   scalar result, or a reserved parameter the bridge does not implement.
    init(query: String?, function: RPCFunction) throws(BridgeError) {
        columns = nil
        for (name, value) in RPCArguments.parameters(query) where Self.reserved.contains(name) {
            guard name == "select" else {
                throw BridgeError(
                    status: .badRequest, code: "PGRST100",
                    message: "The bridge does not implement '\(name)' on function results",
                    hint: "Order, page and filter inside the function, or in the client.")
            }
            let list = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if list.isEmpty || list == ["*"] {
                continue
            }
            guard !function.columns.isEmpty else {
                throw BridgeError(
                    status: .badRequest, code: "PGRST100",
                    message: "public.\(function.name) returns a single value: it has no columns to select")
            }
            for column in list where !function.columns.contains(column) {
                throw BridgeError(
                    status: .badRequest, code: "42703",
                    message: "column \(function.name).\(column) does not exist",
                    hint: "Its columns are: \(function.columns.joined(separator: ", ")).")
            }
            columns = list
        }
    }
}
