import Foundation
import PostgresNIO

/// A SCIM User as `platform.scim_users` and its siblings return it, and the JSON of RFC 7643
/// §4.1 the bridge answers with.
struct SCIMUser: Sendable {
    let id: UUID
    let userName: String
    let externalID: String?
    let email: String?
    let displayName: String?
    let givenName: String?
    let familyName: String?
    let active: Bool
    let role: String
    let groupIDs: [UUID]
    let version: Int32
    let created: Date
    let lastModified: Date

    /// The columns every user function returns, in this order.
    static let columns =
        "id, user_name, external_id, email, display_name, given_name, family_name, active, role, group_ids, version, created_at, updated_at"

    init(_ row: PostgresRow) throws {
        (id, userName, externalID, email, displayName, givenName, familyName, active, role, groupIDs, version, created, lastModified) =
            try row.decode((UUID, String, String?, String?, String?, String?, String?, Bool, String, [UUID], Int32, Date, Date).self)
    }

    /// What filters may name, and the columns of `platform.scim_users(…) as u` they read.
    static let filterColumns = SCIMFilterColumns(
        schemas: [SCIMDiscovery.userSchema.lowercased(), SCIMDiscovery.userExtensionSchema.lowercased()],
        attributes: [
            "id": .simple(.init(sql: "u.id::text", kind: .text(caseExact: false))),
            "username": .simple(.init(sql: "u.user_name", kind: .text(caseExact: false))),
            "externalid": .simple(.init(sql: "u.external_id", kind: .text(caseExact: true))),
            "displayname": .simple(.init(sql: "u.display_name", kind: .text(caseExact: false))),
            "active": .simple(.init(sql: "u.active", kind: .boolean)),
            "role": .simple(.init(sql: "u.role", kind: .text(caseExact: false))),
            "name": .complex([
                "givenname": .init(sql: "u.given_name", kind: .text(caseExact: false)),
                "familyname": .init(sql: "u.family_name", kind: .text(caseExact: false)),
            ]),
            "emails": .multiValued(
                values: nil, subAttributes: ["value": .init(sql: "u.email", kind: .text(caseExact: false))],
                defaultSubAttribute: "value"),
            "groups": .multiValued(
                values: "pg_catalog.unnest(u.group_ids) as _g(id)",
                subAttributes: ["value": .init(sql: "_g.id::text", kind: .text(caseExact: false))], defaultSubAttribute: "value"),
            "meta": .complex([
                "created": .init(sql: "u.created_at", kind: .dateTime),
                "lastmodified": .init(sql: "u.updated_at", kind: .dateTime),
            ]),
        ])

    /// What PATCH needs to know of a User.
    static let patchResource = SCIMPatch.Resource(
        schema: SCIMDiscovery.userSchema.lowercased(), extensions: [SCIMDiscovery.userExtensionSchema.lowercased()],
        multiValued: ["emails", "groups"], required: ["username", "active"])

    /// The role a User has when none is given (`role` unassigned).
    static let defaultRole = "team"

    /// The resource's JSON; `base` is the SCIM endpoints' URL (`…/scim/v2`).
    func document(base: String) -> SCIMJSON {
        let location = "\(base)/Users/\(id.uuidString.lowercased())"
        var name: SCIMJSON?
        if givenName != nil || familyName != nil {
            name = .compactObject([("givenName", givenName.map(SCIMJSON.string)), ("familyName", familyName.map(SCIMJSON.string))])
        }
        return .compactObject([
            ("schemas", .array([.string(SCIMDiscovery.userSchema)] + (role == Self.defaultRole ? [] : [.string(SCIMDiscovery.userExtensionSchema)]))),
            ("id", .string(id.uuidString.lowercased())),
            ("externalId", externalID.map(SCIMJSON.string)),
            ("userName", .string(userName)),
            ("name", name),
            ("displayName", displayName.map(SCIMJSON.string)),
            ("active", .bool(active)),
            ("emails", email.map { .array([.object([("value", .string($0))])]) }),
            ("groups", groupIDs.isEmpty ? nil : .array(groupIDs.map { group in
                .object([("value", .string(group.uuidString.lowercased())), ("$ref", .string("\(base)/Groups/\(group.uuidString.lowercased())"))])
            })),
            // The default role is the unassigned one: a member with it carries no extension.
            (SCIMDiscovery.userExtensionSchema, role == Self.defaultRole ? nil : .object([("role", .string(role))])),
            ("meta", SCIMMeta.document(resourceType: "User", created: created, lastModified: lastModified, version: version, location: location)),
        ])
    }

