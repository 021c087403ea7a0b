import Foundation

/// An organization the caller belongs to, with the caller's role there
/// (`public.list_my_organizations`).
public struct OrganizationMembership: Sendable, Hashable {
    /// The organization's id.
    public var id: UUID
    /// Its name.
    public var name: String
    /// Its description.
    public var description: String?
    /// The caller's role name (`super_admin`, `manager`, …).
    public var role: String
    /// The role's human-readable label.
    public var roleLabel: String?
}
