import SMTASchema

/// The Supabase adapter's SQL part: identity from `auth.uid()`, Supabase's roles, Vault secrets.
public enum SupabaseSchema {
    /// The adapter's migrations, applied after the core ones.
    public static let migrations: [Migration] = Migration.list(
        source: "supabase", folder: "SQL", files: EmbeddedSQL.files)
}
