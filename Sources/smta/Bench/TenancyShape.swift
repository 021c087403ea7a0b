import Foundation

/// The three queries `smta bench tenancy` measures, each in two forms: gated (run as the member,
/// row-level security deciding) and by hand (run as a role that bypasses RLS, with the member's
/// organizations written into the query, as an application filtering by itself would).
enum TenancyShape: String, CaseIterable, Codable, Sendable {
    /// Counting every row the member may see.
    case count
    /// The newest 50 rows of one organization (the largest, to which every measured user belongs).
    case page
    /// One row by its primary key.
    case primaryKeyLookup = "pk lookup"

    /// The two statements for `member` in `dataset`. Every value is a UUID this process formatted,
    /// so the statements hold literals (custom plans, identical on both sides).
    func statements(for member: TenancyDataset.Member, in dataset: TenancyDataset) -> (gated: String, byHand: String) {
        let table = TenancyDataset.table
        let organizations = "'{" + member.organizations.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}'::uuid[]"
        switch self {
        case .count:
            return ("select count(*) from \(table)",
                    "select count(*) from \(table) where organization_id = any (\(organizations))")
        case .page:
            let page = "select * from \(table) where organization_id = '\(dataset.largestOrganization.uuidString.lowercased())' order by created_at desc limit 50"
            return (page, page)
        case .primaryKeyLookup:
            let lookup = "select * from \(table) where id = '\(dataset.lookupRow.uuidString.lowercased())'"
            return (lookup, lookup + " and organization_id = any (\(organizations))")
        }
    }

    /// The goal issue #15 sets for every query, on planning + execution (what a pooled bridge
    /// or PostgREST pays per statement).
    static let goal = "gated/by hand <= 1.25, or <= 15 µs over a query under 60 µs (planning + execution)"

    /// Whether planning + execution times, in milliseconds, meet ``goal``.
    static func meetsGoal(gated: Double, byHand: Double) -> Bool {
        gated / byHand <= 1.25 || (byHand < 0.060 && gated - byHand <= 0.015)
    }
}
