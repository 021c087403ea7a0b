import Foundation
import PostgresNIO
import SMTACore
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

@Suite("Gate")
struct GateTests {
    static let payload = CoreSchema.migrations + PayloadSchema.migrations
    static let supabase = CoreSchema.migrations + SupabaseSchema.migrations

    static func supabaseIdentity(_ id: UUID, email: String) -> Identity {
        let claims = #"{"sub":"\#(id.uuidString.lowercased())","role":"authenticated","aud":"authenticated","email":"\#(email)"}"#
        return Identity(userID: id, email: email, role: .authenticated, claimsJSON: claims, source: "supabase")
    }

    static func payloadIdentity(subject: String, email: String) -> Identity {
        Identity(
            userID: nil, email: email, role: .authenticated,
            claimsJSON: #"{"role":"authenticated","sub":"\#(subject)"}"#, source: "payload:users",
            link: Identity.Link(provider: "payload", subject: subject, email: email))
    }

    @Test("a Supabase identity reaches SQL as auth.uid(), role authenticated, and its claims")
    func supabaseIdentityReachesSQL() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.supabase)
        let user = UUID()
        let seen = try await TestSQL.withClient(to: url) { client in
            try await Gate(client: client).transaction(as: Self.supabaseIdentity(user, email: "ada@example.com")) { tx in
                try await tx.rows(
                    "select current_user::text, auth.uid(), core.get_current_user_id(), auth.jwt() ->> 'email'",
                    as: (String, UUID, UUID, String).self)[0]
            }
        }
        #expect(seen.0 == "authenticated")
        #expect(seen.1 == user && seen.2 == user)
        #expect(seen.3 == "ada@example.com")
    }

    @Test("a Payload identity is linked to a stable user id whose email reaches users_meta")
    func payloadIdentityIsLinked() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.payload)
        let identity = Self.payloadIdentity(subject: "users:2", email: "grace@example.com")
        let (first, second, email) = try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            let first = try await gate.transaction(as: identity) { tx in try await tx.currentUserID() }
            let second = try await gate.transaction(as: identity) { tx in try await tx.currentUserID() }
            let email = try await gate.transaction(as: identity) { tx in
                try await tx.rows("select email from public.get_user_profile()", as: (String?).self).first ?? nil
            }
            return (first, second, email)
        }
        #expect(first != nil && first == second)
        #expect(email == "grace@example.com")
    }

    @Test("the same numeric id in two collections maps to two users")
    func collectionsDoNotCollide() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.payload)
        let (users, admins) = try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            let users = try await gate.transaction(as: Self.payloadIdentity(subject: "users:2", email: "a@example.com")) {
                try await $0.currentUserID()
            }
            let admins = try await gate.transaction(as: Self.payloadIdentity(subject: "admins:2", email: "b@example.com")) {
                try await $0.currentUserID()
            }
            return (users, admins)
        }
        #expect(users != nil && admins != nil && users != admins)
    }

    @Test("an organization created through the gate is owned by the caller and listed for the caller only")
    func organizationThroughTheGate() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.supabase)
        let owner = Self.supabaseIdentity(UUID(), email: "owner@example.com")
        let outsider = Self.supabaseIdentity(UUID(), email: "outsider@example.com")
        let (created, mine, theirs, role) = try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            let created = try await gate.transaction(as: owner) { try await $0.createOrganization("Acme") }
            let mine = try await gate.transaction(as: owner) { try await $0.myOrganizations() }
            let theirs = try await gate.transaction(as: outsider) { try await $0.myOrganizations() }
            let role = try await gate.call(
                "select to_json(public.get_user_role(p_org_id => ($1 ->> 'id')::uuid))",
                arguments: #"{"id":"\#(created.uuidString.lowercased())"}"#, as: outsider)
            return (created, mine, theirs, role)
        }
        #expect(mine.map(\.id) == [created])
        #expect(mine.first?.role == "super_admin")
        #expect(theirs.isEmpty)
        #expect(role == nil)
    }

    @Test("a refused call surfaces as DatabaseError 42501 and changes nothing")
    func refusalIsUnwrapped() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.supabase)
        let owner = Self.supabaseIdentity(UUID(), email: "owner@example.com")
        let outsider = Self.supabaseIdentity(UUID(), email: "outsider@example.com")
        try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            let organization = try await gate.transaction(as: owner) { try await $0.createOrganization("Acme") }
            await #expect {
                try await gate.transaction(as: outsider) { tx in
                    try await tx.query("select public.delete_organization(p_id => \(organization))")
                }
            } throws: { error in
                guard let error = error as? DatabaseError else { return false }
                return error.sqlState == "42501" || error.sqlState == "P0002"
            }
            let stillThere = try await gate.transaction(as: owner) { try await $0.myOrganizations() }
            #expect(stillThere.map(\.id) == [organization])
        }
    }

    @Test("a deferred check failing in a one-statement call is the call's error, and a read skips the checks")
    func deferredCheckInsideTheCall() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.supabase)
        let owner = Self.supabaseIdentity(UUID(), email: "owner@example.com")
        let service = Identity(userID: nil, email: nil, role: .serviceRole, claimsJSON: #"{"role":"service_role"}"#, source: "supabase")
        try await TestSQL.withClient(to: url) { client in
            let gate = Gate(client: client)
            let organization = try await gate.transaction(as: owner) { try await $0.createOrganization("Acme") }
            let orgID = organization.uuidString.lowercased()
            // Only the deferred check (core.check_org_keeps_super_admin) refuses this, at the end
            // of the statement: in a fresh transaction, which the call's write gives an id.
            await #expect {
                try await gate.call(
                    """
                    with cleared as (update core.memberships set is_super_admin = false
                                     where organization_id = ($1 ->> 'org')::uuid returning 1)
                    select pg_catalog.to_json(pg_catalog.count(*)) from cleared
                    """,
                    arguments: #"{"org":"\#(orgID)"}"#, as: service)
            } throws: { error in
                guard let error = error as? DatabaseError else { return false }
                return error.sqlState == "P0001" && !error.mayHaveRun && error.message.contains("without a super_admin")
            }
            let superAdmins = try await gate.call(
                "select pg_catalog.to_json(pg_catalog.count(*)) from core.memberships where organization_id = ($1 ->> 'org')::uuid and is_super_admin",
                arguments: #"{"org":"\#(orgID)"}"#, as: service, readOnly: true)
            #expect(superAdmins.map { String(buffer: $0) } == "1")
            // A read leaves the transaction without an id, so 0100 skips SET CONSTRAINTS.
            let xid = try await gate.call(
                "select pg_catalog.to_json(coalesce(pg_catalog.pg_current_xact_id_if_assigned()::text, 'none'))", arguments: "{}", as: owner,
                readOnly: true)
            #expect(xid.map { String(buffer: $0) } == #""none""#)
        }
    }

    // MARK: Nothing survives on the connection

    @Test("after commit, error, and cancellation the pooled connection carries no identity")
    func nothingSurvives() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.supabase)
        let identity = Self.supabaseIdentity(UUID(), email: "ada@example.com")
        try await TestSQL.withClient(to: url, maximumConnections: 1) { client in
            let gate = Gate(client: client, secretsKey: "a-secret-key-of-some-length")
            let clean = ConnectionState(role: "postgres", claims: "", userID: "", secretsKey: "")

            _ = try await gate.transaction(as: identity) { try await $0.currentUserID() }
            #expect(try await ConnectionState.read(client) == clean)

            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await gate.transaction(as: identity) { _ in throw Boom() }
            }
            #expect(try await ConnectionState.read(client) == clean)

            await #expect(throws: DatabaseError.self) {
                try await gate.transaction(as: identity) { tx in try await tx.query("select 1 / 0") }
            }
            #expect(try await ConnectionState.read(client) == clean)

            let task = Task {
                try await gate.transaction(as: identity) { tx in try await tx.query("select pg_sleep(5)") }
            }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            _ = await task.result
            #expect(try await ConnectionState.read(client) == clean)
        }
    }
}

