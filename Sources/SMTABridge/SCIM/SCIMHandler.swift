import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import SMTACore

/// The SCIM 2.0 endpoints (RFC 7644) under `/scim/v2`: an organization's identity provider
/// provisions its Users (members) and Groups (units) with the organization's SCIM token.
///
/// Every `/Users` and `/Groups` request presents the token as `Authorization: Bearer`; it is
/// looked up by its SHA-256 (`platform.authenticate_scim_token`: the database compares digests,
/// so the time a lookup takes tells nothing of the token), and every call then names only the
/// token, never an organization: the `platform.scim_*` functions act on the token's
/// organization and answer another organization's ids as unknown. The token is never logged.
/// The discovery documents (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`) describe the
/// server only and are served without it.
///
/// PATCH reads the resource, applies the operations (``SCIMPatch``) and writes the result whole
/// under the version it read (`p_if_version`), so concurrent changes are never lost: a change in
/// between makes the write fail, and the PATCH is applied again to the new version.
struct SCIMHandler: Sendable {
    let pool: RenewablePool
    let availability: DatabaseAvailability
    let maxBodySize: Int
    let rateLimiter: SCIMRateLimiter

    /// The path the endpoints live under.
    static let prefix = "/scim/v2"

    /// Adds the endpoints to `router`, each bounded by `timeout`.
    func add(to router: Router<BasicRequestContext>, timeout: Duration) {
        func route(_ path: String, _ method: HTTPRequest.Method, _ answer: @escaping @Sendable (Request, BasicRequestContext) async -> Response) {
            router.on(RouterPath("\(Self.prefix)\(path)"), method: method) { request, context in
                await Deadline.run(within: timeout) { await answer(request, context) }
            }
        }
        route("/ServiceProviderConfig", .get) { request, _ in Self.ok(SCIMDiscovery.serviceProviderConfig(base: Self.base(request))) }
        route("/ResourceTypes", .get) { request, _ in
            let types = SCIMDiscovery.resourceTypes(base: Self.base(request)).map(\.document)
            return Self.ok(SCIMDiscovery.list(types, total: types.count, startIndex: 1))
        }
        route("/ResourceTypes/:id", .get) { request, context in
            let id = context.parameters.get("id") ?? ""
            guard let type = SCIMDiscovery.resourceTypes(base: Self.base(request)).first(where: { $0.id == id }) else {
                return SCIMError.notFound("ResourceType", id: id).response()
            }
            return Self.ok(type.document)
        }
        route("/Schemas", .get) { request, _ in
            let schemas = SCIMDiscovery.schemas(base: Self.base(request)).map(\.document)
            return Self.ok(SCIMDiscovery.list(schemas, total: schemas.count, startIndex: 1))
        }
        route("/Schemas/:id", .get) { request, context in
            let id = context.parameters.get("id") ?? ""
            guard let schema = SCIMDiscovery.schemas(base: Self.base(request)).first(where: { $0.id.caseInsensitiveCompare(id) == .orderedSame }) else {
                return SCIMError.notFound("Schema", id: id).response()
            }
            return Self.ok(schema.document)
        }
        for kind in ResourceKind.allCases {
            route("/\(kind.rawValue)", .get) { request, context in await authenticated(request, context) { token, logger in try await list(kind, request, token, logger) } }
            route("/\(kind.rawValue)", .post) { request, context in await authenticated(request, context) { token, logger in try await create(kind, request, token, logger) } }
            route("/\(kind.rawValue)/:id", .get) { request, context in
                await authenticated(request, context) { token, logger in try await get(kind, try Self.id(context), request, token, logger) }
            }
            route("/\(kind.rawValue)/:id", .put) { request, context in
                await authenticated(request, context) { token, logger in try await replace(kind, try Self.id(context), request, token, logger) }
            }
            route("/\(kind.rawValue)/:id", .patch) { request, context in
                await authenticated(request, context) { token, logger in try await patch(kind, try Self.id(context), request, token, logger) }
            }
            route("/\(kind.rawValue)/:id", .delete) { request, context in
                await authenticated(request, context) { token, logger in try await delete(kind, try Self.id(context), request, token, logger) }
            }
        }
        for path in ["/Bulk", "/Me", "/.search", "/Users/.search", "/Groups/.search"] {
            route(path, .post) { _, _ in
                SCIMError(status: .notImplemented, detail: "\(path.dropFirst()) is not supported (see /ServiceProviderConfig)").response()
            }
        }
        // The discovery documents are read-only; anything else under the prefix does not exist.
        for path in ["/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/:id", "/Schemas", "/Schemas/:id"] {
            for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
                route(path, method) { _, _ in SCIMError(status: .methodNotAllowed, detail: "\(path.dropFirst()) is read-only").response() }
            }
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            route("/**", method) { request, _ in
                SCIMError(status: .notFound, detail: "No SCIM endpoint at \(request.uri.path.prefix(200))").response()
            }
        }
    }

    /// The two resource types.
    enum ResourceKind: String, CaseIterable, Sendable {
        case users = "Users"
        case groups = "Groups"

        var name: String { self == .users ? "User" : "Group" }
    }

    /// A token the database accepted.
    struct Token: Sendable {
        let id: UUID
        let organizationID: UUID
    }

    // MARK: - Requests

    private func authenticated(
        _ request: Request, _ context: BasicRequestContext, _ work: (Token, Logger) async throws -> Response
    ) async -> Response {
        do {
            guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else {
                throw Self.unauthorized("Send the organization's SCIM token as Authorization: Bearer")
            }
            if availability.isDown {
                var error = SCIMError(status: .serviceUnavailable, detail: "The database is unavailable; retry shortly")
                error.headers[.retryAfter] = "1"
                throw error
            }
            let secret = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            let query: PostgresQuery = "select token_id, organization_id from platform.authenticate_scim_token(\(secret))"
            let rows = try await pool.withConnection { try await $0.guardedQuery(query, logger: context.logger) }
            guard let (id, organization) = try rows.first?.decode((UUID, UUID).self) else {
                throw Self.unauthorized("The SCIM token is unknown or revoked")
            }
            let token = Token(id: id, organizationID: organization)
            if let wait = rateLimiter.admit(token.id) {
                var error = SCIMError(status: .tooManyRequests, detail: "Too many requests for this SCIM token; retry after \(wait) s")
                error.headers[.retryAfter] = String(wait)
                throw error
            }
            return try await work(token, context.logger)
        } catch let error as SCIMError {
            return error.response()
        } catch let error as DatabaseError {
            availability.noteFailure(error)
            return Self.scimError(error, context: context).response()
        } catch where Task.isCancelled {
            return SCIMError(status: .gatewayTimeout, detail: "The request exceeded its time budget").response()
        } catch {
            context.logger.error("SCIM request failed", metadata: ["error": "\(String(reflecting: error))"])
            return SCIMError(status: .internalServerError, detail: "Request \(context.id) failed; the server log has the details").response()
        }
    }

    private func list(_ kind: ResourceKind, _ request: Request, _ token: Token, _ logger: Logger) async throws -> Response {
        let parameters = RPCArguments.parameters(request.uri.query)
        let projection = try SCIMProjection(parameters)
        let (function, alias, columns, filterColumns) = kind == .users
            ? ("platform.scim_users", "u", SCIMUser.columns, SCIMUser.filterColumns)
            : ("platform.scim_groups", "g", SCIMGroup.columns, SCIMGroup.filterColumns)
        var bindings = PostgresBindings()
        bindings.append(token.id)
        bindings.append(projection.count)
        bindings.append(projection.startIndex - 1)
        var condition = "true"
        if let text = parameters.last(where: { $0.0.lowercased() == "filter" })?.1 {
            let (sql, values) = try SCIMFilter.parse(text).sql(columns: filterColumns, firstParameter: 4)
            condition = sql
            for value in values { bindings.append(value) }
        }
        let qualified = columns.split(separator: ",").map { "\(alias).\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")
        let query = PostgresQuery(
            unsafeSQL: """
                select \(qualified)
                from \(function)($1) as \(alias)
                where \(condition)
                order by \(alias).created_at, \(alias).id
                limit $2 offset $3
                """,
            binds: bindings)
        let rows = try await pool.withConnection { try await $0.guardedQuery(query, logger: logger) }
        // A short first page is the whole list; otherwise the matches are counted.
        let total = projection.startIndex == 1 && rows.count < projection.count
            ? rows.count
            : try await count(function: function, alias: alias, condition: condition, bindings: bindings, logger: logger)
        let base = Self.base(request)
        let resources = try rows.map { row in projection.apply(to: try Self.document(kind, row, base: base)) }
        return Self.ok(SCIMDiscovery.list(resources, total: total, startIndex: projection.startIndex))
    }

    /// The number of resources the filter matches (the page's own parameters bound, unused).
    private func count(function: String, alias: String, condition: String, bindings: PostgresBindings, logger: Logger) async throws -> Int {
        let query = PostgresQuery(
            unsafeSQL: "select count(*) from \(function)($1) as \(alias) where \(condition) and $2::int is not null and $3::int is not null",
            binds: bindings)
        let rows = try await pool.withConnection { try await $0.guardedQuery(query, logger: logger) }
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }

    private func get(_ kind: ResourceKind, _ id: UUID, _ request: Request, _ token: Token, _ logger: Logger) async throws -> Response {
        let projection = try SCIMProjection(RPCArguments.parameters(request.uri.query))
        let (document, version) = try await read(kind, id, token, base: Self.base(request), logger: logger)
        return Self.ok(projection.apply(to: document), version: version)
    }

    private func create(_ kind: ResourceKind, _ request: Request, _ token: Token, _ logger: Logger) async throws -> Response {
        let body = try await Self.body(request, limit: maxBodySize)
        let query = try Self.wholeWrite(kind, body, replacing: nil, ifVersion: nil, token: token)
        let (document, version) = try await write(kind, query, base: Self.base(request), logger: logger)
        var response = Self.ok(document, version: version, status: .created)
        if let location = document["meta"]?["location"]?.string {
            response.headers[.location] = location
        }
        return response
    }

    private func replace(_ kind: ResourceKind, _ id: UUID, _ request: Request, _ token: Token, _ logger: Logger) async throws -> Response {
        let ifMatch = try SCIMMeta.version(ifMatch: request.headers[.ifMatch])
        let body = try await Self.body(request, limit: maxBodySize)
        let (document, version) = try await replace(kind, id, with: body, ifVersion: ifMatch, token: token, base: Self.base(request), logger: logger)
        return Self.ok(document, version: version)
    }

    private func patch(_ kind: ResourceKind, _ id: UUID, _ request: Request, _ token: Token, _ logger: Logger) async throws -> Response {
        let ifMatch = try SCIMMeta.version(ifMatch: request.headers[.ifMatch])
        let patch = try SCIMPatch(try await Self.body(request, limit: maxBodySize))
        let base = Self.base(request)
        let resource = kind == .users ? SCIMUser.patchResource : SCIMGroup.patchResource
        // Read, apply, write what changed under the version read; a change in between (SC412
        // without If-Match) is applied again to the new version.
        for attempt in 1...Self.patchAttempts {
            let (current, version) = try await read(kind, id, token, base: base, logger: logger)
            if let ifMatch, ifMatch != version {
                throw SCIMError(status: .preconditionFailed, detail: "The resource changed: its version is \(SCIMMeta.etag(version))")
            }
            let patched = try patch.applied(to: current, resource: resource)
            guard let query = try Self.change(kind, id, from: current, to: patched, version: version, ifMatch: ifMatch, token: token) else {
                return Self.ok(current, version: version)
            }
            do {
                let (document, newVersion) = try await write(kind, query, base: base, logger: logger)
                return Self.ok(document, version: newVersion)
            } catch let error as DatabaseError where error.sqlState == "SC412" && ifMatch == nil && attempt < Self.patchAttempts {
                continue
            }
        }
        throw SCIMError(status: .conflict, detail: "The resource kept changing; retry the PATCH")
    }

    /// The write that takes a resource from `current` to `patched` under `version`, naming only
    /// what changed (nil when nothing did): a User's changed attributes
    /// (`platform.scim_update_user`), a Group's added or removed members alone
    /// (`scim_add_group_members` / `scim_remove_group_members`, so a large group is not rewritten
    /// for one member), its changed name or external id alone (`scim_update_group`), else the
    /// whole Group (`scim_replace_group`). Members added or removed commute with any other
    /// change, so they are written under the client's `If-Match` only; everything else under
    /// the version read.
    private static func change(
        _ kind: ResourceKind, _ id: UUID, from current: SCIMJSON, to patched: SCIMJSON, version: Int32, ifMatch: Int32?, token: Token
    ) throws(SCIMError) -> PostgresQuery? {
        switch kind {
        case .users:
            let before = try SCIMUser.changes(from: current).members ?? []
            let after = try SCIMUser.changes(from: patched).members ?? []
            let changed = after.filter { member in before.first { $0.name == member.name }?.value != member.value }
            guard !changed.isEmpty else { return nil }
            return """
                select \(unescaped: SCIMUser.columns)
                from platform.scim_update_user(\(token.id), \(id), \(SCIMJSON.object(changed).text)::jsonb, \(version))
                """
        case .groups:
            let before = try SCIMGroup.parts(of: current), after = try SCIMGroup.parts(of: patched)
            let added = after.memberIDs.filter { !before.memberIDs.contains($0) }
            let removed = before.memberIDs.filter { !after.memberIDs.contains($0) }
            let renamed = before.displayName != after.displayName || before.externalID != after.externalID
            switch (renamed, added.isEmpty, removed.isEmpty) {
            case (false, true, true):
                return nil
            case (false, false, true):
                return "select \(unescaped: SCIMGroup.columns) from platform.scim_add_group_members(\(token.id), \(id), \(added), \(ifMatch))"
            case (false, true, false):
                return "select \(unescaped: SCIMGroup.columns) from platform.scim_remove_group_members(\(token.id), \(id), \(removed), \(ifMatch))"
            case (true, true, true):
                var changes: [(name: String, value: SCIMJSON)] = []
                if before.displayName != after.displayName {
                    changes.append(("display_name", after.displayName.map(SCIMJSON.string) ?? .null))
                }
                if before.externalID != after.externalID {
                    changes.append(("external_id", after.externalID.map(SCIMJSON.string) ?? .null))
                }
                return """
                    select \(unescaped: SCIMGroup.columns)
                    from platform.scim_update_group(\(token.id), \(id), \(SCIMJSON.object(changes).text)::jsonb, \(version))
                    """
            default:
                return """
                    select \(unescaped: SCIMGroup.columns)
                    from platform.scim_replace_group(\(token.id), \(id), \(after.displayName), \(after.externalID), \(after.memberIDs), \(version))
                    """
            }
        }
    }

    /// How many times a PATCH is applied again when the resource changed under it.
    static let patchAttempts = 3

    private func delete(_ kind: ResourceKind, _ id: UUID, _ request: Request, _ token: Token, _ logger: Logger) async throws -> Response {
        let ifMatch = try SCIMMeta.version(ifMatch: request.headers[.ifMatch])
        let query: PostgresQuery = kind == .users
            ? "select platform.scim_delete_user(\(token.id), \(id), \(ifMatch))::text"
            : "select platform.scim_delete_group(\(token.id), \(id), \(ifMatch))::text"
        _ = try await pool.withConnection { try await $0.committedQuery(query, logger: logger) }
        return Response(status: .noContent)
    }

    // MARK: - Database

    private func read(_ kind: ResourceKind, _ id: UUID, _ token: Token, base: String, logger: Logger) async throws -> (SCIMJSON, Int32) {
        let query: PostgresQuery = kind == .users
            ? "select \(unescaped: SCIMUser.columns) from platform.scim_get_user(\(token.id), \(id))"
            : "select \(unescaped: SCIMGroup.columns) from platform.scim_get_group(\(token.id), \(id))"
        let rows = try await pool.withConnection { try await $0.guardedQuery(query, logger: logger) }
        guard let row = rows.first else {
            throw SCIMError.notFound(kind.name, id: id.uuidString.lowercased())
        }
        return try Self.resource(kind, row, base: base)
    }

    private func replace(
        _ kind: ResourceKind, _ id: UUID, with document: SCIMJSON, ifVersion: Int32?, token: Token, base: String, logger: Logger
    ) async throws -> (SCIMJSON, Int32) {
        try await write(kind, try Self.wholeWrite(kind, document, replacing: id, ifVersion: ifVersion, token: token), base: base, logger: logger)
    }

    /// The statement writing a whole resource from its document: a creation (POST), or the
    /// replacement of `id` (PUT) under `ifVersion`.
    private static func wholeWrite(
        _ kind: ResourceKind, _ document: SCIMJSON, replacing id: UUID?, ifVersion: Int32?, token: Token
    ) throws(SCIMError) -> PostgresQuery {
        switch (kind, id) {
        case (.users, nil):
            let changes = try SCIMUser.changes(from: document)
            return "select \(unescaped: SCIMUser.columns) from platform.scim_create_user(\(token.id), \(changes.text)::jsonb)"
        case (.users, let id?):
            let changes = try SCIMUser.changes(from: document)
            return "select \(unescaped: SCIMUser.columns) from platform.scim_replace_user(\(token.id), \(id), \(changes.text)::jsonb, \(ifVersion))"
        case (.groups, nil):
            let parts = try SCIMGroup.parts(of: document)
            return """
                select \(unescaped: SCIMGroup.columns)
                from platform.scim_create_group(\(token.id), \(parts.displayName), \(parts.externalID), \(parts.memberIDs))
                """
        case (.groups, let id?):
            let parts = try SCIMGroup.parts(of: document)
            return """
                select \(unescaped: SCIMGroup.columns)
                from platform.scim_replace_group(\(token.id), \(id), \(parts.displayName), \(parts.externalID), \(parts.memberIDs), \(ifVersion))
                """
        }
    }

    private func write(_ kind: ResourceKind, _ query: PostgresQuery, base: String, logger: Logger) async throws -> (SCIMJSON, Int32) {
        let rows = try await pool.withConnection { try await $0.committedQuery(query, logger: logger) }
        guard let row = rows.first else {
            throw DatabaseError(sqlState: "XX000", message: "a SCIM write returned no row")
        }
        return try Self.resource(kind, row, base: base)
    }

    private static func resource(_ kind: ResourceKind, _ row: PostgresRow, base: String) throws -> (SCIMJSON, Int32) {
        switch kind {
        case .users:
            let user = try SCIMUser(row)
            return (user.document(base: base), user.version)
        case .groups:
            let group = try SCIMGroup(row)
            return (group.document(base: base), group.version)
        }
    }

    private static func document(_ kind: ResourceKind, _ row: PostgresRow, base: String) throws -> SCIMJSON {
        try resource(kind, row, base: base).0
    }

    // MARK: - HTTP

    private static func id(_ context: BasicRequestContext) throws(SCIMError) -> UUID {
        let text = context.parameters.get("id") ?? ""
        guard let id = UUID(uuidString: text) else {
            throw SCIMError.notFound("Resource", id: String(text.prefix(64)))
        }
        return id
    }

    private static func body(_ request: Request, limit: Int) async throws -> SCIMJSON {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw SCIMError(status: .contentTooLarge, detail: "The request body is larger than \(limit) bytes")
        }
        return try SCIMJSON.parse(Array(buffer.readableBytesView))
    }

    /// The endpoints' absolute URL, for `meta.location`: the request's host, with the scheme a
    /// proxy in front reports (`X-Forwarded-Proto`), else `http`.
    static func base(_ request: Request) -> String {
        let host = request.head.authority ?? "localhost"
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "https" : "http"
        return "\(scheme)://\(host)\(prefix)"
    }

    private static func ok(_ document: SCIMJSON, version: Int32? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [.contentType: SCIMError.contentType]
        if let version {
            headers[.eTag] = SCIMMeta.etag(version)
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: document.text)))
    }

    private static func unauthorized(_ detail: String) -> SCIMError {
        var error = SCIMError(status: .unauthorized, detail: detail)
        error.headers[.wwwAuthenticate] = "Bearer realm=\"SCIM\""
        return error
    }

    /// The SCIM answer to a database error. The SCIM functions' own errors carry their message
    /// (written for the identity provider's administrator); any other is withheld.
    static func scimError(_ error: DatabaseError, context: BasicRequestContext) -> SCIMError {
        switch error.sqlState {
        case "28000"?: return unauthorized(error.message)
        case "P0002"?: return SCIMError(status: .notFound, detail: error.message)
        case "23505"?: return SCIMError(status: .conflict, scimType: .uniqueness, detail: error.message)
        case "SC412"?: return SCIMError(status: .preconditionFailed, detail: error.message)
        case "42501"?, "P0001"?: return SCIMError(status: .forbidden, detail: error.message)
        case "22023"?, "22001"?, "22P02"?: return SCIMError(status: .badRequest, scimType: .invalidValue, detail: error.message)
        case "22007"?, "22008"?: return SCIMError(status: .badRequest, scimType: .invalidFilter, detail: error.message)
        case nil:
            context.logger.error("SCIM call failed", metadata: ["error": "\(error)"])
            var unavailable = SCIMError(status: .serviceUnavailable, detail: "The database did not answer; retry shortly")
            unavailable.headers[.retryAfter] = "1"
            return unavailable
        default:
            context.logger.error("SCIM call failed", metadata: ["error": "\(error)"])
            return SCIMError(status: .internalServerError, detail: "Request \(context.id) failed; the server log has the details")
        }
    }
}
