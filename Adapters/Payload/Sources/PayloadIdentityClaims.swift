/// The claims SMTA hands to SQL (`request.jwt.claims`) for a Payload user, for tools that
/// read PostgREST's convention: `role`, `sub` (the linked subject), `email`, `collection`,
/// `sid` (absent for API keys and collections without sessions), and `email_verified`: true
/// only when the user's collection verifies email (`auth.verify`), whose unverified users the
/// adapter never signs in, and absent otherwise. The SQL hook
/// `core.current_user_verified_email()` reads it (`Adapters/Payload/SQL/0003_verified_email.sql`).
struct PayloadIdentityClaims: Encodable {
    var role = "authenticated"
    var sub: String
    var email: String?
    var collection: String
    var sid: String?
    var emailVerified: Bool?

    enum CodingKeys: String, CodingKey {
        case role, sub, email, collection, sid
        case emailVerified = "email_verified"
    }
}