/// The identity-bearing settings of a pooled connection, read outside any gated transaction.
struct ConnectionState: Equatable {
    var role: String
    var claims: String
    var userID: String
    var secretsKey: String

    /// Reads them on a pooled connection. A connection closed by a cancelled transaction can be
    /// leased before the pool has heard of its closing: such a one is skipped (at most twice).
    static func read(_ client: PostgresClient) async throws -> ConnectionState {
        for _ in 0..<2 {
            if let state = try await read(client, skippingClosed: true) {
                return state
            }
        }
        return try await read(client, skippingClosed: false)!
    }

    private static func read(_ client: PostgresClient, skippingClosed: Bool) async throws -> ConnectionState? {
        try await client.withConnection { connection in
            if skippingClosed && connection.isClosed {
                try? await connection.closeFuture.get()
                return nil
            }
            let rows = try await connection.query(
                """
                select current_user::text, coalesce(current_setting('request.jwt.claims', true), ''),
                       coalesce(current_setting('app.current_user_id', true), ''),
                       coalesce(current_setting('app.secrets_key', true), '')
                """, logger: TestSQL.logger)
            for try await (role, claims, user, key) in rows.decode((String, String, String, String).self) {
                return ConnectionState(role: role, claims: claims, userID: user, secretsKey: key)
            }
            throw DatabaseError(sqlState: nil, message: "no row")
        }
    }
}

extension GateTransaction {
    /// `core.get_current_user_id()` as the caller sees it.
    func currentUserID() async throws -> UUID? {
        try await rows("select core.get_current_user_id()", as: (UUID?).self).first ?? nil
    }
}
