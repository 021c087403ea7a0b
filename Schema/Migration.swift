/// One step of the SMTA schema: a named SQL script applied once, in its own transaction.
///
/// A migration's ``id`` orders it and identifies it in `smta.schema_migrations`; its
/// `checksum` detects a script that changed after it was applied.
public struct Migration: Sendable, Hashable {
    /// Where the migration comes from: `core`, or the adapter's name (`supabase`, `payload`).
    public let source: String
    /// The file's name without `.sql`, e.g. `0002_tables`. Orders migrations within a source.
    public let name: String
    /// The SQL script.
    public let sql: String

    /// Creates a migration from its source, name and SQL text.
    public init(source: String, name: String, sql: String) {
        self.source = source
        self.name = name
        self.sql = sql
    }

    /// The identifier recorded when the migration is applied: `source/name`.
    public var id: String { "\(source)/\(name)" }

    /// Builds the migrations of one source from embedded files found under `folder/`,
    /// ordered by file name.
    public static func list(
        source: String, folder: String, files: [(path: String, text: String)]
    ) -> [Migration] {
        files
            .filter { $0.path.hasPrefix(folder + "/") && $0.path.hasSuffix(".sql") }
            .map { file in
                let fileName = file.path.dropFirst(folder.count + 1).dropLast(4)
                return Migration(source: source, name: String(fileName), sql: file.text)
            }
            .sorted { $0.name < $1.name }
    }
}

/// The core SMTA schema, shared by every adapter.
public enum CoreSchema {
    /// The core migrations in the order they apply.
    public static let migrations: [Migration] = Migration.list(
        source: "core", folder: "migrations", files: EmbeddedSQL.files)
}
