import Foundation

/// What a session store found for a token: the user's row and, if it exists, the session row
/// with the token's `sid` that belongs to that user. The adapter judges; the store only reads.
public struct PayloadUserRecord: Sendable, Hashable {
    /// The user's email, from the users table.
    public var email: String?
    /// Whether `_verified` is true; true when the collection does not require verification.
    public var isVerified: Bool
    /// Whether a row of `<collection>_sessions` has `id` = sid and `_parent_id` = the user id.
    public var hasSession: Bool
    /// The session's `expires_at`; nil when there is no session or its value cannot be read.
    public var sessionExpiresAt: Date?

    /// Creates a record.
    public init(email: String?, isVerified: Bool, hasSession: Bool, sessionExpiresAt: Date?) {
        self.email = email
        self.isVerified = isVerified
        self.hasSession = hasSession
        self.sessionExpiresAt = sessionExpiresAt
    }
}
