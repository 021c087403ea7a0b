/// What `smta doctor` inspected in one database and the problems it found.
public struct DoctorReport: Codable, Sendable {
    /// How much of the database was inspected, so that a clean report is not an empty one.
    public struct Inspected: Codable, Sendable, Hashable {
        /// Tables of schema `app` (partitions are reached through their parent).
        public var appTables: Int
        /// Row-level security policies, in every schema.
        public var policies: Int
        /// Functions outside PostgreSQL's and the platform's own schemas.
        public var functions: Int
        /// Installed extensions.
        public var extensions: Int

        /// Creates the counts.
        public init(appTables: Int, policies: Int, functions: Int, extensions: Int) {
            self.appTables = appTables
            self.policies = policies
            self.functions = functions
            self.extensions = extensions
        }
    }

    /// The database, password masked.
    public var database: String
    /// True when nothing is wrong.
    public var clean: Bool
    /// How much was inspected.
    public var inspected: Inspected
    /// The problems, ordered by object then kind.
    public var findings: [DoctorFinding]

    /// Creates a report; `clean` follows from `findings`.
    public init(database: String, inspected: Inspected, findings: [DoctorFinding]) {
        self.database = database
        self.inspected = inspected
        self.findings = findings
        self.clean = findings.isEmpty
    }
}
