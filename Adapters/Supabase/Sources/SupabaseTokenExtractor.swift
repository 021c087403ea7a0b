import SMTACore

/// Finds Supabase's credentials in a request: the `apikey` header when it is one of Supabase's
/// API keys (`sb_…`; a legacy JWT `apikey` is ignored, as the gateway does) and the
/// `Authorization: Bearer …` value, a user or legacy API-key JWT or an API key itself.
struct SupabaseTokenExtractor: Sendable {
    /// What the bearer carries.
    enum Bearer {
        /// An `sb_…` API key.
        case apiKey(ArraySlice<UInt8>)
        /// A JWT, not yet verified.
        case token([UInt8])
    }

    /// The longest token accepted, in bytes.
    let maxTokenSize: Int

    /// The `apikey` header's value when it is an `sb_…` API key.
    func apiKey(in credentials: Credentials) -> [UInt8]? {
        guard let header = credentials.header("apikey") else { return nil }
        let key = Array(header.utf8)
        return SupabaseAPIKey.isAPIKey(key) ? key : nil
    }

    /// The bearer's value, or nil without an `Authorization` header.
    /// - Throws: ``AuthenticationError`` `malformed` for another scheme, an empty or oversized
    ///   token.
    func bearer(in credentials: Credentials) throws(AuthenticationError) -> Bearer? {
        guard let authorization = credentials.header("authorization") else { return nil }
        guard authorization.utf8.count <= maxTokenSize + 16 else {
            throw AuthenticationError(.malformed, "Authorization header longer than \(maxTokenSize) bytes")
        }
        let value = authorization.utf8
        let scheme = "bearer ".utf8
        let isLetter = { (byte: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) }
        guard value.count > scheme.count,
            zip(value, scheme).allSatisfy({ $0 == $1 || (isLetter($0) && $0 | 0x20 == $1) })
        else {
            throw AuthenticationError(.malformed, "Authorization is not a Bearer token")
        }
        let token = Array(value.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") })
        if SupabaseAPIKey.isAPIKey(token) {
            return .apiKey(token[...])
        }
        guard !token.isEmpty else {
            throw AuthenticationError(.malformed, "empty bearer token")
        }
        guard token.count <= maxTokenSize else {
            throw AuthenticationError(.malformed, "token of \(token.count) bytes exceeds the \(maxTokenSize)-byte limit")
        }
        return .token(token)
    }
}
