import SMTACore
import SMTAPayload

extension PayloadAdapter {
    /// The refusal `credentials` meet, or nil when they are accepted.
    func refusal(_ credentials: Credentials) async -> AuthenticationError? {
        do {
            _ = try await identify(credentials)
            return nil
        } catch {
            return error
        }
    }
}

extension PayloadAdapter {
    /// The identity `credentials` yield (untyped throws, for use inside `#expect`).
    func accepted(_ credentials: Credentials) async throws -> Identity {
        try await identify(credentials)
    }
}

extension Credentials {
    /// `Authorization: JWT <token>`.
    static func jwt(_ token: String) -> Credentials { Credentials(headers: [("Authorization", "JWT " + token)]) }
}
