/// The claims SMTA hands to SQL (`request.jwt.claims`) for a Payload user, for tools that
/// read PostgREST's convention: `role`, `sub` (the linked subject), `email`, `collection`,
/// `sid` (absent for API keys and collections without sessions).
struct PayloadIdentityClaims: Encodable {
    var role = "authenticated"
    var sub: String
    var email: String?
    var collection: String
    var sid: String?
}
