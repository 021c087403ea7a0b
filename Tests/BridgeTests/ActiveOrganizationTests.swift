import Foundation
import HTTPTypes
import SMTACore
import Testing

@testable import SMTABridge

/// How a request names its active organization: the `X-SMTA-Organization` header, the
/// configured token claim, and what is refused before the database is asked.
@Suite("The active organization of a request")
struct ActiveOrganizationTests {
    static let first = UUID()
    static let second = UUID()

    static func identity(claims: String, role: Identity.Role = .authenticated) -> Identity {
        Identity(userID: UUID(), email: nil, role: role, claimsJSON: claims, source: "test")
    }

    static func headers(_ values: String...) -> HTTPFields {
        var fields = HTTPFields()
        for value in values { fields.append(HTTPField(name: ActiveOrganization.header, value: value)) }
        return fields
    }

    @Test("the header names it, in any case; without header or claim there is none")
    func header() throws {
        let resolver = ActiveOrganization(claim: nil)
        let caller = Self.identity(claims: #"{"role":"authenticated"}"#)
        #expect(try resolver.resolve(Self.headers(Self.first.uuidString.lowercased()), identity: caller) == Self.first)
        #expect(try resolver.resolve(Self.headers(" \(Self.first.uuidString) "), identity: caller) == Self.first)
        #expect(try resolver.resolve([:], identity: caller) == nil)
    }

    @Test("a header that is not a UUID, or sent twice, is 400 22P02")
    func malformed() {
        let resolver = ActiveOrganization(claim: nil)
        let caller = Self.identity(claims: "{}")
        for headers in [Self.headers("acme"), Self.headers(""), Self.headers(Self.first.uuidString, Self.second.uuidString)] {
            #expect {
                try resolver.resolve(headers, identity: caller)
            } throws: { error in
                (error as? BridgeError).map { $0.status == .badRequest && $0.code == "22P02" } ?? false
            }
        }
    }

    @Test("a configured claim (a dotted path) names it; the header must agree with it")
    func claim() throws {
        let resolver = ActiveOrganization(claim: "app_metadata.organization_id")
        let pinned = Self.identity(claims: #"{"app_metadata":{"organization_id":"\#(Self.first.uuidString)"}}"#)
        #expect(try resolver.resolve([:], identity: pinned) == Self.first)
        #expect(try resolver.resolve(Self.headers(Self.first.uuidString), identity: pinned) == Self.first)
        #expect {
            try resolver.resolve(Self.headers(Self.second.uuidString), identity: pinned)
        } throws: { error in
            (error as? BridgeError).map { $0.status == .forbidden && $0.code == "42501" } ?? false
        }
        let unpinned = Self.identity(claims: #"{"app_metadata":{}}"#)
        #expect(try resolver.resolve(Self.headers(Self.second.uuidString), identity: unpinned) == Self.second)
        #expect(try resolver.resolve([:], identity: Self.identity(claims: #"{"app_metadata":{"organization_id":null}}"#)) == nil)
    }

    @Test("a claim that is not a UUID is 400; an anonymous caller's claims name nothing")
    func badClaim() throws {
        let resolver = ActiveOrganization(claim: "organization_id")
        #expect {
            try resolver.resolve([:], identity: Self.identity(claims: #"{"organization_id":42}"#))
        } throws: { error in
            (error as? BridgeError).map { $0.status == .badRequest && $0.code == "22P02" } ?? false
        }
        let anonymous = Self.identity(claims: #"{"role":"anon","organization_id":"\#(Self.first.uuidString)"}"#, role: .anon)
        #expect(try resolver.resolve([:], identity: anonymous) == nil)
    }

    @Test("organization_claim must be a name or a dotted path")
    func setting() throws {
        let configured = try BridgeSettings(configuration: Configuration(values: [.organizationClaim: "app_metadata.organization_id"]))
        #expect(configured.organizationClaim == "app_metadata.organization_id")
        #expect(try BridgeSettings(configuration: Configuration()).organizationClaim == nil)
        for bad in ["app_metadata.", ".organization_id", "a..b"] {
            #expect(throws: ConfigurationError.self) {
                try BridgeSettings(configuration: Configuration(values: [.organizationClaim: bad]))
            }
        }
    }
}
