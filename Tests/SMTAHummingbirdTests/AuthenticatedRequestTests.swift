import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SMTACore
import SMTAHummingbird
import SMTATestSupport
import Testing

@Suite("SMTAMiddleware: an accepted or absent credential reaches the handler")
struct AuthenticatedRequestTests {
    @Test("a valid token: the handler sees the identity, and its gate call runs as that user")
    func validTokenReachesHandlerAndDatabase() async throws {
        let url = try await TestCluster.shared.database(migrated: TestApp.migrations)
        let user = UUID()
        try await TestSQL.withClient(to: url) { client in
            let runs = HandlerRuns()
            let app = Application(router: TestApp.router(adapter: try TestApp.adapter(), gate: Gate(client: client), runs: runs))
            try await app.test(.router) { client in
                let token = TestApp.token(for: user, email: "ada@example.com")
                try await client.execute(uri: "/me", method: .get, headers: TestApp.bearer(token)) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[HTTPField.Name("X-Identity-Role")!] == "authenticated")
                    #expect(response.headers[HTTPField.Name("X-Identity-User")!] == user.uuidString.lowercased())
                    let seen = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: String]
                    #expect(seen == ["role": "authenticated", "uid": user.uuidString.lowercased()])
                }
            }
            #expect(await runs.count == 1)
        }
    }

    @Test("the handler's gate calls create an organization owned by the caller, listed for the caller only")
    func gateCallsActAsTheCaller() async throws {
        let url = try await TestCluster.shared.database(migrated: TestApp.migrations)
        try await TestSQL.withClient(to: url) { client in
            let app = Application(router: TestApp.router(adapter: try TestApp.adapter(), gate: Gate(client: client), runs: HandlerRuns()))
            try await app.test(.router) { client in
                let owner = TestApp.bearer(TestApp.token(for: UUID(), email: "owner@example.com"))
                let outsider = TestApp.bearer(TestApp.token(for: UUID(), email: "outsider@example.com"))
                try await client.execute(
                    uri: "/organizations", method: .post, headers: owner, body: ByteBuffer(string: #"{"name":"Acme"}"#)
                ) { response in
                    #expect(response.status == .created)
                }
                try await client.execute(uri: "/organizations", method: .get, headers: owner) { response in
                    #expect(String(buffer: response.body) == #"["Acme"]"#)
                }
                try await client.execute(uri: "/organizations", method: .get, headers: outsider) { response in
                    #expect(String(buffer: response.body) == "[]")
                }
            }
        }
    }

    @Test("no credential is no refusal: the handler runs as anon, and so does the database")
    func noCredentialIsAnonymous() async throws {
        let url = try await TestCluster.shared.database(migrated: TestApp.migrations)
        try await TestSQL.withClient(to: url) { client in
            let runs = HandlerRuns()
            let app = Application(router: TestApp.router(adapter: try TestApp.adapter(), gate: Gate(client: client), runs: runs))
            try await app.test(.router) { client in
                try await client.execute(uri: "/me", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[HTTPField.Name("X-Identity-Role")!] == "anon")
                    #expect(response.headers[HTTPField.Name("X-Identity-User")!] == "none")
                    let seen = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    #expect(seen?["role"] as? String == "anon")
                    #expect(seen?["uid"] is NSNull)
                }
            }
            #expect(await runs.count == 1)
        }
    }
}
