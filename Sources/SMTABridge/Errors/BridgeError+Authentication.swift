import HTTPTypes
import SMTACore

extension BridgeError {
    /// 401 for a refused credential, 503 when the adapter could not check it, with PostgREST's
    /// codes: PGRST303 when the token is well signed but its claims fail (expired — "JWT
    /// expired", which clients take as the cue to refresh the session —, not yet valid, wrong
    /// audience or issuer), PGRST301 for anything else. The message never echoes the credential
    /// or says more than PostgREST would; the precise reason goes to the log.
    init(_ error: AuthenticationError) {
        if error.kind == .unavailable {
            self = .databaseUnavailable(retryAfterSeconds: 1)
            self.message = error.publicMessage
            return
        }
        var headers = HTTPFields()
        let claimsFailed = [.expired, .notYetValid, .invalidClaims].contains(error.kind)
        let message = error.kind == .expired ? "JWT expired" : error.publicMessage
        switch error.kind {
        case .missing:
            headers[.wwwAuthenticate] = "Bearer"
        case .expired:
            headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\", error_description=\"JWT expired\""
        default:
            headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
        }
        self.init(status: .unauthorized, code: claimsFailed ? "PGRST303" : "PGRST301", message: message, headers: headers)
    }
}
