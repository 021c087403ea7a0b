import Foundation

/// An organization just created (`public.create_organization`); its creator is its super_admin.
public struct CreatedOrganization: Sendable, Hashable {
    /// The new organization's id.
    public var id: UUID
    /// Its name.
    public var name: String
    /// When it was created.
    public var createdAt: Date
}
