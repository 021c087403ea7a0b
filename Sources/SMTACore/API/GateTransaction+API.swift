import Foundation
import PostgresNIO

/// Typed calls of SMTA's `public.*` functions, run as the gated caller. Each method is a thin
/// binding: the function's own checks decide what the caller may do, and its errors arrive as
/// ``DatabaseError`` (`42501` not allowed, `P0002` not found, `23505` duplicate, …).
extension GateTransaction {
    /// Creates an organization owned by the caller.
    public func createOrganization(name: String, description: String? = nil) async throws -> CreatedOrganization {
        let result = try await rows(
            "select id, name, created_at from public.create_organization(p_name => \(name), p_description => \(description))",
            as: (UUID, String, Date).self)
        guard let (id, name, createdAt) = result.first else { throw Self.noRow("create_organization") }
        return CreatedOrganization(id: id, name: name, createdAt: createdAt)
    }

    /// The organizations the caller belongs to, with the caller's role in each.
    public func listMyOrganizations() async throws -> [OrganizationMembership] {
        try await rows(
            "select id, name, description, role, role_label from public.list_my_organizations()",
            as: (UUID, String, String?, String, String?).self
        ).map { OrganizationMembership(id: $0, name: $1, description: $2, role: $3, roleLabel: $4) }
    }

    /// The members of an organization the caller belongs to.
    public func listOrganizationMembers(organizationID: UUID) async throws -> [OrganizationMember] {
        try await rows(
            """
            select user_id, email, first_name, last_name, role, role_label, is_super_admin
            from public.list_organization_members(p_id => \(organizationID))
            """,
            as: (UUID, String?, String?, String?, String, String?, Bool).self
        ).map {
            OrganizationMember(
                userID: $0, email: $1, firstName: $2, lastName: $3, role: $4, roleLabel: $5, isSuperAdmin: $6)
        }
    }

    /// The caller's role name in an organization, or nil when not a member.
    public func userRole(organizationID: UUID) async throws -> String? {
        try await rows("select public.get_user_role(p_org_id => \(organizationID))", as: (String?).self).first ?? nil
    }

    /// The caller's role and CASL rules in an organization.
    public func userPermissions(organizationID: UUID) async throws -> [RolePermissions] {
        try await rows(
            "select role_name, casl_rules::text from public.get_user_permissions(p_org_id => \(organizationID))",
            as: (String, String?).self
        ).map { RolePermissions(roleName: $0, caslRulesJSON: $1) }
    }

    /// Creates a unit in an organization, optionally inside a parent unit.
    public func createUnit(
        organizationID: UUID, name: String, description: String? = nil, parentUnitID: UUID? = nil
    ) async throws -> CreatedUnit {
        let result = try await rows(
            """
            select id, organization_id, name, description from public.create_unit(
                p_org_id => \(organizationID), p_name => \(name), p_description => \(description),
                p_parent_unit_id => \(parentUnitID))
            """,
            as: (UUID, UUID, String, String?).self)
        guard let (id, organizationID, name, description) = result.first else { throw Self.noRow("create_unit") }
        return CreatedUnit(id: id, organizationID: organizationID, name: name, description: description)
    }

    /// Invites `email` into an organization (and optionally a unit) with a role. The returned
    /// token is the only copy of it.
    public func createInvitation(
        email: String, organizationID: UUID, roleID: UUID, unitID: UUID? = nil
    ) async throws -> IssuedInvitation {
        let result = try await rows(
            """
            select id, token, email, expires_at from public.create_invitation(
                p_email => \(email), p_organization_id => \(organizationID), p_role_id => \(roleID),
                p_unit_id => \(unitID))
            """,
            as: (UUID, String, String, Date).self)
        guard let (id, token, email, expiresAt) = result.first else { throw Self.noRow("create_invitation") }
        return IssuedInvitation(id: id, token: token, email: email, expiresAt: expiresAt)
    }

    /// Accepts an invitation addressed to the caller's email.
    public func acceptInvitation(token: String) async throws -> AcceptedInvitation {
        let result = try await rows(
            "select organization_id, unit_id, role_id, organization_name from public.accept_invitation(p_token => \(token))",
            as: (UUID, UUID?, UUID, String).self)
        guard let (organizationID, unitID, roleID, name) = result.first else { throw Self.noRow("accept_invitation") }
        return AcceptedInvitation(organizationID: organizationID, unitID: unitID, roleID: roleID, organizationName: name)
    }

    private static func noRow(_ function: String) -> DatabaseError {
        DatabaseError(sqlState: nil, message: "public.\(function) returned no row")
    }
}
