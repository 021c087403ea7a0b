import HTTPTypes
import SMTACore

extension BridgeError {
    /// 401 (PostgREST's PGRST301) for a refused credential, 503 when the adapter could not check
    /// it. The message is the error's public one: it never echoes the credential or says which
    /// check failed; the precise reason goes to the log.
    init(_ error: AuthenticationError) {
        if error.kind == .unavailable {
            self = .databaseUnavailable(retryAfterSeconds: 1)
            self.message = error.publicMessage
            return
        }
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = error.kind == .missing ? "Bearer" : "Bearer error=\"invalid_token\""
        self.init(status: .unauthorized, code: "PGRST301", message: error.publicMessage, headers: headers)
    }
}
