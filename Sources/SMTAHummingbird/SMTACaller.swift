import NIOCore
import SMTACore

/// The caller of one request, as ``SMTAMiddleware`` authenticated it, and the gate that acts as
/// that caller in the database.
///
/// Every call runs as ``identity`` under row-level security: the database, not the handler,
/// decides what the caller may see and do.
public struct SMTACaller: Sendable {
    /// Who the caller is, as the adapter established it; `Identity.anonymous(source:)`
    /// for a request without a credential.
    public let identity: Identity
    /// The gate the middleware was given.
    public let gate: Gate

    /// Creates a caller.
    public init(identity: Identity, gate: Gate) {
        self.identity = identity
        self.gate = gate
    }

    /// Runs one statement as the caller in a single round trip (`Gate.call(_:arguments:as:readOnly:)`).
    ///
    /// - Parameters:
    ///   - statement: one `SELECT` yielding a single `json` column and at most one row, written
    ///     by the application, never taken from the request; `$1` is `arguments`.
    ///   - arguments: a JSON document bound as `$1`: this is where values from the request go.
    ///   - readOnly: true when the statement changes nothing (it calls `STABLE` functions only):
    ///     its answer is returned without waiting for the commit's confirmation, one round trip
    ///     less. Leave it false for anything that writes.
    /// - Returns: the statement's JSON value as UTF-8 bytes; nil for no row or SQL `NULL`.
    /// - Throws: `DatabaseError`: `42501` for what the caller may not do, and the
    ///   function's own errors.
    public func call(_ statement: String, arguments: String = "{}", readOnly: Bool = false) async throws -> ByteBuffer? {
        try await gate.call(statement, arguments: arguments, as: identity, readOnly: readOnly)
    }

    /// Runs `body` in one transaction as the caller (`Gate.transaction(as:_:)`):
    /// committed when it returns, rolled back when it throws.
    public func transaction<Result: Sendable>(_ body: (GateTransaction) async throws -> Result) async throws -> Result {
        try await gate.transaction(as: identity, body)
    }
}
