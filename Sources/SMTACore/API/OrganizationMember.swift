import Foundation

/// A member of an organization (`public.list_organization_members`).
public struct OrganizationMember: Sendable, Hashable {
    /// The member's user id.
    public var userID: UUID
    /// Their email, if known.
    public var email: String?
    /// Their first name.
    public var firstName: String?
    /// Their last name.
    public var lastName: String?
    /// Their role's name.
    public var role: String
    /// The role's label.
    public var roleLabel: String?
    /// Whether they own the organization.
    public var isSuperAdmin: Bool
}
