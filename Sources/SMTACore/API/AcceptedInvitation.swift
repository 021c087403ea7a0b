import Foundation

/// What accepting an invitation granted (`public.accept_invitation`).
public struct AcceptedInvitation: Sendable, Hashable {
    /// The organization joined.
    public var organizationID: UUID
    /// The unit joined, if the invitation named one.
    public var unitID: UUID?
    /// The role granted.
    public var roleID: UUID
    /// The organization's name.
    public var organizationName: String
}
