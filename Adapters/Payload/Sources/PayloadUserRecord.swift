import Foundation

/// What a session store found for a credential: the user's row and, when a session was asked
/// for and exists, the session row with the token's `sid` that belongs to that user. The
/// adapter judges; the store only reads.
public struct PayloadUserRecord: Sendable, Hashable {
    /// The user's id, as the users table holds it.
    public var id: PayloadUserID
    /// The user's email, from the users table.
    public var email: String?
    /// Whether `_verified` is true; true when the collection does not require verification.
    public var isVerified: Bool
    /// Whether the user is in the trash (`deleted_at` set, collections with `trash: true`).
    public var isTrashed: Bool
    /// Whether a row of `<collection>_sessions` has `id` = sid and `_parent_id` = the user id.
    public var hasSession: Bool
    /// The session's `expires_at`; nil when there is no session or its value cannot be read.
    public var sessionExpiresAt: Date?

    /// Creates a record.
    public init(id: PayloadUserID, email: String?, isVerified: Bool, isTrashed: Bool, hasSession: Bool, sessionExpiresAt: Date?) {
        self.id = id
        self.email = email
        self.isVerified = isVerified
        self.isTrashed = isTrashed
        self.hasSession = hasSession
        self.sessionExpiresAt = sessionExpiresAt
    }
}
