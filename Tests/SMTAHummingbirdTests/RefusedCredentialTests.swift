import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import SMTACore
import SMTAHummingbird
import SMTATestSupport
import Testing

@Suite("SMTAMiddleware: a refused credential is answered 401 before the handler and the database")
struct RefusedCredentialTests {
    /// The JSON error body of a response.
    static func error(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
    }

    @Test("a token signed with another secret: 401 PGRST301, the handler not run, nothing written")
    func badSignature() async throws {
        let url = try await TestCluster.shared.database(migrated: TestApp.migrations)
        let forged = TestApp.token(for: UUID(), email: "mallory@example.com", secret: String(repeating: "x", count: 32))
        let runs = HandlerRuns()
        try await TestSQL.withClient(to: url) { client in
            let app = Application(router: TestApp.router(adapter: try TestApp.adapter(), gate: Gate(client: client), runs: runs))
            try await app.test(.router) { client in
                for (method, uri) in [(HTTPRequest.Method.get, "/me"), (.post, "/organizations")] {
                    try await client.execute(
                        uri: uri, method: method, headers: TestApp.bearer(forged), body: ByteBuffer(string: #"{"name":"Forged"}"#)
                    ) { response in
                        #expect(response.status == .unauthorized)
                        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                        #expect(response.headers[.wwwAuthenticate] == #"Bearer error="invalid_token""#)
                        let error = try Self.error(response)
                        #expect(error["code"] as? String == "PGRST301")
                        #expect(error["message"] as? String == "Invalid credential")
                        #expect(error["details"] is NSNull && error["hint"] is NSNull)
                    }
                }
            }
        }
        #expect(await runs.count == 0)
        let organizations = try await TestSQL.withConnection(to: url) { connection in
            let rows = try await connection.query("select count(*)::int from core.organizations", logger: TestSQL.logger)
            for try await count in rows.decode(Int.self) { return count }
            return -1
        }
        #expect(organizations == 0)
    }

    @Test("an expired token: 401 PGRST303 'JWT expired', the handler not run")
    func expiredToken() async throws {
        let url = try await TestCluster.shared.database(migrated: TestApp.migrations)
        let expired = TestApp.token(for: UUID(), email: "ada@example.com", expiresIn: -3600)
        let runs = HandlerRuns()
        try await TestSQL.withClient(to: url) { client in
            let app = Application(router: TestApp.router(adapter: try TestApp.adapter(), gate: Gate(client: client), runs: runs))
            try await app.test(.router) { client in
                try await client.execute(uri: "/me", method: .get, headers: TestApp.bearer(expired)) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate]?.contains(#"error_description="JWT expired""#) == true)
                    let error = try Self.error(response)
                    #expect(error["code"] as? String == "PGRST303")
                    #expect(error["message"] as? String == "JWT expired")
                }
            }
        }
        #expect(await runs.count == 0)
    }

    @Test("a malformed bearer: 401, and the answer does not echo it")
    func malformedToken() async throws {
        let url = try await TestCluster.shared.database(migrated: TestApp.migrations)
        let runs = HandlerRuns()
        try await TestSQL.withClient(to: url) { client in
            let app = Application(router: TestApp.router(adapter: try TestApp.adapter(), gate: Gate(client: client), runs: runs))
            try await app.test(.router) { client in
                try await client.execute(uri: "/me", method: .get, headers: TestApp.bearer("not-a-jwt-secret-value")) { response in
                    #expect(response.status == .unauthorized)
                    #expect(!String(buffer: response.body).contains("not-a-jwt-secret-value"))
                }
            }
        }
        #expect(await runs.count == 0)
    }

    @Test("an adapter that cannot check the credential: 503 PGRST000 with Retry-After")
    func unavailableAdapter() async throws {
        struct Unreachable: IdentityAdapter {
            var name: String { "unreachable" }
            func identify(_ credentials: Credentials) async throws(AuthenticationError) -> Identity {
                throw AuthenticationError(.unavailable, "the session store does not answer")
            }
        }
        let url = try await TestCluster.shared.database(migrated: TestApp.migrations)
        let runs = HandlerRuns()
        try await TestSQL.withClient(to: url) { client in
            let app = Application(router: TestApp.router(adapter: Unreachable(), gate: Gate(client: client), runs: runs))
            try await app.test(.router) { client in
                try await client.execute(uri: "/me", method: .get, headers: TestApp.bearer("a.b.c")) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == "1")
                    let code = try Self.error(response)["code"] as? String
                    #expect(code == "PGRST000")
                }
            }
        }
        #expect(await runs.count == 0)
    }
}
