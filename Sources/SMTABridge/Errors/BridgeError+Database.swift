import HTTPTypes
import SMTACore

extension BridgeError {
    /// PostgREST's status for a database error, with what the client may read of it.
    ///
    /// Statuses follow PostgREST's table (409 for `23505`, 404 for `42883`, 401/403 for `42501`,
    /// 400 for `P0001` and unlisted codes, 500 for internal classes, `PTxyz` for status `xyz`),
    /// with three differences: `P0002`, which SMTA's functions raise for "not found", is 404 with
    /// the function's message (PostgREST would answer 500); a server shutting down or starting
    /// (`57P01`–`57P03`) is 503, like a lost connection, because the bridge recovers from it by
    /// itself; and a statement cancelled by `statement_timeout` (`57014`) is 504 with
    /// `Retry-After` (PostgREST: 500): the cancelled call's transaction was rolled back, so
    /// nothing was applied, and a 500 would tell the client it met a defect.
    ///
    /// The server's message, detail and hint reach the client only for the errors a function
    /// raises for its caller (exceptions, data and constraint errors, privileges, timeouts);
    /// for the others, which can quote SQL text or internals, the client gets the SQLSTATE and
    /// the request id, and the log gets the rest.
    ///
    /// A failure without the server's word says truthfully whether the call was applied:
    /// `Retry-After` is sent only when retrying the same request is safe.
    /// - Nothing was sent (no connection, or none in time): 503 `PGRST000`, or 504 `PGRST003`
    ///   past the deadline, with `Retry-After` — nothing was applied.
    /// - The call was sent and no answer came (the connection broke, or was closed at the
    ///   deadline): a read is answered as above (it changed nothing); a write is 504 `08007`
    ///   (SQLSTATE "transaction resolution unknown"): it may or may not have committed. With
    ///   `Retry-After` when the write is idempotent (an `Idempotency-Key`, a webhook event id),
    ///   without it otherwise.
    ///
    /// - Parameters:
    ///   - error: the database error.
    ///   - role: the caller's role, which decides 401 or 403 for `42501`.
    ///   - requestID: quoted to the client when the message is withheld.
    ///   - kind: what a retry of the call would do.
    init(_ error: DatabaseError, role: Identity.Role, requestID: String, kind: CallKind) {
        guard let code = error.sqlState, code.count == 5 else {
            self = .unanswered(error, kind: kind)
            return
        }
        if let status = Self.unavailableStatus(code) {
            self = .databaseUnavailable(retryAfterSeconds: 1)
            self.status = status
            return
        }
        if code == "57014" {
            self.init(
                status: .gatewayTimeout, code: code, message: error.message, details: error.detail,
                hint: "The call ran longer than statement_timeout and was cancelled; nothing was applied.")
            self.headers[.retryAfter] = "1"
            return
        }
        let status = Self.status(of: code, role: role)
        if Self.isForCaller(code) {
            self.init(status: status, code: code, message: error.message, details: error.detail, hint: error.hint)
        } else {
            self.init(
                status: status, code: code, message: "The database could not complete the call",
                details: "Request \(requestID); the server log has the details.")
        }
    }

    /// What a retry of a call would do, which decides how an unanswered call is reported.
    enum CallKind: Sendable {
        /// A read (`STABLE` or `IMMUTABLE`): retrying changes nothing.
        case read
        /// A write applied at most once whatever the retries (an `Idempotency-Key`, a webhook).
        case idempotentWrite
        /// A write that a retry could apply twice.
        case write
    }

    /// The answer for a call that got no word from the server (see ``init(_:role:requestID:kind:)``).
    private static func unanswered(_ error: DatabaseError, kind: CallKind) -> BridgeError {
        if error.mayHaveRun && kind != .read {
            var answer = BridgeError(
                status: .gatewayTimeout, code: "08007",
                message: "The call was sent to the database but no answer came: it may or may not have been applied",
                hint: kind == .idempotentWrite
                    ? "Retry with the same Idempotency-Key: an applied call is answered from its record, not applied twice."
                    : "Check whether it was applied before calling again, or send an Idempotency-Key header with writes.")
            if kind == .idempotentWrite {
                answer.headers[.retryAfter] = "1"
            }
            return answer
        }
        if error.isTimeout {
            var answer = BridgeError(
                status: .gatewayTimeout, code: "PGRST003",
                message: "The request timed out before the database answered; nothing was applied",
                hint: "Retry in a moment.")
            answer.headers[.retryAfter] = "1"
            return answer
        }
        return .databaseUnavailable(retryAfterSeconds: 1)
    }

    /// 503 for codes meaning the database is unreachable, restarting or out of connections.
    private static func unavailableStatus(_ code: String) -> HTTPResponse.Status? {
        if DatabaseError.isUnreachableCode(code) || (code.hasPrefix("53") && code != "53400")
        {
            return .serviceUnavailable
        }
        return nil
    }

    private static func status(of code: String, role: Identity.Role) -> HTTPResponse.Status {
        if code.hasPrefix("PT"), let number = Int(code.dropFirst(2)), (100...599).contains(number) {
            return HTTPResponse.Status(code: number)
        }
        switch code {
        case "23503", "23505": return .conflict
        case "25006": return .methodNotAllowed
        case "42883", "42P01": return .notFound
        case "42P17", "53400": return .internalServerError
        case "42501": return role == .anon ? .unauthorized : .forbidden
        case "P0001": return .badRequest
        case "P0002": return .notFound
        default: break
        }
        switch code.prefix(2) {
        case "0L", "0P", "28": return .forbidden
        case "09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX":
            return .internalServerError
        default: return .badRequest
        }
    }

    /// Whether the server's own words may reach the client.
    private static func isForCaller(_ code: String) -> Bool {
        if code.hasPrefix("PT") || ["P0001", "P0002", "42501", "25006", "40001", "40P01"].contains(code) {
            return true
        }
        return ["22", "23", "28", "0L", "0P"].contains(String(code.prefix(2)))
    }
}
