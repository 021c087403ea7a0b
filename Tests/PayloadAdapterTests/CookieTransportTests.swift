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

    @Test("the Authorization header wins over the cookie, and an unknown scheme is refused")
    func headerOrder() throws {
        let extractor = PayloadTokenExtractor(allowedOrigins: Self.allowed)
        let both = Credentials(headers: [("Authorization", "JWT header.token.x"), ("Cookie", "payload-token=cookie.token.x"), ("Origin", "https://evil.example")])
        #expect(try extractor.token(in: both) == "header.token.x")
        let bearer = Credentials(headers: [("Authorization", "Bearer b.b.b")])
        #expect(try extractor.token(in: bearer) == "b.b.b")
        #expect(throws: AuthenticationError.self) { try extractor.token(in: Credentials(headers: [("Authorization", "users API-Key abc")])) }
        #expect(throws: AuthenticationError.self) { try extractor.token(in: Credentials(headers: [("Authorization", "JWT ")])) }
        let prefixed = PayloadTokenExtractor(cookiePrefix: "myapp")
        #expect(try prefixed.token(in: Credentials(headers: [("Cookie", "myapp-token=m.m.m; payload-token=p.p.p")])) == "m.m.m")
    }
}
