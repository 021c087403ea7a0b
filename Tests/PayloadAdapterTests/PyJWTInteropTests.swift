import Foundation
import SMTACore
import SMTAPayload
import SMTATestSupport
import Testing

/// Payload tokens minted by PyJWT (`Tests/Interop/mint_token.py`), an implementation independent
/// of the adapter, exactly as Payload mints them. CI installs
/// PyJWT and cryptography (`scripts/test` installs them in its virtualenv); without them these tests fail rather than skip.
@Suite("Payload tokens minted by PyJWT are accepted, and refused once tampered")
struct PyJWTInteropTests {
    /// Runs the minting script's `payload` mode with the fixtures' secret and returns its JSON output.
    static func mint(id: String, collection: String, email: String, sid: String) throws -> [String: Any] {
        try PyJWTMinter.mint("payload", [PayloadTokenMinter.secret, id, collection, email, sid])
    }

    /// A user of `collection` with an unexpired session, and a PyJWT token for that session.
    static func signedIn(
        _ fixture: SQLitePayloadFixture, _ collection: String, id: PayloadUserID, email: String
    ) async throws -> (sid: String, token: String) {
        try await fixture.addUser(collection, id: id, email: email, verified: true)
        let sid = UUID().uuidString.lowercased()
        try await fixture.addSession(collection, user: id, sid: sid, expiresAt: Date().addingTimeInterval(7200))
        let output = try mint(id: id.description, collection: collection, email: email, sid: sid)
        return (sid, try #require(output["token"] as? String))
    }

    @Test("a PyJWT token for a numeric id is accepted, linked as users:<id>, with Payload's header and claim order")
    func numericID() async throws {
        let fixture = try SQLitePayloadFixture()
        let (sid, token) = try await Self.signedIn(fixture, "users", id: .number(7), email: "ada@example.com")
        let parts = token.split(separator: ".").map(String.init)
        #expect(parts[0] == PayloadTokenMinter.encode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8)))
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        let payload = String(decoding: try #require(Data(base64Encoded: base64)), as: UTF8.self)
        #expect(payload.hasPrefix(#"{"id":7,"collection":"users","email":"ada@example.com","sid":"\#(sid)","iat":"#))
        #expect(payload.contains(#","exp":"#) && payload.hasSuffix("}"))
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(.jwt(token))
            #expect(identity.role == .authenticated)
            #expect(identity.userID == nil)
            #expect(identity.email == "ada@example.com")
            #expect(identity.link == Identity.Link(provider: "payload", subject: "users:7", email: "ada@example.com"))
            #expect(identity.source == "payload:users")
        }
    }

    @Test("a PyJWT token for a UUID id is accepted, the UUID passing through as the user id")
    func uuidID() async throws {
        let fixture = try SQLitePayloadFixture()
        let id = UUID()
        let (_, token) = try await Self.signedIn(
            fixture, "team-members", id: .text(id.uuidString.lowercased()), email: "team@example.com")
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(.jwt(token))
            #expect(identity.userID == id)
            #expect(identity.link?.subject == id.uuidString.lowercased())
            #expect(identity.source == "payload:team-members")
        }
    }

    @Test("a PyJWT token whose payload was altered after signing to name another signed-in user is refused")
    func tampered() async throws {
        let fixture = try SQLitePayloadFixture()
        let (_, token) = try await Self.signedIn(fixture, "users", id: .number(7), email: "ada@example.com")
        let (otherSID, _) = try await Self.signedIn(fixture, "users", id: .number(8), email: "grace@example.com")
        let parts = token.split(separator: ".").map(String.init)
        let issuedAt = Int(Date().timeIntervalSince1970)
        let forgedPayload =
            #"{"id":8,"collection":"users","email":"grace@example.com","sid":"\#(otherSID)","iat":\#(issuedAt),"exp":\#(issuedAt + 7200)}"#
        let tampered = parts[0] + "." + PayloadTokenMinter.encode(Data(forgedPayload.utf8)) + "." + parts[2]
        try await fixture.withAdapter { adapter in
            let accepted = try await adapter.accepted(.jwt(token))
            #expect(accepted.link?.subject == "users:7")
            let error = await adapter.refusal(.jwt(tampered))
            #expect(error?.kind == .badSignature)
            #expect(error.map { !$0.reason.contains(tampered) && !$0.reason.contains(PayloadTokenMinter.secret) } == true)
        }
    }
}
