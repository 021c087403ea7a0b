import Foundation
import SMTACore

/// The bridge's API as an OpenAPI 3.0 document, generated from the function catalog the way
/// PostgREST serves one at its root: one path per function the caller's role may execute, its
/// arguments (types, defaults, required), its result shape, and its `comment on function` as
/// the description. Served at `GET /` and `GET /rest/v1/`; `smta openapi` prints it.
enum OpenAPIDocument {
    /// The document for `functions` (one entry per overload), served under `basePath`.
    static func make(functions: [RPCFunction], role: Identity.Role, basePath: String) -> [String: Any] {
        var paths: [String: Any] = [:]
        let sorted = functions.sorted { ($0.name, $0.signature) < ($1.name, $1.signature) }
        for (name, overloads) in Dictionary(grouping: sorted, by: \.name) {
            // PostgREST chooses an overload by the argument names sent: describe the first, and
            // list every signature in the description.
            guard let function = overloads.first else { continue }
            var item: [String: Any] = ["post": operation(function, overloads: overloads, method: "post")]
            if function.isReadOnly {
                item["get"] = operation(function, overloads: overloads, method: "get")
            }
            paths["/rpc/\(name)"] = item
        }
        let tags = Set(functions.map { domain(of: $0.name) }).sorted().map { ["name": $0] }
        return [
            "openapi": "3.0.3",
            "info": [
                "title": "SMTA bridge",
                "version": "0.8",
                "description": "SMTA's tenant API (PostgREST's RPC dialect): the public functions the caller's role "
                    + "(\(role.rawValue)) may execute. Call each with POST and a JSON object of named arguments, "
                    + "or with GET when it only reads.",
            ],
            "servers": [["url": basePath]],
            "tags": tags,
            "paths": paths,
            "components": [
                "securitySchemes": [
                    "bearer": ["type": "http", "scheme": "bearer", "description": "The platform's access token"],
                    "apikey": ["type": "apiKey", "in": "header", "name": "apikey"],
                ],
                "schemas": [
                    "Error": [
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": [
                            "code": ["type": "string"],
                            "message": ["type": "string"],
                            "details": ["type": "string", "nullable": true],
                            "hint": ["type": "string", "nullable": true],
                        ],
                    ]
                ],
            ],
            "security": [["bearer": [String]()], ["apikey": [String]()], [String: [String]]()],
        ]
    }

    /// The document as JSON text, keys sorted so that it diffs well.
    static func json(_ document: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }

    /// One operation of `function`.
    private static func operation(_ function: RPCFunction, overloads: [RPCFunction], method: String) -> [String: Any] {
        var description = function.summary ?? "public.\(function.signature)"
        if overloads.count > 1 {
            description += "\n\nOverloads: " + overloads.map { "public.\($0.signature)" }.joined(separator: "; ")
        }
        var operation: [String: Any] = [
            "operationId": method == "get" ? "\(function.name)_get" : function.name,
            "summary": summary(of: function),
            "description": description,
            "tags": [domain(of: function.name)],
            "responses": responses(function),
        ]
        let required = function.arguments.filter { !$0.hasDefault }.map(\.name)
        var parameters: [[String: Any]] = [Self.activeOrganizationParameter]
        if method == "post" {
            var schema: [String: Any] = [
                "type": "object",
                "properties": Dictionary(uniqueKeysWithValues: function.arguments.map { ($0.name, schemaFor($0.type)) }),
            ]
            if !required.isEmpty {
                schema["required"] = required
            }
            operation["requestBody"] = [
                "required": !required.isEmpty,
                "content": ["application/json": ["schema": schema]],
            ]
        } else {
            parameters += function.arguments.map { argument -> [String: Any] in
                ["name": argument.name, "in": "query", "required": !argument.hasDefault, "schema": schemaFor(argument.type)]
            }
        }
        operation["parameters"] = parameters
        return operation
    }

    /// `X-SMTA-Organization`, accepted by every operation.
    static var activeOrganizationParameter: [String: Any] {
        [
            "name": "X-SMTA-Organization", "in": "header", "required": false,
            "description": "Narrows the call to this organization, of which the caller must be a live member (403 otherwise).",
            "schema": ["type": "string", "format": "uuid"],
        ]
    }

    /// The first sentence of the function's comment, or its signature.
    private static func summary(of function: RPCFunction) -> String {
        guard let text = function.summary, !text.isEmpty else { return "public.\(function.signature)" }
        let firstLine = text.split(separator: "\n").first.map(String.init) ?? text
        return firstLine.count > 120 ? String(firstLine.prefix(117)) + "…" : firstLine
    }

    private static func responses(_ function: RPCFunction) -> [String: Any] {
        let error: [String: Any] = [
            "description": "PostgREST's error object (401 credential, 403 not allowed, 400 bad arguments or a raised "
                + "exception, 404 unknown function, 409 duplicate, 503 database unreachable)",
            "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
        ]
        if case .void = function.shape {
            return ["204": ["description": "Done; no content"], "default": error]
        }
        return [
            "200": [
                "description": "The function's result",
                "content": ["application/json": ["schema": resultSchema(function)]],
            ],
            "default": error,
        ]
    }

    private static func resultSchema(_ function: RPCFunction) -> [String: Any] {
        let row: [String: Any] = [
            "type": "object",
            "properties": Dictionary(
                uniqueKeysWithValues: function.columns.map { ($0, schemaFor(function.columnTypes[$0] ?? "text", nullable: true)) }),
        ]
        switch function.shape {
        case .void, .scalar: return schemaFor(function.resultType, nullable: true)
        case .row: return row
        case .rows, .singleColumnRows: return ["type": "array", "items": row]
        case .scalars: return ["type": "array", "items": schemaFor(function.resultType, nullable: true)]
        }
    }

    /// The JSON schema of a PostgreSQL type as PostgREST renders it.
    static func schemaFor(_ type: String, nullable: Bool = false) -> [String: Any] {
        var schema: [String: Any]
        if type.hasSuffix("[]") {
            schema = ["type": "array", "items": schemaFor(String(type.dropLast(2)))]
        } else {
            switch type {
            case "uuid": schema = ["type": "string", "format": "uuid"]
            case "integer", "smallint": schema = ["type": "integer", "format": "int32"]
            case "bigint": schema = ["type": "integer", "format": "int64"]
            case "numeric", "real", "double precision": schema = ["type": "number"]
            case "boolean": schema = ["type": "boolean"]
            case "json", "jsonb": schema = [:]
            case "timestamp with time zone", "timestamp without time zone": schema = ["type": "string", "format": "date-time"]
            case "date": schema = ["type": "string", "format": "date"]
            default: schema = ["type": "string"]
            }
        }
        if nullable, !schema.isEmpty {
            schema["nullable"] = true
        }
        return schema
    }

    /// The group a function belongs to, from the words of its name.
    static func domain(of name: String) -> String {
        let groups: [(word: String, tag: String)] = [
            ("invitation", "Invitations"), ("scim", "SCIM provisioning"), ("unit", "Units"), ("member", "Members"), ("secret", "Secrets"),
            ("file", "Files"), ("role", "Roles and permissions"), ("permission", "Roles and permissions"),
            ("audit", "Audit"), ("subscription", "Billing"), ("product", "Billing"), ("feature", "Billing"),
            ("profile", "Profile"), ("organization", "Organizations"), ("super_admin", "Organizations"),
        ]
        return groups.first { name.contains($0.word) }?.tag ?? "Other"
    }
}
