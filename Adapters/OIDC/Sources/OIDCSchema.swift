import SMTASchema

/// The OIDC adapter's SQL part: identity from `app.current_user_id`, and the mapping from each
/// issuer's subjects to SMTA user ids (`core.link_identity`).
public enum OIDCSchema {
    /// The adapter's migrations, applied after the core ones.
    public static let migrations: [Migration] = Migration.list(
        source: "oidc", folder: "SQL", files: EmbeddedSQL.files)
}
