import Crypto
import Foundation
import PostgresNIO
import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

/// Supabase's anonymous sign-ins (`is_anonymous: true`, role `authenticated`) are users, but not
/// tenants: by every path, the database refuses them creating an organization or becoming a
/// member, unless the bridge allows anonymous users.
@Suite("Anonymous sign-ins cannot become tenants unless allowed")
struct AnonymousSignInTests {
    static let migrations = CoreSchema.migrations + SupabaseSchema.migrations
    static let teamRole = UUID(uuidString: "00000000-0000-0000-0000-000000000003")!

    static func identity(_ id: UUID, email: String?, anonymous: Bool) -> Identity {
        let emailClaim = email.map { #""\#($0)""# } ?? #""""#
        let claims = #"{"sub":"\#(id.uuidString.lowercased())","role":"authenticated","aud":"authenticated","email":\#(emailClaim),"is_anonymous":\#(anonymous)}"#
        return Identity(userID: id, email: email, role: .authenticated, claimsJSON: claims, source: "supabase", isAnonymous: anonymous)
    }

    /// How many organizations, memberships and unit memberships the database holds.
    static func counts(_ url: DatabaseURL) async throws -> [Int] {
        try await TestSQL.withConnection(to: url) { connection in
            let rows = try await connection.query(
                """
                select (select count(*) from core.organizations)::int, (select count(*) from core.memberships)::int,
                       (select count(*) from core.unit_memberships)::int
                """, logger: TestSQL.logger)
            for try await (a, b, c) in rows.decode((Int, Int, Int).self) { return [a, b, c] }
            return []
        }
    }

    /// `public.accept_invitation` as the caller: the organization joined.
    static func accept(_ token: String, in transaction: GateTransaction) async throws -> UUID? {
        try await transaction.rows("select organization_id from public.accept_invitation(p_token => \(token))", as: UUID.self).first
    }

    /// The names of every organization, read outside the gate.
    static func organizationNames(_ url: DatabaseURL) async throws -> [String] {
        try await TestSQL.withConnection(to: url) { connection in
            var names: [String] = []
            let rows = try await connection.query("select name from core.organizations", logger: TestSQL.logger)
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
    }

    /// The anonymous-tenant refusal itself (not some other rule refusing first).
    static func isRefusal(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.sqlState == "42501" && error.message.hasPrefix("Anonymous users cannot create organizations or join them")
    }

    @Test("the Supabase adapter marks an is_anonymous token, and core.is_anonymous() reads it")
    func adapterMarksAnonymous() async throws {
        let adapter = try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: String(repeating: "s", count: 32)))
        let now = Int(Date().timeIntervalSince1970)
        let sub = UUID().uuidString.lowercased()
        let token = Self.hs256(
            #"{"sub":"\#(sub)","role":"authenticated","aud":"authenticated","exp":\#(now + 600),"iat":\#(now),"email":"","is_anonymous":true}"#,
            secret: String(repeating: "s", count: 32))
        let identity = try await adapter.verify(token: token)
        #expect(identity.isAnonymous)
        #expect(identity.role == .authenticated)
        #expect(identity.source == "supabase:anonymous")
        let url = try await TestCluster.shared.database(migrated: Self.migrations)
        let seen = try await TestSQL.withClient(to: url) { client in
            try await Gate(client: client).transaction(as: identity) { tx in
                try await tx.rows("select core.is_anonymous()", as: Bool.self)[0]
            }
        }
        #expect(seen)
    }

    @Test("create_organization, as a transaction and as one gated call, is refused 42501 and writes nothing")
    func createOrganizationRefused() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.migrations)
        let anonymous = Self.identity(UUID(), email: nil, anonymous: true)
        let before = try await Self.counts(url)
        try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            await #expect(performing: {
                try await gate.transaction(as: anonymous) { try await $0.createOrganization("Anon Inc") }
            }, throws: Self.isRefusal)
            await #expect(performing: {
                try await gate.call(
                    "select to_json(public.create_organization(p_name => 'Anon Inc'))", arguments: "{}", as: anonymous)
            }, throws: Self.isRefusal)
        }
        #expect(try await Self.counts(url) == before)
    }

    @Test("a direct INSERT into core.organizations or core.memberships is refused as well")
    func directInsertsRefused() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.migrations)
        let owner = Self.identity(UUID(), email: "owner@example.com", anonymous: false)
        let anonymousID = UUID()
        let anonymous = Self.identity(anonymousID, email: nil, anonymous: true)
        try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            let organization = try await gate.transaction(as: owner) { try await $0.createOrganization("Acme") }
            let before = try await Self.counts(url)
            await #expect(performing: {
                try await gate.transaction(as: anonymous) { tx in
                    try await tx.query("insert into core.organizations (name) values ('Direct')")
                }
            }, throws: Self.isRefusal)
            await #expect(performing: {
                try await gate.transaction(as: anonymous) { tx in
                    try await tx.query(
                        "insert into core.memberships (organization_id, user_id, role_id) values (\(organization), \(anonymousID), \(Self.teamRole))")
                }
            }, throws: Self.isRefusal)
            #expect(try await Self.counts(url) == before)
        }
    }

    @Test("an anonymous user cannot accept an invitation, which stays pending; an email sign-in then can")
    func invitationRefused() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.migrations)
        let owner = Self.identity(UUID(), email: "owner@example.com", anonymous: false)
        let guestID = UUID()
        let anonymousGuest = Self.identity(guestID, email: "guest@example.com", anonymous: true)
        let signedInGuest = Self.identity(guestID, email: "guest@example.com", anonymous: false)
        try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            let organization = try await gate.transaction(as: owner) { try await $0.createOrganization("Acme") }
            let invitation = try await gate.transaction(as: owner) { tx in
                try await tx.rows(
                    """
                    select id, token from public.create_invitation(
                        p_email => 'guest@example.com', p_organization_id => \(organization), p_role_id => \(Self.teamRole))
                    """, as: (UUID, String).self)[0]
            }
            let before = try await Self.counts(url)
            await #expect(performing: {
                try await gate.transaction(as: anonymousGuest) { try await Self.accept(invitation.1, in: $0) }
            }, throws: Self.isRefusal)
            #expect(try await Self.counts(url) == before)
            let status = try await TestSQL.withConnection(to: url) { connection in
                let rows = try await connection.query(
                    "select status::text from core.invitations where id = \(invitation.0)", logger: TestSQL.logger)
                for try await status in rows.decode(String.self) { return status }
                return ""
            }
            #expect(status == "pending")
            let accepted = try await gate.transaction(as: signedInGuest) { try await Self.accept(invitation.1, in: $0) }
            #expect(accepted == organization)
        }
    }

    @Test("with allowsAnonymousUsers the same anonymous user may create an organization")
    func optIn() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.migrations)
        let anonymous = Self.identity(UUID(), email: nil, anonymous: true)
        let viaCall = try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client, allowsAnonymousUsers: true)
            _ = try await gate.transaction(as: anonymous) { try await $0.createOrganization("Anon Inc") }
            return try await gate.call(
                "select to_json(public.create_organization(p_name => 'Anon Two'))", arguments: "{}", as: anonymous)
        }
        #expect(try await Self.organizationNames(url).sorted() == ["Anon Inc", "Anon Two"])
        #expect(viaCall != nil)
    }

    /// A compact HS256 JWT over `claims`.
    static func hs256(_ claims: String, secret: String) -> String {
        let input = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + Base64URL.encode(Array(mac))
    }
}
