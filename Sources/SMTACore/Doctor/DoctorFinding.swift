/// One problem `smta doctor` found: the object at fault, the kind of problem, and a sentence
/// saying what is wrong and how to fix it.
public struct DoctorFinding: Codable, Sendable, Hashable {
    /// The kinds of problem the doctor looks for. The raw values are stable: CI scripts read them
    /// from `smta doctor --json`.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// An `app` table without row-level security: every role with a privilege reads all rows.
        case rowLevelSecurityDisabled = "rls-disabled"
        /// An `app` table whose row-level security is not forced: its owner bypasses the policies.
        case rowLevelSecurityNotForced = "rls-not-forced"
        /// An `app` table none of whose policies for the runtime roles checks membership.
        case noMembershipPolicy = "no-membership-policy"
        /// An `app` table's tenant column that no index leads with.
        case tenantColumnNotIndexed = "tenant-column-not-indexed"
        /// A policy calling a membership helper with a row's column: once per row.
        case perRowMembershipHelper = "per-row-membership-helper"
        /// A `SECURITY DEFINER` function without a pinned `search_path`.
        case securityDefinerWithoutSearchPath = "security-definer-without-search-path"
        /// A function of the API schema (`public`) that `anon` may execute.
        case anonExecutesAPIFunction = "anon-executes-api-function"
        /// An extension installed in schema `public`.
        case extensionInPublic = "extension-in-public"
        /// `--citus`: a table without the distribution column.
        case citusNoDistributionColumn = "citus-no-distribution-column"
        /// `--citus`: a distribution column that may be null.
        case citusNullableDistributionColumn = "citus-nullable-distribution-column"
        /// `--citus`: a primary key or unique constraint without the distribution column.
        case citusUniqueWithoutDistributionColumn = "citus-unique-without-distribution-column"
        /// `--citus`: a foreign key between tables that does not pair their distribution columns.
        case citusForeignKeyWithoutDistributionColumn = "citus-foreign-key-without-distribution-column"
    }

    /// The object at fault, as a person would name it: `app.orders`, `app.orders.organization_id`,
    /// `policy "members read" on app.orders`, `function public.report(uuid)`, `extension pg_trgm`.
    public var object: String
    /// The kind of problem.
    public var kind: Kind
    /// What is wrong and how to fix it, in one sentence.
    public var message: String

    /// Creates a finding.
    public init(object: String, kind: Kind, message: String) {
        self.object = object
        self.kind = kind
        self.message = message
    }
}
