import Foundation

/// An invitation just created or re-sent. ``token`` is the only copy of the raw token: the
/// database keeps its hash. Deliver it to the invitee; never log it.
public struct IssuedInvitation: Sendable, Hashable {
    /// The invitation's id.
    public var id: UUID
    /// The raw token, returned once.
    public var token: String
    /// The invited email.
    public var email: String
    /// When the invitation expires.
    public var expiresAt: Date
}
