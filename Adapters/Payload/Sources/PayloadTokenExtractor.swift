import SMTACore

/// Finds the Payload token in a request, in Payload's order (`auth.jwtOrder` default):
/// `Authorization: JWT <token>`, `Authorization: Bearer <token>`, then the `<prefix>-token`
/// cookie under Payload's CSRF rule.
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

    /// Creates an extractor.
    /// - Parameters:
    ///   - cookiePrefix: Payload's `cookiePrefix` (default `payload`).
    ///   - allowedOrigins: Payload's `csrf` list (origins such as `https://app.example.com`).
    public init(cookiePrefix: String = "payload", allowedOrigins: [String] = []) {
        self.cookieName = cookiePrefix + "-token"
        self.allowedOrigins = Set(allowedOrigins)
    }

    /// The token `credentials` carry, or nil when they carry none.
    /// - Throws: ``AuthenticationError`` `malformed` for an `Authorization` header of another
    ///   scheme (API keys are not supported) or an empty token, `forbiddenTransport` for a
    ///   cookie that fails the CSRF rule.
    public func token(in credentials: Credentials) throws(AuthenticationError) -> String? {
        if let authorization = credentials.header("Authorization") {
            let token: Substring
            if authorization.hasPrefix("JWT ") {
                token = authorization.dropFirst(4)
            } else if authorization.hasPrefix("Bearer ") {
                token = authorization.dropFirst(7)
            } else {
                throw AuthenticationError(.malformed, "the Authorization header is neither 'JWT <token>' nor 'Bearer <token>'")
            }
            guard !token.isEmpty else {
                throw AuthenticationError(.malformed, "the Authorization header carries an empty token")
            }
            return String(token)
        }
        guard let cookie = credentials.cookie(cookieName) else { return nil }
        guard !cookie.isEmpty else {
            throw AuthenticationError(.malformed, "the \(cookieName) cookie is empty")
        }
        try checkCrossSiteRule(credentials)
        return cookie
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
