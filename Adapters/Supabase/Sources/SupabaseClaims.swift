import Foundation

/// The registered and Supabase claims the adapter checks, decoded from a verified payload.
/// Every other claim travels untouched in the claims JSON.
struct SupabaseClaims: Decodable, Sendable {
    /// `aud`: a plain string or an array of strings (RFC 7519 §4.1.3).
    enum Audience: Decodable, Sendable {
        case one(String)
        case many([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let single = try? container.decode(String.self) {
                self = .one(single)
            } else {
                self = .many(try container.decode([String].self))
            }
        }

        /// Whether `audience` is among the token's audiences.
        func contains(_ audience: String) -> Bool {
            switch self {
            case .one(let value): value == audience
            case .many(let values): values.contains(audience)
            }
        }
    }

    /// The user id (a UUID for user tokens); absent on API-key tokens.
    var sub: String?
    /// The database role: `anon`, `authenticated` or `service_role`.
    var role: String?
    /// The intended audience.
    var aud: Audience?
    /// The issuer.
    var iss: String?
    /// Expiry, seconds since 1970.
    var exp: Double?
    /// Not-before, seconds since 1970.
    var nbf: Double?
    /// Issued-at, seconds since 1970.
    var iat: Double?
    /// The user's email; GoTrue writes `""` when there is none.
    var email: String?
    /// Whether the user signed in anonymously (GoTrue's anonymous sign-ins; role `authenticated`).
    var is_anonymous: Bool?
}