    /// The attributes of a User document (a POST or PUT body, or a patched document) as the SQL
    /// functions take them: `user_name`, `external_id`, `display_name`, `given_name`,
    /// `family_name`, `email` (the primary address, else the only one), `active`, `role`.
    /// Attributes the bridge does not keep are ignored; `id`, `meta` and `groups` are read-only.
    /// - Throws: ``SCIMError`` 400 `invalidValue` for a value of the wrong type.
    static func changes(from document: SCIMJSON) throws(SCIMError) -> SCIMJSON {
        guard document.members != nil else {
            throw SCIMError(status: .badRequest, scimType: .invalidSyntax, detail: "A User must be a JSON object")
        }
        func text(_ value: SCIMJSON?, _ attribute: String) throws(SCIMError) -> SCIMJSON {
            switch value {
            case nil, .null?: return .null
            case .string(let text)?: return .string(text)
            default: throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "\(attribute) must be a string")
            }
        }
        var active = SCIMJSON.null
        switch document["active"] {
        case nil, .null?: break
        case .bool(let flag)?: active = .bool(flag)
        // Entra ID writes booleans as strings in some requests.
        case .string(let text)? where ["true", "false"].contains(text.lowercased()): active = .bool(text.lowercased() == "true")
        default: throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "active must be true or false")
        }
        let name = document["name"]
        if let name, name != .null, name.members == nil {
            throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "name must be an object")
        }
        var email = SCIMJSON.null
        if let emails = document["emails"], emails != .null {
            guard let list = emails.elements, list.allSatisfy({ $0.members != nil }) else {
                throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "emails must be an array of objects")
            }
            let primary = list.first { $0["primary"] == .bool(true) || $0["primary"] == .string("true") } ?? (list.count == 1 ? list.first : nil)
                ?? list.first { $0["type"]?.string?.lowercased() == "work" } ?? list.first
            email = try text(primary?["value"], "emails.value")
        }
        let userName = try text(document["userName"], "userName")
        if email == .null, let name = userName.string, Self.looksLikeEmail(name) {
            // Okta's default: the userName is the person's email, and no emails are sent.
            email = .string(name)
        }
        let extensionRole = document[SCIMDiscovery.userExtensionSchema]?["role"]
        return .object([
            ("user_name", userName),
            ("external_id", try text(document["externalId"], "externalId")),
            ("display_name", try text(document["displayName"], "displayName")),
            ("given_name", try text(name?["givenName"], "name.givenName")),
            ("family_name", try text(name?["familyName"], "name.familyName")),
            ("email", email),
            ("active", active),
            ("role", try text(extensionRole, "role")),
        ])
    }
}

extension SCIMUser {
    /// Whether `text` is shaped like an email address (`local@domain.tld`, no spaces): a
    /// userName that binds like an email when no emails are sent.
    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !text.contains(where: \.isWhitespace) else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }
}

/// The `meta` of a SCIM resource (RFC 7643 §3.1), with its version as a weak ETag.
enum SCIMMeta {
    static func document(resourceType: String, created: Date, lastModified: Date, version: Int32, location: String) -> SCIMJSON {
        .object([
            ("resourceType", .string(resourceType)),
            ("created", .string(timestamp(created))),
            ("lastModified", .string(timestamp(lastModified))),
            ("location", .string(location)),
            ("version", .string(etag(version))),
        ])
    }

    /// The weak ETag of a version: `W/"3"`.
    static func etag(_ version: Int32) -> String {
        "W/\"\(version)\""
    }

    /// The version an `If-Match` header names: nil for none or `*` (any version).
    /// - Throws: ``SCIMError`` 412 when it names no version this server could have written.
    static func version(ifMatch header: String?) throws(SCIMError) -> Int32? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty, header != "*" else { return nil }
        var tag = Substring(header)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        guard tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 3, let version = Int32(tag.dropFirst().dropLast()) else {
            throw SCIMError(status: .preconditionFailed, detail: "If-Match names no version of this resource")
        }
        return version
    }

    private static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
