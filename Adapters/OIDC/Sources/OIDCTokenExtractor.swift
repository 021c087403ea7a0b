import SMTACore

/// Finds the access token in a request: `Authorization: Bearer <token>` (scheme in any case,
/// RFC 6750). No header: anonymous.
struct OIDCTokenExtractor: Sendable {
    /// The longest token accepted, in bytes.
    let maxTokenSize: Int

    /// The bearer token, or nil without an `Authorization` header.
    /// - Throws: ``AuthenticationError`` `malformed` for another scheme, an empty or oversized
    ///   token.
    func token(in credentials: Credentials) throws(AuthenticationError) -> [UInt8]? {
        guard let authorization = credentials.header("authorization") else { return nil }
        let value = Array(authorization.utf8)
        let scheme = Array("bearer ".utf8)
        guard value.count >= scheme.count, zip(value, scheme).allSatisfy({ $0 | 0x20 == $1 }) else {
            throw AuthenticationError(.malformed, "Authorization is not a Bearer token")
        }
        let token = Array(value.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") })
        guard !token.isEmpty else {
            throw AuthenticationError(.malformed, "empty bearer token")
        }
        guard token.count <= maxTokenSize else {
            throw AuthenticationError(.malformed, "token of \(token.count) bytes exceeds the \(maxTokenSize)-byte limit")
        }
        return token
    }
}
