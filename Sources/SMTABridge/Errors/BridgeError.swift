import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered in PostgREST's shape: `{"code", "message", "details", "hint"}` with an
/// HTTP status, so Supabase and PostgREST clients read it as they read PostgREST's own.
///
/// The message, details and hint are what the client may see: never SQL text, a bind value, a
/// token, a key or a stack trace.
struct BridgeError: Error, Sendable {
    /// The HTTP status.
    var status: HTTPResponse.Status
    /// A SQLSTATE (`P0001`, `42501`) or a PostgREST code (`PGRST202`).
    var code: String
    /// What went wrong.
    var message: String
    /// More about it, if anything.
    var details: String?
    /// What to do about it, if anything.
    var hint: String?
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    var headers: HTTPFields = [:]

    /// The error as an HTTP response.
    func response() -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    /// The body: `{"code", "details", "hint", "message"}`.
    var json: String {
        "{\"code\":\(JSONText.string(code)),\"details\":\(JSONText.optional(details)),"
            + "\"hint\":\(JSONText.optional(hint)),\"message\":\(JSONText.string(message))}"
    }
}

extension BridgeError {
    /// The request body is not a JSON object (PostgREST's PGRST102).
    static func invalidBody(_ message: String, hint: String? = nil) -> BridgeError {
        BridgeError(status: .badRequest, code: "PGRST102", message: message, hint: hint)
    }

    /// No function of that name and arguments (PostgREST's PGRST202).
    static func unknownFunction(_ name: String) -> BridgeError {
        BridgeError(
            status: .notFound, code: "PGRST202",
            message: "Could not find the function public.\(name) in the schema cache",
            hint: "Only functions of the public schema can be called, by their exact name.")
    }

    /// The database cannot be reached (PostgREST's PGRST000, 503 with `Retry-After`).
    static func databaseUnavailable(retryAfterSeconds: Int) -> BridgeError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return BridgeError(
            status: .serviceUnavailable, code: "PGRST000",
            message: "The database is unreachable", hint: "Retry in a moment.", headers: headers)
    }

    /// An unexpected failure; details are in the log under the request id.
    static func internalError(requestID: String) -> BridgeError {
        BridgeError(
            status: .internalServerError, code: "XX000", message: "Internal error",
            details: "Request \(requestID); the server log has the details.")
    }
}
