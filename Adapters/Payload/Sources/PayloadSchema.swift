import SMTASchema

/// The Payload adapter's SQL part: identity from `app.current_user_id`, id mapping, secrets.
public enum PayloadSchema {
    /// The adapter's migrations, applied after the core ones.
    public static let migrations: [Migration] = Migration.list(
        source: "payload", folder: "SQL", files: EmbeddedSQL.files)
}
