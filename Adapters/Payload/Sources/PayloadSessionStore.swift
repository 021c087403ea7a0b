/// Where Payload keeps its users and sessions: read-only access to the auth collection's table
/// and its `<collection>_sessions` table, in Payload's own database (SQLite or PostgreSQL).
public protocol PayloadSessionStore: Sendable {
    /// Looks up user `id` of `collection` and, when `sid` is given, its session `sid`, in one read.
    /// - Returns: the user's record, or nil when no such user exists.
    /// - Throws: when the database cannot be read (the adapter reports it as `unavailable`).
    func user(_ id: PayloadUserID, session sid: String?, in collection: PayloadCollection) async throws -> PayloadUserRecord?

    /// Looks up the user of `collection` whose `api_key_index` is one of `apiKeyIndexes` and whose
    /// `enable_a_p_i_key` is true.
    /// - Returns: the user's record (without a session), or nil when no user matches.
    /// - Throws: when the database cannot be read (the adapter reports it as `unavailable`).
    func user(apiKeyIndexes: [String], in collection: PayloadCollection) async throws -> PayloadUserRecord?

    /// Runs the store's background work (a connection pool) until the calling task is
    /// cancelled. Lookups wait for it where the store needs it; call it once, for the store's
    /// whole life.
    func run() async
}
