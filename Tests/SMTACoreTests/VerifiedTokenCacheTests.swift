import SMTACore
import Testing

@Suite("VerifiedTokenCache: a remembered token is still judged by the clock and the key set")
struct VerifiedTokenCacheTests {
    let clock = TokenClock(leeway: .seconds(30))
    let token = Array("header.payload.signature".utf8)

    func entry(exp: Double? = 1_000, nbf: Double? = nil, iat: Double? = nil, generation: Int = 1) -> VerifiedTokenCache<Identity>.Entry {
        VerifiedTokenCache<Identity>.Entry(
            value: Identity(userID: nil, email: "ada@example.com", role: .authenticated, claimsJSON: "{}", source: "test"),
            exp: exp, nbf: nbf, iat: iat, keySetGeneration: generation)
    }

    @Test("a remembered token is answered until exp and the leeway have passed, then refused as expired")
    func expiryIsJudgedAtEveryUse() throws {
        let cache = VerifiedTokenCache<Identity>()
        cache.insert(token, entry(exp: 1_000))
        #expect(try cache.value(for: token, keySetGeneration: 1, clock: clock, now: 1_029)?.email == "ada@example.com")
        #expect(throws: AuthenticationError.self) {
            try cache.value(for: token, keySetGeneration: 1, clock: clock, now: 1_030)
        }
        do {
            _ = try cache.value(for: token, keySetGeneration: 1, clock: clock, now: 5_000)
            Issue.record("an expired token was answered")
        } catch {
            #expect(error.kind == .expired)
        }
    }

    @Test("nbf and iat in the future are refused as not yet valid, as a full verification would")
    func notYetValid() throws {
        let cache = VerifiedTokenCache<Identity>()
        cache.insert(token, entry(exp: 10_000, nbf: 2_000))
        do {
            _ = try cache.value(for: token, keySetGeneration: 1, clock: clock, now: 1_000)
            Issue.record("a token not yet valid was answered")
        } catch {
            #expect(error.kind == .notYetValid)
        }
        #expect(try cache.value(for: token, keySetGeneration: 1, clock: clock, now: 2_000) != nil)
    }

    @Test("an entry of another key set is never answered: the token must be verified again, and replaces it")
    func keySetChange() throws {
        let cache = VerifiedTokenCache<Identity>()
        cache.insert(token, entry(generation: 1))
        #expect(try cache.value(for: token, keySetGeneration: 2, clock: clock, now: 0) == nil)
        cache.insert(token, entry(generation: 2))
        #expect(cache.count == 1)
        #expect(try cache.value(for: token, keySetGeneration: 2, clock: clock, now: 0) != nil)
        #expect(try cache.value(for: token, keySetGeneration: 1, clock: clock, now: 0) == nil)
    }

    @Test("only the exact bytes match: a token differing in one byte of its signature is unknown")
    func exactBytes() throws {
        let cache = VerifiedTokenCache<Identity>()
        cache.insert(token, entry())
        var altered = token
        altered[altered.count - 1] ^= 1
        #expect(try cache.value(for: altered, keySetGeneration: 1, clock: clock, now: 0) == nil)
    }

    @Test("it never holds more than its capacity, and the oldest token goes first")
    func bounded() throws {
        let cache = VerifiedTokenCache<Identity>(capacity: 8)
        for index in 0..<100 {
            cache.insert(Array("token-\(index)".utf8), entry())
            // Inserted again: no second place in the ring.
            cache.insert(Array("token-\(index)".utf8), entry())
        }
        #expect(cache.count == 8)
        for index in 92..<100 {
            #expect(try cache.value(for: Array("token-\(index)".utf8), keySetGeneration: 1, clock: clock, now: 0) != nil)
        }
        #expect(try cache.value(for: Array("token-91".utf8), keySetGeneration: 1, clock: clock, now: 0) == nil)
    }
}
