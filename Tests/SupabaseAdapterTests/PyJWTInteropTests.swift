import Foundation
import SMTACore
import SMTASupabase
import SMTATestSupport
import Testing

/// Tokens minted by PyJWT (`Tests/Interop/mint_token.py`), an implementation independent of the
/// adapter, exactly as GoTrue mints them. CI installs PyJWT and cryptography (`scripts/test` installs them in its virtualenv);
/// without them these tests fail rather than skip.
@Suite("Supabase tokens minted by PyJWT are accepted, and refused once tampered")
struct PyJWTInteropTests {
    let userID = UUID(uuidString: "3c1e0b0e-5f7a-4c2d-9b8e-1f2a3b4c5d6e")!
    let email = "interop@example.com"

    /// Runs the minting script in `mode` and returns its JSON output.
    static func mint(_ mode: String, _ arguments: [String]) throws -> [String: Any] {
        try PyJWTMinter.mint(mode, arguments)
    }

    /// The decoded bytes of a base64url segment without padding.
    static func decodeSegment(_ segment: Substring) throws -> Data {
        var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return try #require(Data(base64Encoded: base64), "not base64url: \(segment)")
    }

    /// The token with its payload replaced by `claims` (role escalated), header and signature kept.
    static func escalated(_ token: String, claims: [String: Any]) -> String {
        var forged = claims
        forged["role"] = "service_role"
        let parts = token.split(separator: ".")
        return "\(parts[0]).\(TokenMinter.base64URL(Array(TokenMinter.json(forged).utf8))).\(parts[2])"
    }

    /// An adapter trusting only the JWKS the script printed.
    static func adapter(trusting output: [String: Any]) throws -> SupabaseAdapter {
        let jwks = try #require(output["jwks"] as? [String: Any], "mint_token.py printed no jwks")
        let document = try JSONSerialization.data(withJSONObject: jwks)
        return try SupabaseAdapter.forTests(jwks: InMemoryJWKS(document), secret: nil)
    }

    @Test("an HS256 token from PyJWT yields the user, email and role, and its payload passes through unchanged")
    func hs256() async throws {
        let output = try Self.mint("supabase-hs256", [TokenMinter.secret, userID.uuidString.lowercased(), email])
        let token = try #require(output["token"] as? String)
        let identity = try await SupabaseAdapter.forTests().identify(TokenMinter.bearer(token))
        #expect(identity.userID == userID)
        #expect(identity.email == email)
        #expect(identity.role == .authenticated)
        #expect(identity.source == "supabase")
        #expect(identity.link == nil)
        let payload = try Self.decodeSegment(token.split(separator: ".")[1])
        #expect(identity.claimsJSON == String(decoding: payload, as: UTF8.self))
        let passed = try JSONSerialization.jsonObject(with: Data(identity.claimsJSON.utf8)) as? NSDictionary
        let minted = try #require(output["claims"] as? [String: Any])
        #expect(passed == minted as NSDictionary)
        #expect(Set(minted.keys) == [
            "iss", "sub", "aud", "exp", "iat", "email", "phone", "app_metadata", "user_metadata", "role", "aal", "amr",
            "session_id", "is_anonymous",
        ])
    }

    @Test("an ES256 token from PyJWT is accepted through the P-256 JWKS PyJWT exported")
    func es256() async throws {
        let output = try Self.mint("supabase-es256", [userID.uuidString.lowercased(), email])
        let token = try #require(output["token"] as? String)
        let identity = try await Self.adapter(trusting: output).identify(TokenMinter.bearer(token))
        #expect(identity.userID == userID)
        #expect(identity.email == email)
        #expect(identity.role == .authenticated)
    }

    @Test("an RS256 token from PyJWT is accepted through the RSA JWKS PyJWT exported")
    func rs256() async throws {
        let output = try Self.mint("supabase-rs256", [userID.uuidString.lowercased(), email])
        let token = try #require(output["token"] as? String)
        let identity = try await Self.adapter(trusting: output).identify(TokenMinter.bearer(token))
        #expect(identity.userID == userID)
        #expect(identity.email == email)
        #expect(identity.role == .authenticated)
    }

    @Test("a PyJWT token whose payload was altered after signing is refused as a bad signature, for every algorithm")
    func tampered() async throws {
        let subject = userID.uuidString.lowercased()
        let minted = [
            (try SupabaseAdapter.forTests(), try Self.mint("supabase-hs256", [TokenMinter.secret, subject, email])),
        ] + (try ["supabase-es256", "supabase-rs256"].map { mode in
            let output = try Self.mint(mode, [subject, email])
            return (try Self.adapter(trusting: output), output)
        })
        for (adapter, output) in minted {
            let token = try #require(output["token"] as? String)
            let claims = try #require(output["claims"] as? [String: Any])
            #expect(await adapter.refusal(token) == nil)
            let error = await adapter.refusal(Self.escalated(token, claims: claims))
            #expect(error?.kind == .badSignature)
            #expect(error.map { !$0.reason.contains(token) } == true)
        }
    }
}
