/// A Payload auth collection: its slug and the SQL tables Payload's database adapters keep it in.
///
/// Slugs are validated strictly (lowercase ASCII letters, digits, `-` and `_`, starting with a
/// letter, at most 50 characters), so that table names derived from them are always safe to
/// quote. The SQL adapters name the table after the slug with `-` turned into `_`
/// (`team-members` → `team_members`), and the sessions array `<table>_sessions`.
public struct PayloadCollection: Sendable, Hashable, CustomStringConvertible {
    /// The slug, as the token's `collection` claim carries it.
    public let slug: String
    /// Whether the user must have verified their email (`auth.verify`: the `_verified` column).
    public let requiresVerification: Bool

    /// Creates a collection.
    /// - Throws: ``PayloadCollection/InvalidSlug`` when `slug` is not a slug SMTA accepts.
    public init(slug: String, requiresVerification: Bool = false) throws(InvalidSlug) {
        let bytes = Array(slug.utf8)
        guard let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), bytes.count <= 50,
            bytes.allSatisfy(Self.isSlugByte)
        else {
            throw InvalidSlug(slug: slug)
        }
        self.slug = slug
        self.requiresVerification = requiresVerification
    }

    /// The users table, e.g. `users`.
    public var tableName: String { String(slug.map { $0 == "-" ? "_" : $0 }) }

    /// The sessions table, e.g. `users_sessions`.
    public var sessionsTableName: String { tableName + "_sessions" }

    public var description: String { slug }

    /// A slug SMTA refuses.
    public struct InvalidSlug: Error, Sendable, Hashable, CustomStringConvertible {
        /// The slug as given.
        public let slug: String

        public var description: String {
            "'\(slug)' is not a collection slug (lowercase letters, digits, '-' and '_', starting with a letter, at most 50 characters)"
        }
    }

    private static func isSlugByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }
}
