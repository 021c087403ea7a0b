import Foundation
import SMTACore
import SMTASupabase
import Testing

@Suite("Supabase's publishable and secret API keys")
struct PublishableAndSecretKeyTests {
    static let publishable = "sb_publishable_3c2bQvQxq7Ct5dP1N4sF0w_a9K2mLq"
    static let secret = "sb_secret_Zt8yN1rW4kQ6pV0sJ3hL9c_b2D5fG7x"

    static func adapter() throws -> SupabaseAdapter {
        try SupabaseAdapter(settings: SupabaseSettings(
            jwtSecret: TokenMinter.secret, publishableKeys: [publishable], secretKeys: [secret]))
    }

    @Test("a configured publishable key, as apikey or as the bearer, is anon")
    func publishableKeyIsAnon() async throws {
        let adapter = try Self.adapter()
        for headers in [
            [("apikey", Self.publishable)],
            [("apikey", Self.publishable), ("Authorization", "Bearer \(Self.publishable)")],
            [("Authorization", "Bearer \(Self.publishable)")],
        ] {
            let identity = try await adapter.identify(Credentials(headers: headers))
            #expect(identity.role == .anon)
            #expect(identity.userID == nil)
            #expect(identity.claimsJSON == #"{"role":"anon"}"#)
        }
    }

    @Test("a user token beside a publishable key is that user")
    func userTokenWithPublishableKey() async throws {
        let user = UUID()
        let token = TokenMinter.hs256(TokenMinter.userClaims(sub: user.uuidString))
        let identity = try await Self.adapter().identify(
            Credentials(headers: [("apikey", Self.publishable), ("Authorization", "Bearer \(token)")]))
        #expect(identity.role == .authenticated)
        #expect(identity.userID == user)
    }

    @Test("a configured secret key is the service role")
    func secretKeyIsServiceRole() async throws {
        let adapter = try Self.adapter()
        for headers in [[("apikey", Self.secret)], [("apikey", Self.secret), ("Authorization", "Bearer \(Self.secret)")]] {
            let identity = try await adapter.identify(Credentials(headers: headers))
            #expect(identity.role == .serviceRole)
            #expect(identity.userID == nil)
        }
    }

    @Test("a secret key sent by a browser is refused, as Supabase refuses it; a publishable key is not")
    func secretKeyFromBrowser() async throws {
        let adapter = try Self.adapter()
        let browser = ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0 Safari/537.36")
        let user = UUID()
        let token = TokenMinter.hs256(TokenMinter.userClaims(sub: user.uuidString))
        for headers in [
            [browser, ("apikey", Self.secret)], [browser, ("Authorization", "Bearer \(Self.secret)")],
            [browser, ("apikey", Self.secret), ("Authorization", "Bearer \(token)")],
        ] {
            let refusal = await adapter.refusal(Credentials(headers: headers))
            #expect(refusal?.kind == .forbiddenTransport, "\(headers)")
            #expect(!(refusal?.reason.contains(Self.secret) ?? true))
        }
        #expect(try await adapter.identify(Credentials(headers: [browser, ("apikey", Self.publishable)])).role == .anon)
        let server = ("User-Agent", "supabase-py/2.34.1")
        #expect(try await adapter.identify(Credentials(headers: [server, ("apikey", Self.secret)])).role == .serviceRole)
    }

    @Test("an sb_ key that is not configured is refused, as apikey and as the bearer, and never echoed")
    func unknownKeysAreRefused() async throws {
        let adapter = try Self.adapter()
        let forged = [
            "sb_publishable_3c2bQvQxq7Ct5dP1N4sF0w_a9K2mLr", "sb_secret_Zt8yN1rW4kQ6pV0sJ3hL9c_b2D5fG7y", "sb_", "sb_secret_",
            Self.publishable + "x", String(Self.secret.dropLast()),
        ]
        for key in forged {
            for headers in [[("apikey", key)], [("Authorization", "Bearer \(key)")]] {
                let refusal = await adapter.refusal(Credentials(headers: headers))
                #expect(refusal?.kind == .badSignature, "\(headers)")
                #expect(!(refusal?.reason.contains(key) ?? true))
                #expect(!(refusal?.publicMessage.contains(key) ?? true))
            }
        }
    }

    @Test("without configured keys every sb_ key is refused")
    func noKeysConfigured() async throws {
        let adapter = try SupabaseAdapter.forTests()
        #expect(await adapter.refusal(Credentials(headers: [("apikey", Self.publishable)]))?.kind == .badSignature)
        #expect(await adapter.refusal(Credentials(headers: [("Authorization", "Bearer \(Self.secret)")]))?.kind == .badSignature)
    }

    @Test("keys are read from the configuration, and a key with the wrong prefix stops start-up")
    func configuration() throws {
        let good = Configuration(values: [
            .jwtSecret: TokenMinter.secret, .supabasePublishableKeys: "\(Self.publishable), sb_publishable_second",
            .supabaseSecretKeys: Self.secret,
        ])
        let settings = try SupabaseSettings(configuration: good)
        #expect(settings.publishableKeys == [Self.publishable, "sb_publishable_second"])
        #expect(settings.secretKeys == [Self.secret])
        let swapped = Configuration(values: [.jwtSecret: TokenMinter.secret, .supabasePublishableKeys: Self.secret])
        #expect(throws: ConfigurationError.self) { try SupabaseSettings(configuration: swapped) }
    }
}
