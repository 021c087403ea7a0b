/// One line of `smta bench tenancy`: a query shape for a user with a number of memberships,
/// gated and by hand, as medians of PostgreSQL's own timings, in milliseconds.
struct TenancyMeasurement: Codable, Sendable {
    /// How many organizations the user belongs to.
    var memberships: Int
    /// The query.
    var shape: TenancyShape
    /// Rows the query returned (the count's value for `count`), identical on both sides.
    var rows: Int
    /// Median execution time through the policies.
    var gatedMilliseconds: Double
    /// Median execution time of the same query without RLS, filtered by hand.
    var byHandMilliseconds: Double
    /// Median planning time through the policies, for the record.
    var gatedPlanningMilliseconds: Double
    /// Median planning time by hand, for the record.
    var byHandPlanningMilliseconds: Double
    /// gated / by hand (execution).
    var ratio: Double
    /// Median planning + execution time through the policies (the sum of each run's two).
    var gatedTotalMilliseconds: Double
    /// Median planning + execution time by hand.
    var byHandTotalMilliseconds: Double
    /// gated / by hand (planning + execution).
    var totalRatio: Double
    /// The plan that ran through the policies (last sample), to explain the figures.
    var gatedPlan: String
    /// The plan that ran by hand (last sample).
    var byHandPlan: String
    /// The goal (``TenancyShape/goal``).
    var goal: String
    /// Whether the planning + execution medians meet it.
    var goalMet: Bool
}
