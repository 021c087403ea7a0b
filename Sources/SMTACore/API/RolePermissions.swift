/// The caller's role in an organization or unit with its CASL rules, for the application's
/// authorization layer (`public.get_user_permissions`, `public.get_user_unit_permissions`).
public struct RolePermissions: Sendable, Hashable {
    /// The role's name.
    public var roleName: String
    /// The role's CASL rules, as JSON text.
    public var caslRulesJSON: String?
}
