/// What a request presents to the Payload adapter: a token (header or cookie) or an API key.
public enum PayloadCredential: Sendable, Hashable {
    /// A Payload JWT, from `Authorization: JWT …`, `Authorization: Bearer …` or the cookie.
    case token(String)
    /// `Authorization: <slug> API-Key <key>`, for a collection with `auth.useAPIKey`.
    case apiKey(collection: String, key: String)
}
