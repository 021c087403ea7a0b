/// The claims of a verified Payload token that SMTA relies on.
///
/// Payload writes `id`, `collection`, `email`, `sid` (with sessions on), the collection's
/// `saveToJWT` fields, then `iat` and `exp`. The `email` claim is not trusted: the adapter
/// loads the email from the users table.
public struct PayloadClaims: Sendable, Hashable, Decodable {
    /// The user's id in its collection.
    public var id: PayloadUserID
    /// The auth collection's slug, e.g. `users`.
    public var collection: String
    /// The session id (a row of `<collection>_sessions`); nil when sessions are off.
    public var sid: String?
    /// Expiry, in seconds since 1970.
    public var exp: Double
    /// Issue time, in seconds since 1970.
    public var iat: Double?
    /// Not-before, in seconds since 1970 (Payload never sets it; jose checks it when present).
    public var nbf: Double?
}
