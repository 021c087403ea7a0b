import Testing

@testable import SMTABridge

/// SCIM PATCH (RFC 7644 §3.5.2) applied to a resource document, in the dialects identity
/// providers send (Okta, Microsoft Entra ID).
@Suite("SCIM PATCH operations")
struct SCIMPatchTests {
    static let resource = SCIMPatch.Resource(
        schema: "urn:ietf:params:scim:schemas:core:2.0:user", extensions: ["urn:example:ext"], multiValued: ["emails", "members"],
        required: ["username", "active"])

    static func patch(_ operations: String, on document: String) throws -> SCIMJSON {
        let body = try SCIMJSON.parse(Array(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":\#(operations)}"#.utf8))
        return try SCIMPatch(body).applied(to: SCIMJSON.parse(Array(document.utf8)), resource: resource)
    }

    static func json(_ text: String) throws -> SCIMJSON {
        try SCIMJSON.parse(Array(text.utf8))
    }

    @Test("Okta deactivates with an object value; Entra ID with a capitalised op and a string boolean")
    func deactivation() throws {
        let user = #"{"userName":"a@example.com","active":true}"#
        let okta = try Self.patch(#"[{"op":"replace","value":{"active":false}}]"#, on: user)
        #expect(okta["active"] == .bool(false))
        let entra = try Self.patch(#"[{"op":"Replace","path":"active","value":"False"}]"#, on: user)
        // The string stays a string here; the user model reads "False" as false.
        #expect(entra["active"] == .string("False"))
        #expect(entra["userName"] == .string("a@example.com"))
    }

    @Test("paths: sub-attributes, value filters, filter with sub-attribute, schema URNs")
    func paths() throws {
        let user = #"{"userName":"a","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"a@x.com","type":"work","primary":true},{"value":"a@home.com","type":"home"}]}"#
        let renamed = try Self.patch(#"[{"op":"replace","path":"name.givenName","value":"Ann"}]"#, on: user)
        #expect(renamed["name"] == (try Self.json(#"{"givenName":"Ann","familyName":"B"}"#)))

        let work = try Self.patch(#"[{"op":"replace","path":"emails[type eq \"work\"].value","value":"ann@x.com"}]"#, on: user)
        #expect(work["emails"]?.elements?.first?["value"] == .string("ann@x.com"))
        #expect(work["emails"]?.elements?.last?["value"] == .string("a@home.com"))

        let removed = try Self.patch(#"[{"op":"remove","path":"emails[type eq \"home\"]"}]"#, on: user)
        #expect(removed["emails"]?.elements?.count == 1)

        let urn = try Self.patch(#"[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"b"}]"#, on: user)
        #expect(urn["userName"] == .string("b"))
    }

    @Test("a value filter that matches nothing adds a value carrying its equalities (Entra ID's first work email)")
    func addsMissingTarget() throws {
        let patched = try Self.patch(#"[{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@x.com"}]"#, on: #"{"userName":"a"}"#)
        #expect(patched["emails"] == (try Self.json(#"[{"type":"work","value":"new@x.com"}]"#)))
        #expect(throws: SCIMError.self) {
            try Self.patch(#"[{"op":"replace","path":"emails[value co \"x\"].value","value":"y"}]"#, on: #"{"userName":"a"}"#)
        }
    }

    @Test("group members: add, Okta's remove by filter, Entra ID's remove by value, replace all")
    func members() throws {
        let group = #"{"displayName":"Eng","members":[{"value":"1"},{"value":"2"}]}"#
        let added = try Self.patch(#"[{"op":"add","path":"members","value":[{"value":"3"},{"value":"1"}]}]"#, on: group)
        #expect(added["members"]?.elements?.compactMap { $0["value"]?.string } == ["1", "2", "3"])
        let okta = try Self.patch(#"[{"op":"remove","path":"members[value eq \"2\"]"}]"#, on: group)
        #expect(okta["members"]?.elements?.compactMap { $0["value"]?.string } == ["1"])
        let entra = try Self.patch(#"[{"op":"Remove","path":"members","value":[{"value":"1"}]}]"#, on: group)
        #expect(entra["members"]?.elements?.compactMap { $0["value"]?.string } == ["2"])
        let replaced = try Self.patch(#"[{"op":"replace","path":"members","value":[{"value":"9"}]}]"#, on: group)
        #expect(replaced["members"]?.elements?.compactMap { $0["value"]?.string } == ["9"])
        let all = try Self.patch(#"[{"op":"remove","path":"members"}]"#, on: group)
        #expect(all["members"] == nil)
        let renamed = try Self.patch(#"[{"op":"replace","value":{"displayName":"Engineering"}}]"#, on: group)
        #expect(renamed["displayName"] == .string("Engineering"))
    }

    @Test("malformed requests are refused with the RFC's scimType")
    func refused() throws {
        func kind(_ body: String, on document: String = #"{"userName":"a"}"#) -> SCIMError.Kind? {
            do {
                let json = try SCIMJSON.parse(Array(body.utf8))
                _ = try SCIMPatch(json).applied(to: try SCIMJSON.parse(Array(document.utf8)), resource: Self.resource)
                return nil
            } catch let error as SCIMError {
                return error.scimType
            } catch {
                return nil
            }
        }
        let schema = #""schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]"#
        #expect(kind(#"{"Operations":[{"op":"add","path":"a","value":1}]}"#) == .invalidSyntax)
        #expect(kind("{\(schema),\"Operations\":[]}") == .invalidSyntax)
        #expect(kind("{\(schema),\"Operations\":[{\"op\":\"move\",\"path\":\"a\"}]}") == .invalidSyntax)
        #expect(kind("{\(schema),\"Operations\":[{\"op\":\"remove\"}]}") == .noTarget)
        #expect(kind("{\(schema),\"Operations\":[{\"op\":\"add\",\"path\":\"a\"}]}") == .invalidValue)
        #expect(kind("{\(schema),\"Operations\":[{\"op\":\"add\",\"value\":\"x\"}]}") == .invalidValue)
        #expect(kind("{\(schema),\"Operations\":[{\"op\":\"add\",\"path\":\"a..b\",\"value\":1}]}") == .invalidPath)
        #expect(kind("{\(schema),\"Operations\":[{\"op\":\"add\",\"path\":\"userName[value eq \\\"x\\\"]\",\"value\":1}]}") == .invalidPath)
        #expect(kind("{\(schema),\"Operations\":[{\"op\":\"add\",\"path\":\"urn:other:x:a\",\"value\":1}]}") == .invalidPath)
        #expect(kind("not json") == .invalidSyntax)
    }
}
