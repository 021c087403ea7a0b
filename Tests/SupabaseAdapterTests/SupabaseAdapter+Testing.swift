import Foundation
import SMTACore
import SMTASupabase

extension SupabaseAdapter {
    /// An adapter trusting the test secret and, when given, a JWKS source.
    static func forTests(
        jwks: (any JWKSSource)? = nil, secret: String? = TokenMinter.secret, issuer: String? = nil,
        refreshInterval: Duration = .seconds(30)
    ) throws -> SupabaseAdapter {
        try SupabaseAdapter(settings: SupabaseSettings(
            jwtSecret: secret, jwks: jwks, issuer: issuer, jwksRefreshInterval: refreshInterval))
    }

    /// The refusal `token` meets, or nil when it is accepted.
    func refusal(_ token: String) async -> AuthenticationError? {
        await refusal(TokenMinter.bearer(token))
    }

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
