import SMTACore

/// Supabase's API keys (`sb_publishable_…`, `sb_secret_…`), which a project sends as `apikey`
/// and, without a user session, as the bearer token too.
///
/// Supabase's gateway turns a publishable key into the `anon` role and a secret key into
/// `service_role`; a user token beside a publishable key is that user. This does the same for
/// the configured keys, and refuses secret keys from browsers as Supabase does. A key is compared
/// with every configured one in constant time, and never logged or echoed.
struct SupabaseAPIKey: Sendable {
    /// The prefix of publishable keys.
    static let publishablePrefix = "sb_publishable_"
    /// The prefix of secret keys.
    static let secretPrefix = "sb_secret_"

    /// Which role a configured key stands for.
    enum Kind: Sendable {
        /// A publishable key: `anon`.
        case publishable
        /// A secret key: `service_role`.
        case secret
    }

    private let publishable: [[UInt8]]
    private let secret: [[UInt8]]

    /// Creates the set of configured keys.
    init(publishable: [String], secret: [String]) {
        self.publishable = publishable.map { Array($0.utf8) }
        self.secret = secret.map { Array($0.utf8) }
    }

    /// Whether `value` looks like a Supabase API key rather than a JWT.
    static func isAPIKey(_ value: some Collection<UInt8>) -> Bool {
        value.starts(with: "sb_".utf8)
    }

    /// The kind of the configured key `value`.
    /// - Throws: ``AuthenticationError`` (`badSignature`) for a key that is not configured.
    private func kind(of value: some Collection<UInt8>) throws(AuthenticationError) -> Kind {
        var found: Kind?
        // Every configured key is compared, whatever matches first.
        for key in publishable where ConstantTime.equal(key, value) {
            found = .publishable
        }
        for key in secret where ConstantTime.equal(key, value) {
            found = .secret
        }
        guard let found else {
            throw AuthenticationError(.badSignature, "an API key that is not configured")
        }
        return found
    }

    /// The identity the configured key `value` stands for, as presented with `credentials`.
    ///
    /// A secret key sent by a browser is refused, as Supabase's gateway refuses it (matched on
    /// the `User-Agent` every browser sends, `Mozilla/…`): a secret key that leaked into a web
    /// page cannot be used from pages.
    /// - Throws: ``AuthenticationError``: `badSignature` for a key that is not configured,
    ///   `forbiddenTransport` for a secret key from a browser.
    func identity(of value: some Collection<UInt8>, in credentials: Credentials, source: String) throws(AuthenticationError) -> Identity {
        let kind = try kind(of: value)
        if kind == .secret, let agent = credentials.header("user-agent"), agent.hasPrefix("Mozilla/") {
            throw AuthenticationError(.forbiddenTransport, "a secret API key sent by a browser")
        }
        return Self.identity(kind, source: source)
    }

    /// The identity a configured key of `kind` stands for, for the adapter named `source`.
    static func identity(_ kind: Kind, source: String) -> Identity {
        switch kind {
        case .publishable:
            Identity.anonymous(source: source + ":publishable-key")
        case .secret:
            Identity(
                userID: nil, email: nil, role: .serviceRole, claimsJSON: #"{"role":"service_role"}"#,
                source: source + ":secret-key")
        }
    }
}
