/// The bridge's SCIM discovery documents (RFC 7644 §4, RFC 7643 §5–7): what it supports
/// (`/ServiceProviderConfig`), the resource types it serves (`/ResourceTypes`) and their
/// attributes (`/Schemas`). Identity providers and conformance testers build their requests from
/// these, so they list exactly what the endpoints store and return.
enum SCIMDiscovery {
    static let userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"
    static let groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
    /// SMTA's extension of the User: the organization role given to the member.
    static let userExtensionSchema = "urn:ietf:params:scim:schemas:extension:smta:2.0:User"
    static let listSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    static let serviceProviderConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    static let resourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    static let schemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema"

    /// The most resources one list answers (`filter.maxResults`); also the default `count`.
    static let maximumResults = 200

    /// `/ServiceProviderConfig`.
    static func serviceProviderConfig(base: String) -> SCIMJSON {
        .object([
            ("schemas", .array([.string(serviceProviderConfigSchema)])),
            ("documentationUri", .string("https://github.com/smta-swift/smta#scim-provisioning")),
            ("patch", .object([("supported", .bool(true))])),
            ("bulk", .object([("supported", .bool(false)), ("maxOperations", .number(0)), ("maxPayloadSize", .number(0))])),
            ("filter", .object([("supported", .bool(true)), ("maxResults", .number(Double(maximumResults)))])),
            ("changePassword", .object([("supported", .bool(false))])),
            ("sort", .object([("supported", .bool(false))])),
            ("etag", .object([("supported", .bool(true))])),
            ("authenticationSchemes", .array([.object([
                ("type", .string("oauthbearertoken")),
                ("name", .string("Bearer token")),
                ("description", .string("The organization's SCIM token (public.create_scim_token), sent as Authorization: Bearer")),
                ("primary", .bool(true)),
            ])])),
            ("meta", .object([
                ("resourceType", .string("ServiceProviderConfig")),
                ("location", .string("\(base)/ServiceProviderConfig")),
            ])),
        ])
    }

    /// The resource types, by id (`User`, `Group`).
    static func resourceTypes(base: String) -> [(id: String, document: SCIMJSON)] {
        [
            ("User", resourceType(id: "User", endpoint: "/Users", schema: userSchema, extensions: [userExtensionSchema], base: base,
                                  description: "A member of the token's organization")),
            ("Group", resourceType(id: "Group", endpoint: "/Groups", schema: groupSchema, extensions: [], base: base,
                                   description: "A unit of the token's organization")),
        ]
    }

    private static func resourceType(id: String, endpoint: String, schema: String, extensions: [String], base: String, description: String) -> SCIMJSON {
        var members: [(name: String, value: SCIMJSON)] = [
            ("schemas", .array([.string(resourceTypeSchema)])),
            ("id", .string(id)),
            ("name", .string(id)),
            ("endpoint", .string(endpoint)),
            ("description", .string(description)),
            ("schema", .string(schema)),
        ]
        if !extensions.isEmpty {
            members.append(("schemaExtensions", .array(extensions.map { .object([("schema", .string($0)), ("required", .bool(false))]) })))
        }
        members.append(("meta", .object([("resourceType", .string("ResourceType")), ("location", .string("\(base)/ResourceTypes/\(id)"))])))
        return .object(members)
    }

