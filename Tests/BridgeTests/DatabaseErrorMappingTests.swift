import HTTPTypes
import SMTACore
import Testing

@testable import SMTABridge

@Suite("Database errors as PostgREST answers them")
struct DatabaseErrorMappingTests {
    private func mapped(_ code: String?, role: Identity.Role = .authenticated, message: String = "boom") -> BridgeError {
        BridgeError(
            DatabaseError(sqlState: code, message: message, detail: "the detail", hint: "the hint"), role: role, requestID: "r-1",
            kind: .write)
    }

    /// A call that got no word from the server: sent or not, timed out or not.
    private func unanswered(sent: Bool, timedOut: Bool, kind: BridgeError.CallKind) -> BridgeError {
        var error = timedOut ? DatabaseError.timedOut(mayHaveRun: sent) : DatabaseError(sqlState: nil, message: "the connection broke")
        error.mayHaveRun = sent
        return BridgeError(error, role: .authenticated, requestID: "r-1", kind: kind)
    }

    @Test("PostgREST's status table: conflicts, not found, raise, privileges by role")
    func statuses() {
        #expect(mapped("23505").status == .conflict)
        #expect(mapped("23503").status == .conflict)
        #expect(mapped("42883").status == .notFound)
        #expect(mapped("P0001").status == .badRequest)
        #expect(mapped("P0002").status == .notFound)
        #expect(mapped("P0003").status == .internalServerError)
        #expect(mapped("22P02").status == .badRequest)
        #expect(mapped("42501", role: .authenticated).status == .forbidden)
        #expect(mapped("42501", role: .anon).status == .unauthorized)
        #expect(mapped("25006").status == .methodNotAllowed)
        #expect(mapped("XX000").status == .internalServerError)
        #expect(mapped("PT402").status.code == 402)
    }

    @Test("an unreachable or restarting database is 503 with Retry-After")
    func unavailable() {
        for code in [nil, "08006", "57P01", "57P03", "53300"] {
            let error = mapped(code)
            #expect(error.status == .serviceUnavailable, "\(code ?? "connection failure")")
            #expect(error.headers[.retryAfter] == "1")
        }
        #expect(mapped("53400").status == .internalServerError)
    }

    @Test("a write sent without an answer is 504 08007, outcome unknown: Retry-After only when it is idempotent")
    func outcomeUnknown() {
        for timedOut in [false, true] {
            let write = unanswered(sent: true, timedOut: timedOut, kind: .write)
            #expect(write.status == .gatewayTimeout)
            #expect(write.code == "08007")
            #expect(write.headers[.retryAfter] == nil, "retrying a write of unknown outcome could apply it twice")
            #expect(write.message.contains("may or may not"))
            let keyed = unanswered(sent: true, timedOut: timedOut, kind: .idempotentWrite)
            #expect(keyed.status == .gatewayTimeout)
            #expect(keyed.code == "08007")
            #expect(keyed.headers[.retryAfter] == "1")
            #expect(keyed.hint?.contains("Idempotency-Key") == true)
        }
    }

    @Test("nothing sent, or only a read lost: 503 or 504 with Retry-After, nothing applied")
    func notApplied() {
        for kind in [BridgeError.CallKind.write, .idempotentWrite, .read] {
            let unsent = unanswered(sent: false, timedOut: false, kind: kind)
            #expect(unsent.status == .serviceUnavailable)
            #expect(unsent.code == "PGRST000")
            #expect(unsent.headers[.retryAfter] == "1")
            let late = unanswered(sent: false, timedOut: true, kind: kind)
            #expect(late.status == .gatewayTimeout)
            #expect(late.code == "PGRST003")
            #expect(late.headers[.retryAfter] == "1")
        }
        let lostRead = unanswered(sent: true, timedOut: false, kind: .read)
        #expect(lostRead.status == .serviceUnavailable)
        #expect(lostRead.headers[.retryAfter] == "1")
        let lateRead = unanswered(sent: true, timedOut: true, kind: .read)
        #expect(lateRead.status == .gatewayTimeout)
        #expect(lateRead.code == "PGRST003")
    }

    @Test("a statement cancelled by statement_timeout is 504 with Retry-After, not PostgREST's 500: nothing was applied")
    func statementTimeout() {
        for kind in [BridgeError.CallKind.write, .idempotentWrite, .read] {
            let error = BridgeError(
                DatabaseError(sqlState: "57014", message: "canceling statement due to statement timeout"), role: .authenticated,
                requestID: "r-1", kind: kind)
            #expect(error.status == .gatewayTimeout)
            #expect(error.code == "57014")
            #expect(error.message == "canceling statement due to statement timeout")
            #expect(error.headers[.retryAfter] == "1")
            #expect(error.hint?.contains("nothing was applied") == true)
        }
        // Its neighbours in class 57 keep their statuses.
        #expect(mapped("57000").status == .internalServerError)
        #expect(mapped("57P01").status == .serviceUnavailable)
    }

    @Test("a function's own errors reach the caller with message, detail and hint")
    func callerErrorsForwarded() {
        let error = mapped("P0002", message: "Organization not found")
        #expect(error.code == "P0002")
        #expect(error.message == "Organization not found")
        #expect(error.details == "the detail")
        #expect(error.hint == "the hint")
    }

    @Test("internal errors never show the server's words, which can quote SQL")
    func internalErrorsWithheld() {
        for code in ["42601", "42703", "XX000", "58030"] {
            let error = mapped(code, message: "syntax error at or near \"select secret\"")
            #expect(error.code == code)
            #expect(!error.message.contains("secret"))
            #expect(error.details?.contains("r-1") == true)
            #expect(error.hint == nil)
        }
    }
}
