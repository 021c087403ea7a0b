import Foundation

/// A unit just created (`public.create_unit`).
public struct CreatedUnit: Sendable, Hashable {
    /// The unit's id.
    public var id: UUID
    /// Its organization.
    public var organizationID: UUID
    /// Its name.
    public var name: String
    /// Its description.
    public var description: String?
}