    /// The schemas, by URN.
    static func schemas(base: String) -> [(id: String, document: SCIMJSON)] {
        let user = schema(id: userSchema, name: "User", description: "A member of the organization", base: base, attributes: [
            attribute("userName", required: true, uniqueness: "server",
                      description: "The identity provider's unique name for the person; an email address binds like one"),
            attribute("name", type: "complex", subAttributes: [
                attribute("givenName", description: "Given name"),
                attribute("familyName", description: "Family name"),
            ], description: "The person's name"),
            attribute("displayName", description: "The name to display"),
            attribute("active", type: "boolean", required: true,
                      description: "Whether the person is a member now: false ends the membership at once, true restores it (true when not sent)"),
            attribute("emails", type: "complex", multiValued: true, subAttributes: [
                attribute("value", description: "The address that binds the SMTA user who verified it"),
            ], description: "Email addresses; SMTA keeps one: the one marked primary, else the work one, else the first"),
            attribute("groups", type: "complex", multiValued: true, mutability: "readOnly", subAttributes: [
                attribute("value", mutability: "readOnly", description: "The group's id"),
                attribute("$ref", type: "reference", mutability: "readOnly", referenceTypes: ["Group"], description: "The group's URI"),
            ], description: "The groups the person belongs to (change them through /Groups)"),
        ])
        let userExtension = schema(id: userExtensionSchema, name: "SMTA User", description: "SMTA's attributes of a member", base: base, attributes: [
            attribute("role", canonicalValues: ["manager"],
                      description: "The organization role: manager or one of the organization's own roles no higher, never super_admin; unassigned, the default role team (which is never returned)"),
        ])
        let group = schema(id: groupSchema, name: "Group", description: "A unit of the organization", base: base, attributes: [
            attribute("displayName", required: true, description: "The unit's name"),
            attribute("members", type: "complex", multiValued: true, subAttributes: [
                attribute("value", mutability: "immutable", description: "The member's User id"),
                attribute("$ref", type: "reference", mutability: "immutable", referenceTypes: ["User"], description: "The member's URI"),
                attribute("type", mutability: "immutable", canonicalValues: ["User"], description: "Always User"),
            ], description: "The group's members (Users of the same organization)"),
        ])
        return [(userSchema, user), (userExtensionSchema, userExtension), (groupSchema, group)]
    }

    private static func schema(id: String, name: String, description: String, base: String, attributes: [SCIMJSON]) -> SCIMJSON {
        .object([
            (name: "schemas", value: .array([.string(schemaSchema)])),
            (name: "id", value: .string(id)),
            (name: "name", value: .string(name)),
            (name: "description", value: .string(description)),
            (name: "attributes", value: .array(attributes)),
            (name: "meta", value: .object([
                (name: "resourceType", value: .string("Schema")),
                (name: "location", value: .string("\(base)/Schemas/\(id)")),
            ])),
        ])
    }

    private static func attribute(
        _ name: String, type: String = "string", multiValued: Bool = false, required: Bool = false,
        mutability: String = "readWrite", uniqueness: String = "none", canonicalValues: [String] = [],
        referenceTypes: [String] = [], subAttributes: [SCIMJSON] = [], description: String
    ) -> SCIMJSON {
        var members: [(name: String, value: SCIMJSON)] = [
            ("name", .string(name)),
            ("type", .string(type)),
            ("multiValued", .bool(multiValued)),
            ("description", .string(description)),
            ("required", .bool(required)),
        ]
        if type == "string" || type == "reference" {
            members.append(("caseExact", .bool(false)))
        }
        if !canonicalValues.isEmpty {
            members.append(("canonicalValues", .array(canonicalValues.map(SCIMJSON.string))))
        }
        if !referenceTypes.isEmpty {
            members.append(("referenceTypes", .array(referenceTypes.map(SCIMJSON.string))))
        }
        if !subAttributes.isEmpty {
            members.append(("subAttributes", .array(subAttributes)))
        }
        members.append(("mutability", .string(mutability)))
        members.append(("returned", .string("default")))
        members.append(("uniqueness", .string(uniqueness)))
        return .object(members)
    }

    /// A `ListResponse` of `resources`.
    static func list(_ resources: [SCIMJSON], total: Int, startIndex: Int) -> SCIMJSON {
        .object([
            (name: "schemas", value: .array([.string(listSchema)])),
            (name: "totalResults", value: .number(Double(total))),
            (name: "startIndex", value: .number(Double(startIndex))),
            (name: "itemsPerPage", value: .number(Double(resources.count))),
            (name: "Resources", value: .array(resources)),
        ])
    }
}
