import Foundation

/// Who the caller is, as an ``IdentityAdapter`` established it from verified credentials.
///
/// The gate turns an identity into PostgreSQL's transaction-local settings; nothing in it comes
/// from an unverified source.
public struct Identity: Sendable, Hashable {
    /// The database role the caller's transaction runs as.
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// No user: Supabase's `anon`.
        case anon
        /// A signed-in user, subject to row-level security.
        case authenticated
        /// The backend itself (Supabase's `service_role`), bypassing row-level security.
        case serviceRole = "service_role"
    }

    /// A platform identity that SMTA maps onto a user id in the database, with the adapter's
    /// `core.link_identity(provider, subject, email)` (Payload's integer ids, OIDC subjects).
    public struct Link: Sendable, Hashable {
        /// The identity provider, e.g. `payload`.
        public var provider: String
        /// The provider's subject, unique within it, e.g. `users:2`.
        public var subject: String
        /// The verified email, recorded in `core.users_meta`.
        public var email: String?

        /// Creates a link.
        public init(provider: String, subject: String, email: String?) {
            self.provider = provider
            self.subject = subject
            self.email = email
        }
    }

    /// The SMTA user id, when known before the database maps a ``link``; nil for `anon` and
    /// for the service role acting as nobody.
    public var userID: UUID?
    /// The verified email, if the platform provides one.
    public var email: String?
    /// The role the transaction runs as.
    public var role: Role
    /// The claims JSON handed to SQL as `request.jwt.claims` (PostgREST's convention), with
    /// `role` set; `{"role":"anon"}` for anonymous callers.
    public var claimsJSON: String
    /// Where the identity came from, for logs: `supabase`, `payload:users`.
    public var source: String
    /// When set, the gate asks the database for the user id (`core.link_identity`) instead of
    /// using ``userID``.
    public var link: Link?
    /// Whether the platform says the user signed in anonymously (Supabase's `is_anonymous`);
    /// SQL reads it from the claims with `core.is_anonymous()`.
    public var isAnonymous: Bool
    /// The organization the request is narrowed to (the bridge's `X-SMTA-Organization` header or
    /// the configured token claim), or nil: the database then answers for that organization
    /// only (`core.current_organization_id()`), and refuses the call unless the caller is a
    /// live member of it.
    public var organizationID: UUID?

    /// Creates an identity.
    public init(
        userID: UUID?, email: String?, role: Role, claimsJSON: String, source: String, link: Link? = nil,
        isAnonymous: Bool = false
    ) {
        self.userID = userID
        self.email = email
        self.role = role
        self.claimsJSON = claimsJSON
        self.source = source
        self.link = link
        self.isAnonymous = isAnonymous
    }

    /// An anonymous caller (no credential).
    public static func anonymous(source: String) -> Identity {
        Identity(userID: nil, email: nil, role: .anon, claimsJSON: #"{"role":"anon"}"#, source: source)
    }
}
