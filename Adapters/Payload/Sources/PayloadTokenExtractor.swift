import SMTACore

/// Finds the Payload credential in a request, in Payload's order (`auth.jwtOrder` default):
/// `Authorization: JWT <token>`, `Authorization: Bearer <token>`, then the `<prefix>-token`
/// cookie under Payload's CSRF rule; and `Authorization: <slug> API-Key <key>` for the
/// collections that use API keys.
///
/// An `Authorization` header of any other scheme (`Basic …`, an API key for a collection without
/// `useAPIKey`) is passed over, as Payload passes over it: the cookie is used if there is one.
/// Without a cookie, Payload would answer as if no credential had been sent; SMTA refuses the
/// request as malformed instead, so that a client sending a credential never silently becomes
/// anonymous.
///
/// The cookie is honoured when the allowed-origin list is empty, when the request's `Origin`
/// is in the list, or, with no `Origin`, when `Sec-Fetch-Site` is `same-origin`, `same-site`
/// or `none`. Payload quietly ignores a cookie that fails the rule; SMTA refuses the request,
/// so that a cross-site request carrying a session cookie is logged as such.
public struct PayloadTokenExtractor: Sendable {
    /// The cookie's name, e.g. `payload-token`.
    public let cookieName: String
    /// The origins whose requests may use the cookie (Payload's `csrf` list); empty: all.
    public let allowedOrigins: Set<String>
    /// The slugs of the collections whose users may present an API key.
    public let apiKeyCollections: Set<String>

    /// Creates an extractor.
    /// - Parameters:
    ///   - cookiePrefix: Payload's `cookiePrefix` (default `payload`).
    ///   - allowedOrigins: Payload's `csrf` list (origins such as `https://app.example.com`).
    ///   - apiKeyCollections: the slugs of the collections with `auth.useAPIKey`.
    public init(cookiePrefix: String = "payload", allowedOrigins: [String] = [], apiKeyCollections: Set<String> = []) {
        self.cookieName = cookiePrefix + "-token"
        self.allowedOrigins = Set(allowedOrigins)
        self.apiKeyCollections = apiKeyCollections
    }

    /// The credential `credentials` carry, or nil when they carry none.
    /// - Throws: `AuthenticationError` `malformed` for an empty token or key, or for an
    ///   `Authorization` header of another scheme with no cookie to fall back on;
    ///   `forbiddenTransport` for a cookie that fails the CSRF rule.
    public func credential(in credentials: Credentials) throws(AuthenticationError) -> PayloadCredential? {
        let authorization = credentials.header("Authorization")
        if let authorization {
            if let token = Self.value(of: authorization, after: "JWT ") ?? Self.value(of: authorization, after: "Bearer ") {
                guard !token.isEmpty else {
                    throw AuthenticationError(.malformed, "the Authorization header carries an empty token")
                }
                return .token(String(token))
            }
            if let (slug, key) = apiKey(in: authorization) {
                guard !key.isEmpty else {
                    throw AuthenticationError(.malformed, "the Authorization header carries an empty API key")
                }
                return .apiKey(collection: slug, key: key)
            }
        }
        guard let cookie = credentials.cookie(cookieName) else {
            guard authorization == nil else {
                throw AuthenticationError(
                    .malformed,
                    "the Authorization header is neither 'JWT <token>', 'Bearer <token>' nor '<slug> API-Key <key>' for a collection that uses API keys")
            }
            return nil
        }
        guard !cookie.isEmpty else {
            throw AuthenticationError(.malformed, "the \(cookieName) cookie is empty")
        }
        try checkCrossSiteRule(credentials)
        return .token(cookie)
    }

    /// `<slug> API-Key <key>` for a collection that uses API keys, split.
    private func apiKey(in authorization: String) -> (slug: String, key: String)? {
        guard let marker = authorization.range(of: " API-Key ") else { return nil }
        let slug = String(authorization[..<marker.lowerBound])
        guard apiKeyCollections.contains(slug) else { return nil }
        return (slug, String(authorization[marker.upperBound...]))
    }

    private static func value(of authorization: String, after scheme: String) -> Substring? {
        authorization.hasPrefix(scheme) ? authorization.dropFirst(scheme.count) : nil
    }

    private func checkCrossSiteRule(_ credentials: Credentials) throws(AuthenticationError) {
        guard !allowedOrigins.isEmpty else { return }
        if let origin = credentials.header("Origin") {
            guard allowedOrigins.contains(origin) else {
                throw AuthenticationError(.forbiddenTransport, "\(cookieName) cookie sent from origin \(origin.prefix(100)), which is not allowed")
            }
            return
        }
        switch credentials.header("Sec-Fetch-Site") {
        case "same-origin", "same-site", "none":
            return
        case let site?:
            throw AuthenticationError(.forbiddenTransport, "\(cookieName) cookie sent with no Origin and Sec-Fetch-Site \(site.prefix(20))")
        case nil:
            throw AuthenticationError(.forbiddenTransport, "\(cookieName) cookie sent with neither Origin nor Sec-Fetch-Site")
        }
    }
}
