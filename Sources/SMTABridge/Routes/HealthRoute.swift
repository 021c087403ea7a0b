import Hummingbird
import PostgresNIO
import SMTACore

/// `GET /health`: 200 when the process serves and the database answers, 503 otherwise.
///
/// Body: `{"status":"ok"|"unavailable","database":"up"|"down"}`. The database check is a
/// `select 1` through the pool, bounded by two seconds.
struct HealthRoute: Sendable {
    let pool: RenewablePool
    let availability: DatabaseAvailability

    func respond(context: some RequestContext) async -> Response {
        var up = !availability.isDown
        if up {
            let pool = pool
            let logger = context.logger
            let failure: DatabaseError? = await Deadline.run(within: .seconds(2)) {
                do {
                    _ = try await pool.withConnection { try await $0.guardedQuery("select 1", logger: logger) }
                    return nil
                } catch {
                    return DatabaseError(error)
                }
            }
            if let failure {
                up = false
                availability.noteFailure(failure)
            }
        }
        let body = up ? #"{"status":"ok","database":"up"}"# : #"{"status":"unavailable","database":"down"}"#
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if !up {
            headers[.retryAfter] = "1"
        }
        return Response(
            status: up ? .ok : .serviceUnavailable, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
