import SMTACore
import SMTAHummingbird

extension BridgeError {
    /// A refused credential, answered as ``CredentialRefusal`` answers it — the one mapping,
    /// shared with Hummingbird apps: 401 with PGRST303 when the token is well signed but its
    /// claims fail ("JWT expired" for an expired one), PGRST301 for anything else, 503 PGRST000
    /// when the adapter could not check it. The message never echoes the credential; the
    /// precise reason goes to the log.
    init(_ error: AuthenticationError) {
        let refusal = CredentialRefusal(error)
        self.init(
            status: refusal.status, code: refusal.code, message: refusal.message,
            hint: error.kind == .unavailable ? "Retry in a moment." : nil, headers: refusal.headers)
    }
}
