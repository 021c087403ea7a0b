import Foundation
import Logging
import SMTACore
import SMTASupabase
import SMTATestSupport
import Testing

@Suite("JWKS rotation: refreshed on an unknown kid, rate-limited, and never losing good keys")
struct JWKSRotationTests {
    let claims = TokenMinter.userClaims()

    @Test("a token with a newly published kid triggers exactly one refresh, then verifies")
    func rotation() async throws {
        let old = try await TestSigningKey.es256(kid: "key-1")
        let new = try await TestSigningKey.es256(kid: "key-2")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([old]))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks)
        #expect(try await adapter.loadKeys() == 1)
        #expect(await adapter.refusal(old.token(claims)) == nil)
        #expect(await jwks.fetchCount == 1)

        await jwks.publish(TestSigningKey.jwks([old, new]))
        #expect(await adapter.refusal(new.token(claims)) == nil)
        #expect(await jwks.fetchCount == 2)
        #expect(await adapter.refusal(new.token(claims)) == nil)
        #expect(await adapter.refusal(old.token(claims)) == nil)
        #expect(await jwks.fetchCount == 2)
    }

    @Test("the first token with a kid loads the JWKS when nothing was loaded at start-up")
    func lazyLoad() async throws {
        let key = try await TestSigningKey.rs256(kid: "key-1")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([key]))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks)
        #expect(await jwks.fetchCount == 0)
        #expect(await adapter.refusal(key.token(claims)) == nil)
        #expect(await jwks.fetchCount == 1)
    }

    @Test("a burst of unknown-kid tokens causes at most one fetch per interval")
    func burstIsRateLimited() async throws {
        let known = try await TestSigningKey.es256(kid: "key-1")
        let forger = try await TestSigningKey.es256(kid: "unused")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([known]))
        await jwks.setDelay(.milliseconds(100))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks, refreshInterval: .seconds(60))
        try await adapter.loadKeys()

        let kinds = await withTaskGroup(of: AuthenticationError.Kind?.self) { group in
            for index in 0..<200 {
                let token = forger.token(claims, kid: "forged-\(index)")
                group.addTask { await adapter.refusal(token)?.kind }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(kinds.count == 200)
        #expect(kinds.allSatisfy { $0 == .badSignature })
        #expect(await jwks.fetchCount == 2)  // the start-up load and one refresh

        for index in 0..<20 {
            #expect(await adapter.refusal(forger.token(claims, kid: "later-\(index)"))?.kind == .badSignature)
        }
        #expect(await jwks.fetchCount == 2)
        #expect(await adapter.refusal(known.token(claims)) == nil)
    }

    @Test("once the interval has passed, an unknown kid may refresh again")
    func refreshAfterInterval() async throws {
        let old = try await TestSigningKey.es256(kid: "key-1")
        let new = try await TestSigningKey.es256(kid: "key-2")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([old]))
        // The interval is wide so that a loaded machine cannot let it pass between the first
        // refresh and the rate-limited attempt.
        let adapter = try SupabaseAdapter.forTests(jwks: jwks, refreshInterval: .seconds(2))
        try await adapter.loadKeys()
        #expect(await adapter.refusal(new.token(claims))?.kind == .badSignature)  // refresh 1: not published yet
        await jwks.publish(TestSigningKey.jwks([old, new]))
        #expect(await adapter.refusal(new.token(claims))?.kind == .badSignature)  // rate-limited
        #expect(await jwks.fetchCount == 2)
        try await Task.sleep(for: .milliseconds(2_100))
        #expect(await adapter.refusal(new.token(claims)) == nil)
        #expect(await jwks.fetchCount == 3)
    }

    @Test("an unreachable or broken JWKS keeps the last good keys; an unknown kid meanwhile is unavailable, not refused")
    func unreachableKeepsKeys() async throws {
        let old = try await TestSigningKey.es256(kid: "key-1")
        let new = try await TestSigningKey.es256(kid: "key-2")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([old]))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks, refreshInterval: .zero)
        try await adapter.loadKeys()

        await jwks.setReachable(false)
        await #expect(throws: JWKSUnavailable.self) { try await adapter.loadKeys() }
        #expect(await adapter.refusal(new.token(claims))?.kind == .unavailable)
        #expect(await adapter.refusal(old.token(claims)) == nil)

        await jwks.setReachable(true)
        await jwks.publish(Data("<html>bad gateway</html>".utf8))
        #expect(await adapter.refusal(new.token(claims))?.kind == .unavailable)
        #expect(await adapter.refusal(old.token(claims)) == nil)
        #expect(await jwks.fetchCount == 4)

        // Once the JWKS answers again, the unknown kid is judged: refused while unpublished.
        await jwks.publish(TestSigningKey.jwks([old]))
        #expect(await adapter.refusal(new.token(claims))?.kind == .badSignature)
        await jwks.publish(TestSigningKey.jwks([old, new]))
        #expect(await adapter.refusal(new.token(claims)) == nil)
    }

    @Test("after a failed fetch, a new attempt waits retryAfterFailure, not the whole interval")
    func retryAfterFailure() async throws {
        let old = try await TestSigningKey.es256(kid: "key-1")
        let new = try await TestSigningKey.es256(kid: "key-2")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([old]))
        // The retry delay is wide so that a loaded machine cannot let it pass between the
        // failed fetch and the attempt that must wait.
        let ring = JWKSKeyRing(source: jwks, refreshInterval: .seconds(600), retryAfterFailure: .seconds(3), logger: Logger(label: "test"))
        #expect(try await ring.load() == 1)
        await jwks.setReachable(false)
        let failed = await #expect(throws: AuthenticationError.self) { try await ring.refreshedKey(for: "key-2") }  // fetch 2 fails
        #expect(failed?.kind == .unavailable)
        let waiting = await #expect(throws: AuthenticationError.self) { try await ring.refreshedKey(for: "key-2") }  // waits: no fetch
        #expect(waiting?.kind == .unavailable)
        #expect(await jwks.fetchCount == 2)
        #expect(try await ring.refreshedKey(for: "key-1") != nil)  // known keys stay usable
        await jwks.setReachable(true)
        await jwks.publish(TestSigningKey.jwks([old, new]))
        try await Task.sleep(for: .milliseconds(3_100))
        #expect(try await ring.refreshedKey(for: "key-2") != nil)
        #expect(await jwks.fetchCount == 3)
        // A success restores the full interval: another unknown kid waits for it.
        #expect(try await ring.refreshedKey(for: "key-3") == nil)
        #expect(await jwks.fetchCount == 3)
    }

    @Test("a key removed from the JWKS stops verifying after a refresh")
    func removedKeyIsRevoked() async throws {
        let old = try await TestSigningKey.es256(kid: "key-1")
        let new = try await TestSigningKey.es256(kid: "key-2")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([old]))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks)
        try await adapter.loadKeys()
        await jwks.publish(TestSigningKey.jwks([new]))
        try await adapter.loadKeys()
        #expect(await adapter.refusal(old.token(claims))?.kind == .badSignature)
        #expect(await adapter.refusal(new.token(claims)) == nil)
    }

    @Test("JWKS entries for encryption, symmetric keys or unknown types are ignored, not fatal")
    func unusableEntriesIgnored() async throws {
        let good = try await TestSigningKey.es256(kid: "key-1")
        var encryption = good.publicJWK
        encryption["kid"] = "enc"
        encryption["use"] = "enc"
        let document: [String: Any] = [
            "keys": [
                ["kty": "oct", "kid": "hmac", "k": TokenMinter.base64URL(Array(TokenMinter.secret.utf8))],
                encryption, ["kty": "weird", "kid": "x"], good.publicJWK,
            ]
        ]
        let jwks = InMemoryJWKS(try JSONSerialization.data(withJSONObject: document))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks)
        #expect(try await adapter.loadKeys() == 1)
        #expect(await adapter.refusal(good.token(claims)) == nil)
        let hmacKid = TokenMinter.mint(
            alg: "HS256", kid: "hmac", claims: claims, signer: .hs256(Array("attacker-chosen-key-of-32-bytes-or-more".utf8)))
        #expect(await adapter.refusal(hmacKid)?.kind == .badSignature)
    }

    @Test("a JWKS file is read and re-read on rotation")
    func fileSource() async throws {
        let old = try await TestSigningKey.es256(kid: "key-1")
        let new = try await TestSigningKey.rs256(kid: "key-2")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TestSigningKey.jwks([old]).write(to: URL(fileURLWithPath: path))
        let adapter = try SupabaseAdapter(configuration: Configuration(values: [.jwksFile: path]))
        try await adapter.loadKeys()
        #expect(await adapter.refusal(old.token(claims)) == nil)
        try TestSigningKey.jwks([old, new]).write(to: URL(fileURLWithPath: path))
        #expect(await adapter.refusal(new.token(claims)) == nil)
    }
}
