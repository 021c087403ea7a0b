import Foundation
import PostgresNIO

/// A SCIM Group (a unit of the organization) as `platform.scim_groups` and its siblings return
/// it, and the JSON of RFC 7643 §4.2 the bridge answers with.
struct SCIMGroup: Sendable {
    let id: UUID
    let displayName: String
    let externalID: String?
    let memberIDs: [UUID]
    let version: Int32
    let created: Date
    let lastModified: Date

    /// The columns every group function returns, in this order.
    static let columns = "id, display_name, external_id, member_ids, version, created_at, updated_at"

    init(_ row: PostgresRow) throws {
        (id, displayName, externalID, memberIDs, version, created, lastModified) =
            try row.decode((UUID, String, String?, [UUID], Int32, Date, Date).self)
    }

    /// What filters may name, and the columns of `platform.scim_groups(…) as g` they read.
    static let filterColumns = SCIMFilterColumns(
        schemas: [SCIMDiscovery.groupSchema.lowercased()],
        attributes: [
            "id": .simple(.init(sql: "g.id::text", kind: .text(caseExact: false))),
            "displayname": .simple(.init(sql: "g.display_name", kind: .text(caseExact: false))),
            "externalid": .simple(.init(sql: "g.external_id", kind: .text(caseExact: true))),
            "members": .multiValued(
                values: "pg_catalog.unnest(g.member_ids) as _m(id)",
                subAttributes: ["value": .init(sql: "_m.id::text", kind: .text(caseExact: false))], defaultSubAttribute: "value"),
            "meta": .complex([
                "created": .init(sql: "g.created_at", kind: .dateTime),
                "lastmodified": .init(sql: "g.updated_at", kind: .dateTime),
            ]),
        ])

    /// What PATCH needs to know of a Group.
    static let patchResource = SCIMPatch.Resource(
        schema: SCIMDiscovery.groupSchema.lowercased(), extensions: [], multiValued: ["members"], required: ["displayname"])

    /// The resource's JSON; `base` is the SCIM endpoints' URL (`…/scim/v2`).
    func document(base: String) -> SCIMJSON {
        let location = "\(base)/Groups/\(id.uuidString.lowercased())"
        return .compactObject([
            ("schemas", .array([.string(SCIMDiscovery.groupSchema)])),
            ("id", .string(id.uuidString.lowercased())),
            ("externalId", externalID.map(SCIMJSON.string)),
            ("displayName", .string(displayName)),
            ("members", memberIDs.isEmpty ? nil : .array(memberIDs.map { member in
                .object([
                    ("value", .string(member.uuidString.lowercased())),
                    ("$ref", .string("\(base)/Users/\(member.uuidString.lowercased())")),
                    ("type", .string("User")),
                ])
            })),
            ("meta", SCIMMeta.document(resourceType: "Group", created: created, lastModified: lastModified, version: version, location: location)),
        ])
    }

    /// The parts of a Group document (a POST or PUT body, or a patched document) the SQL
    /// functions take: its display name, external id and member ids.
    /// - Throws: ``SCIMError`` 400 `invalidValue` for a value of the wrong type or a member that
    ///   is not a User id.
    static func parts(of document: SCIMJSON) throws(SCIMError) -> (displayName: String?, externalID: String?, memberIDs: [UUID]) {
        guard document.members != nil else {
            throw SCIMError(status: .badRequest, scimType: .invalidSyntax, detail: "A Group must be a JSON object")
        }
        func text(_ name: String) throws(SCIMError) -> String? {
            switch document[name] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "\(name) must be a string")
            }
        }
        var members: [UUID] = []
        if let list = document["members"], list != .null {
            guard let elements = list.elements else {
                throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "members must be an array")
            }
            for element in elements {
                guard let value = element["value"]?.string, let id = UUID(uuidString: value) else {
                    throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "Each member needs the value of a User id")
                }
                if let type = element["type"]?.string, type.lowercased() != "user" {
                    throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "Groups hold Users only, not \(type.prefix(20))")
                }
                if !members.contains(id) { members.append(id) }
            }
        }
        return (try text("displayName"), try text("externalId"), members)
    }
}
