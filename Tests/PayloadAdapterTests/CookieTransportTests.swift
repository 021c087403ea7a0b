import SMTACore
import SMTAPayload
import Testing

@Suite("The payload-token cookie under Payload's CSRF rule")
struct CookieTransportTests {
    static let allowed = ["https://app.example.com"]

    func cookie(_ token: String, _ extra: [(name: String, value: String)]) -> Credentials {
        Credentials(headers: [("Cookie", "theme=dark; payload-token=\(token); other=1")] + extra)
    }

    @Test("a same-origin request (no Origin, Sec-Fetch-Site same-origin) may use the cookie", arguments: StoreKind.allCases)
    func sameOrigin(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(3), email: "c@example.com")
        try await fixture.withAdapter(allowedOrigins: Self.allowed) { adapter in
            let identity = try await adapter.identify(cookie(token, [("Sec-Fetch-Site", "same-origin")]))
            #expect(identity.link?.subject == "users:3")
        }
    }

    @Test("a request from an allowed origin may use the cookie", arguments: StoreKind.allCases)
    func allowedOrigin(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(3), email: "c@example.com")
        try await fixture.withAdapter(allowedOrigins: Self.allowed) { adapter in
            let identity = try await adapter.identify(cookie(token, [("Origin", "https://app.example.com"), ("Sec-Fetch-Site", "cross-site")]))
            #expect(identity.link?.subject == "users:3")
        }
    }

    @Test("with no allowed-origin list, any request may use the cookie (Payload's default)", arguments: StoreKind.allCases)
    func emptyList(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(3), email: "c@example.com")
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(cookie(token, [("Origin", "https://elsewhere.example")]))
            #expect(identity.link?.subject == "users:3")
        }
    }

    @Test("a cookie from a foreign origin is refused as forbidden transport", arguments: StoreKind.allCases)
    func foreignOrigin(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(3), email: "c@example.com")
        try await fixture.withAdapter(allowedOrigins: Self.allowed) { adapter in
            let refusal = await adapter.refusal(cookie(token, [("Origin", "https://evil.example")]))
            #expect(refusal?.kind == .forbiddenTransport)
            #expect(refusal?.reason.contains(token) == false)
        }
    }

    @Test("a cross-site request with no Origin, or with neither header, is refused", arguments: StoreKind.allCases)
    func crossSiteWithoutOrigin(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(3), email: "c@example.com")
        try await fixture.withAdapter(allowedOrigins: Self.allowed) { adapter in
            #expect(await adapter.refusal(cookie(token, [("Sec-Fetch-Site", "cross-site")]))?.kind == .forbiddenTransport)
            #expect(await adapter.refusal(cookie(token, []))?.kind == .forbiddenTransport)
        }
    }

    @Test("the Authorization header wins over the cookie; another scheme falls through to the cookie, as in Payload's extractJWT")
    func headerOrder() throws {
        let extractor = PayloadTokenExtractor(allowedOrigins: Self.allowed, apiKeyCollections: ["users"])
        let both = Credentials(headers: [("Authorization", "JWT header.token.x"), ("Cookie", "payload-token=cookie.token.x"), ("Origin", "https://evil.example")])
        #expect(try extractor.credential(in: both) == .token("header.token.x"))
        #expect(try extractor.credential(in: Credentials(headers: [("Authorization", "Bearer b.b.b")])) == .token("b.b.b"))
        #expect(try extractor.credential(in: Credentials(headers: [("Authorization", "users API-Key abc")])) == .apiKey(collection: "users", key: "abc"))
        let basic = Credentials(headers: [
            ("Authorization", "Basic dXNlcjpwdw=="), ("Cookie", "payload-token=cookie.token.x"), ("Origin", "https://app.example.com"),
        ])
        #expect(try extractor.credential(in: basic) == .token("cookie.token.x"))
        let foreignKey = Credentials(headers: [("Authorization", "admins API-Key abc"), ("Cookie", "payload-token=c.c.c"), ("Sec-Fetch-Site", "same-origin")])
        #expect(try extractor.credential(in: foreignKey) == .token("c.c.c"))
        for header in ["Basic dXNlcjpwdw==", "admins API-Key abc", "JWT ", "users API-Key "] {
            let error = #expect(throws: AuthenticationError.self, "\(header)") {
                try extractor.credential(in: Credentials(headers: [("Authorization", header)]))
            }
            #expect(error?.kind == .malformed, "\(header)")
        }
        // A Basic header does not excuse a cookie from the CSRF rule.
        let crossSite = Credentials(headers: [("Authorization", "Basic eA=="), ("Cookie", "payload-token=c.c.c"), ("Origin", "https://evil.example")])
        #expect((#expect(throws: AuthenticationError.self) { try extractor.credential(in: crossSite) })?.kind == .forbiddenTransport)
        let prefixed = PayloadTokenExtractor(cookiePrefix: "myapp")
        #expect(try prefixed.credential(in: Credentials(headers: [("Cookie", "myapp-token=m.m.m; payload-token=p.p.p")])) == .token("m.m.m"))
    }

    @Test("Authorization: Basic plus a valid cookie authenticates with the cookie end to end", arguments: StoreKind.allCases)
    func basicFallsThroughToCookie(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(4), email: "basic@example.com")
        try await fixture.withAdapter(allowedOrigins: Self.allowed) { adapter in
            let identity = try await adapter.accepted(
                Credentials(headers: [("Authorization", "Basic dXNlcjpwdw=="), ("Cookie", "payload-token=" + token), ("Origin", "https://app.example.com")]))
            #expect(identity.link?.subject == "users:4")
            #expect(await adapter.refusal(Credentials(headers: [("Authorization", "Basic dXNlcjpwdw==")]))?.kind == .malformed)
        }
    }
}
