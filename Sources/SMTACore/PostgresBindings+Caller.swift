import PostgresNIO

extension PostgresBindings {
    /// Appends the nine parameters that say who the caller is, in `core.set_caller`'s order
    /// (`core.gate_call` and `core.gate_call_once` take them the same way): the role, the user id
    /// — or, for an identity the adapter links (``Identity/Link``), no id but the provider,
    /// subject and email to link —, the claims JSON, the secrets key, whether anonymous
    /// sign-ins may become tenants, and the active organization (``Identity/organizationID``).
    mutating func appendCaller(_ identity: Identity, secretsKey: String?, allowsAnonymousUsers: Bool) {
        let link = identity.link
        append(identity.role.rawValue)
        append(link == nil ? identity.userID : nil)
        append(identity.claimsJSON)
        append(secretsKey)
        append(link?.provider)
        append(link?.subject)
        append(link?.email)
        append(allowsAnonymousUsers)
        append(identity.organizationID)
    }
}
