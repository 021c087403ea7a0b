/// A Payload auth collection: its slug, the auth options SMTA must know, and the SQL tables
/// Payload's database adapters keep it in.
///
/// Slugs are validated strictly (ASCII letters, digits, `-` and `_`, starting with a letter, at
/// most 50 characters), so that table names derived from them are always safe to quote. Payload's
/// SQL adapters name the table `toSnakeCase(slug)`, or the collection's `dbName` when it sets one
/// (``tableName``), and the sessions array `<table>_sessions`.
public struct PayloadCollection: Sendable, Hashable, CustomStringConvertible {
    /// The slug, as the token's `collection` claim carries it.
    public let slug: String
    /// Whether the user must have verified their email (`auth.verify`: the `_verified` column).
    public let requiresVerification: Bool
    /// Whether tokens must name a live session (`auth.useSessions`, Payload's default). When
    /// false, a token without `sid` is accepted as long as its user exists, as Payload does.
    public let usesSessions: Bool
    /// Whether users may authenticate with `Authorization: <slug> API-Key <key>`
    /// (`auth.useAPIKey`: the `enable_a_p_i_key` and `api_key_index` columns).
    public let usesAPIKeys: Bool
    /// The collection's `dbName`, when it names its table itself.
    public let dbName: String?

    /// Creates a collection.
    /// - Parameters:
    ///   - slug: the collection's slug.
    ///   - requiresVerification: `auth.verify`.
    ///   - usesSessions: `auth.useSessions` (Payload's default: true).
    ///   - usesAPIKeys: `auth.useAPIKey`.
    ///   - dbName: the collection's `dbName`; an SQL identifier of at most 63 ASCII letters,
    ///     digits and `_`, not starting with a digit.
    /// - Throws: ``PayloadCollection/InvalidSlug`` when `slug` or `dbName` is not a name SMTA accepts.
    public init(
        slug: String, requiresVerification: Bool = false, usesSessions: Bool = true, usesAPIKeys: Bool = false, dbName: String? = nil
    ) throws(InvalidSlug) {
        let bytes = Array(slug.utf8)
        guard let first = bytes.first, Self.isLower(first) || Self.isUpper(first), bytes.count <= 50,
            bytes.allSatisfy(Self.isSlugByte)
        else {
            throw InvalidSlug(slug: slug)
        }
        if let dbName {
            let nameBytes = Array(dbName.utf8)
            guard let first = nameBytes.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
                nameBytes.count <= 63 - "_sessions".utf8.count,
                nameBytes.allSatisfy({ Self.isLower($0) || Self.isUpper($0) || Self.isDigit($0) || $0 == UInt8(ascii: "_") })
            else {
                throw InvalidSlug(slug: dbName, isDBName: true)
            }
        }
        self.slug = slug
        self.requiresVerification = requiresVerification
        self.usesSessions = usesSessions
        self.usesAPIKeys = usesAPIKeys
        self.dbName = dbName
    }

    /// The users table, named as Payload's drizzle adapters name it (`toSnakeCase` of the slug,
    /// from the `to-snake-case` package): `users` → `users`, `team-members` → `team_members`,
    /// `teamMembers` → `team_members`, `APIUsers` → `a_p_i_users`.
    ///
    /// Faithful to that package, including its quirk: a slug with a separator is not also split
    /// at case changes (`myTeam-x` → `myteam_x`). A collection's `dbName` replaces it.
    public var tableName: String {
        if let dbName { return dbName }
        let bytes = Array(slug.utf8)
        let spaced: [UInt8]
        if bytes.contains(where: Self.isSeparator) {
            spaced = bytes
        } else if zip(bytes, bytes.dropFirst()).contains(where: { Self.isLower($0) && Self.isUpper($1) || Self.isUpper($0) && Self.isLower($1) }) {
            spaced = Self.uncamelized(bytes)
        } else {
            spaced = bytes
        }
        let words = spaced.split(whereSeparator: { $0 == UInt8(ascii: " ") || Self.isSeparator($0) })
        return words.map { String(decoding: $0, as: UTF8.self).lowercased() }.joined(separator: "_")
    }

    /// The sessions table, e.g. `users_sessions`.
    public var sessionsTableName: String { tableName + "_sessions" }

    public var description: String { slug }

    /// A slug or `dbName` SMTA refuses.
    public struct InvalidSlug: Error, Sendable, Hashable, CustomStringConvertible {
        /// The slug (or `dbName`) as given.
        public let slug: String
        /// Whether the refused name is a `dbName` rather than a slug.
        public var isDBName = false

        public var description: String {
            isDBName
                ? "'\(slug)' is not a dbName SMTA accepts (ASCII letters, digits and '_', not starting with a digit, at most 54 characters)"
                : "'\(slug)' is not a collection slug (ASCII letters, digits, '-' and '_', starting with a letter, at most 50 characters)"
        }
    }

    /// `to-no-case`'s camel split: each character followed by a run of capitals becomes that
    /// character, then every capital of the run as a word of its own.
    private static func uncamelized(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            result.append(bytes[index])
            var next = index + 1
            guard next < bytes.count, isUpper(bytes[next]) else {
                index += 1
                continue
            }
            while next < bytes.count, isUpper(bytes[next]) {
                result.append(UInt8(ascii: " "))
                result.append(bytes[next])
                next += 1
            }
            index = next
        }
        return result
    }

    private static func isSlugByte(_ byte: UInt8) -> Bool {
        isLower(byte) || isUpper(byte) || isDigit(byte) || isSeparator(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isSeparator(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") }
    private static func isLower(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
    private static func isUpper(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
}
