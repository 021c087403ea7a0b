import Foundation
import Logging
import SMTACore
import SMTASchema

/// Verifies Payload CMS 3.x credentials exactly as Payload does, then checks the user (and its
/// session) in Payload's own database.
///
/// For each request: the token is taken from `Authorization: JWT …`, `Authorization: Bearer …`
/// or the `payload-token` cookie (CSRF rule, see ``PayloadTokenExtractor``); it must be HS256,
/// signed with the key derived from `PAYLOAD_SECRET` or a previous secret, unexpired, and for a
/// configured auth collection. The user must exist, not be in the trash (`deleted_at`), and be
/// verified when the collection requires it. For collections with sessions (Payload's default)
/// the token must carry a `sid` that is a row of `<collection>_sessions` belonging to that
/// user with `expires_at` in the future. `Authorization: <slug> API-Key <key>` finds the user of
/// a collection with API keys by `api_key_index` and requires `enable_a_p_i_key`. The email
/// comes from the users table, not the token.
///
/// The identity is `authenticated`, linked as provider `payload`, subject `<collection>:<id>`
/// (or the id itself when it is a UUID, which is then also the user id); the gate maps other
/// subjects to SMTA user ids with `core.link_identity`.
///
/// Lifecycle: ``run()`` must run for as long as the adapter is used (the PostgreSQL store's
/// pool serves only while it runs).
public struct PayloadAdapter: AdapterPlugin {
    /// `payload`.
    public static let adapterName = "payload"
    /// The Payload keys and the shared `jwt_leeway`.
    public static let configurationKeys = PayloadSettings.configurationKeys
    /// ``PayloadSchema/migrations``.
    public static var migrations: [Migration] { PayloadSchema.migrations }

    /// `payload`.
    public var name: String { Self.adapterName }

    private let verifier: PayloadTokenVerifier
    private let extractor: PayloadTokenExtractor
    private let collections: [String: PayloadCollection]
    private let store: any PayloadSessionStore
    private let signingKeys: [PayloadSigningKey]

    /// Creates an adapter reading sessions from `store`.
    public init(settings: PayloadSettings, store: any PayloadSessionStore) {
        self.verifier = PayloadTokenVerifier(
            key: settings.signingKey, previousKeys: settings.previousSigningKeys, leeway: settings.leeway, maxTokenSize: settings.maxTokenSize)
        self.extractor = PayloadTokenExtractor(
            cookiePrefix: settings.cookiePrefix, allowedOrigins: settings.allowedOrigins,
            apiKeyCollections: Set(settings.collections.filter(\.usesAPIKeys).map(\.slug)))
        self.signingKeys = [settings.signingKey] + settings.previousSigningKeys
        self.collections = Dictionary(settings.collections.map { ($0.slug, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
    }

    /// Creates an adapter and its session store from `settings.database`.
    /// - Throws: `ConfigurationError` when the database cannot be opened (a missing SQLite
    ///   file, an unusable URL).
    public init(settings: PayloadSettings, logger: Logger = Logger(label: "smta.payload")) throws(ConfigurationError) {
        let key = Configuration.Key.payloadDatabase.environmentName
        let store: any PayloadSessionStore
        switch settings.database {
        case .sqlite(let path):
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(key: key, problem: "no readable SQLite file at \(path)")
            }
            do {
                store = try SQLitePayloadSessionStore(path: path)
            } catch {
                throw ConfigurationError(key: key, problem: "cannot open the SQLite file \(path): \(error)")
            }
        case .postgres(let url, let schema):
            do {
                store = try PostgresPayloadSessionStore(url: url, schema: schema, logger: logger)
            } catch {
                throw ConfigurationError(key: key, problem: "cannot configure the connection to \(url): \(error)")
            }
        }
        self.init(settings: settings, store: store)
    }

    /// Creates an adapter from `configuration` (`SMTA_PAYLOAD_SECRET`, `SMTA_PAYLOAD_DATABASE`,
    /// `SMTA_PAYLOAD_COLLECTIONS`).
    /// - Throws: `ConfigurationError` naming the key at fault.
    public init(configuration: Configuration, logger: Logger = Logger(label: "smta.payload")) throws(ConfigurationError) {
        try self.init(settings: try PayloadSettings(configuration: configuration), logger: logger)
    }

    /// Runs the session store's background work until the calling task is cancelled.
    public func run() async {
        await store.run()
    }

    /// The identity `credentials` prove: anonymous without a credential, else the Payload user
    /// the token or API key names, after the checks described on ``PayloadAdapter``.
    /// - Throws: `AuthenticationError` — `malformed`, `badSignature`, `expired`, `invalidClaims`,
    ///   `revoked` (no such user, trashed, unverified, session gone), `forbiddenTransport` (the
    ///   cookie's CSRF rule), `unavailable` (Payload's database cannot be read).
    public func identify(_ credentials: Credentials) async throws(AuthenticationError) -> Identity {
        switch try extractor.credential(in: credentials) {
        case nil:
            return .anonymous(source: name)
        case .token(let token):
            return try await identify(token: token)
        case .apiKey(let slug, let key):
            return try await identify(apiKey: key, of: slug)
        }
    }

    private func identify(token: String) async throws(AuthenticationError) -> Identity {
        let claims = try verifier.verify(token)
        guard let collection = collections[claims.collection] else {
            throw AuthenticationError(.invalidClaims, "collection \(claims.collection.prefix(60)) is not a configured auth collection")
        }
        // Payload checks the session only for collections with auth.useSessions; without it
        // (and for tokens issued before Payload had sessions) the token's sid is not looked at.
        let sid = collection.usesSessions ? claims.sid : nil
        if collection.usesSessions, sid?.isEmpty ?? true {
            throw AuthenticationError(.invalidClaims, "the token has no sid (sessions are required for \(collection))")
        }
        let record = try await lookup(in: collection) { try await $0.user(claims.id, session: sid, in: collection) }
        guard let record else {
            throw AuthenticationError(.revoked, "user \(claims.id) of \(collection) no longer exists")
        }
        try check(record, of: collection)
        if let sid {
            guard record.hasSession else {
                throw AuthenticationError(.revoked, "session \(sid.prefix(64)) of user \(claims.id) of \(collection) does not exist (logged out)")
            }
            guard let expiresAt = record.sessionExpiresAt, expiresAt > Date() else {
                throw AuthenticationError(.expired, "session \(sid.prefix(64)) of user \(claims.id) of \(collection) has expired")
            }
        }
        return identity(id: claims.id, collection: collection, sid: sid, email: record.email)
    }

    /// Payload's API-key strategy: the user whose `api_key_index` is the key's HMAC under the
    /// current secret or a previous one, with `enable_a_p_i_key` on.
    private func identify(apiKey: String, of slug: String) async throws(AuthenticationError) -> Identity {
        guard let collection = collections[slug], collection.usesAPIKeys else {
            throw AuthenticationError(.malformed, "collection \(slug.prefix(60)) does not use API keys")
        }
        let indexes = signingKeys.flatMap { $0.apiKeyIndexes(of: apiKey) }
        let record = try await lookup(in: collection) { try await $0.user(apiKeyIndexes: indexes, in: collection) }
        guard let record else {
            throw AuthenticationError(.revoked, "no user of \(collection) has this API key enabled")
        }
        try check(record, of: collection)
        return identity(id: record.id, collection: collection, sid: nil, email: record.email)
    }

    private func lookup(
        in collection: PayloadCollection, _ read: (any PayloadSessionStore) async throws -> PayloadUserRecord?
    ) async throws(AuthenticationError) -> PayloadUserRecord? {
        do {
            return try await read(store)
        } catch {
            throw AuthenticationError(.unavailable, "the Payload database cannot be read for \(collection): \(String(describing: error).prefix(300))")
        }
    }

    private func check(_ record: PayloadUserRecord, of collection: PayloadCollection) throws(AuthenticationError) {
        guard !record.isTrashed else {
            throw AuthenticationError(.revoked, "user \(record.id) of \(collection) is in the trash")
        }
        guard record.isVerified else {
            throw AuthenticationError(.revoked, "user \(record.id) of \(collection) has not verified their email")
        }
    }

    private func identity(id: PayloadUserID, collection: PayloadCollection, sid: String?, email: String?) -> Identity {
        let uuid = id.uuid
        let subject = uuid.map { $0.uuidString.lowercased() } ?? "\(collection.slug):\(id)"
        let identityClaims = PayloadIdentityClaims(
            sub: subject, email: email, collection: collection.slug, sid: sid,
            emailVerified: collection.requiresVerification && email != nil ? true : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings into a flat object cannot fail.
        let claimsJSON = (try? encoder.encode(identityClaims)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"role":"authenticated"}"#
        return Identity(
            userID: uuid, email: email, role: .authenticated, claimsJSON: claimsJSON,
            source: "\(name):\(collection.slug)",
            link: Identity.Link(provider: "payload", subject: subject, email: email))
    }
}
