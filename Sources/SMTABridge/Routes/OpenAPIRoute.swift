import Hummingbird
import Logging
import SMTACore
import SMTAHummingbird

/// `GET /` and `GET /rest/v1/`: the OpenAPI document of the functions the caller may execute
/// (``OpenAPIDocument``), as PostgREST serves one at its root. Without a credential that is what
/// `anon` may call; a refused credential is 401 as everywhere.
struct OpenAPIRoute: Sendable {
    let adapter: any IdentityAdapter
    let catalog: FunctionCatalog
    let availability: DatabaseAvailability

    func respond(to request: Request, context: some RequestContext, basePath: String) async -> Response {
        do {
            let identity: Identity
            do {
                identity = try await adapter.identify(Credentials(request.headers))
            } catch {
                RequestObservation.current?.recordRefusal(error)
                throw BridgeError(error)
            }
            if availability.isDown {
                throw BridgeError.databaseUnavailable(retryAfterSeconds: 1)
            }
            let functions = try await catalog.functions(executableBy: identity.role)
            let body = try OpenAPIDocument.json(OpenAPIDocument.make(functions: functions, role: identity.role, basePath: basePath))
            return Response(
                status: .ok, headers: [.contentType: "application/openapi+json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        } catch let error as BridgeError {
            return error.response()
        } catch {
            context.logger.warning("OpenAPI document unavailable", metadata: ["error": "\(DatabaseError(error))"])
            return BridgeError.databaseUnavailable(retryAfterSeconds: 1).response()
        }
    }
}

/// The OpenAPI document for command-line tools (`smta openapi`).
public enum BridgeOpenAPI {
    /// The document of the functions `role` may execute in `database`, as JSON.
    /// - Throws: `DatabaseError` when the catalog cannot be read.
    public static func document(database: DatabaseURL, role: Identity.Role, basePath: String = "/", logger: Logger) async throws -> [UInt8] {
        let catalog = try await database.withConnection(applicationName: "smta-openapi", logger: logger) { connection in
            try await FunctionCatalog.load(on: connection, logger: logger)
        }
        let functions = catalog.values.flatMap { $0 }.filter { $0.executableBy.contains(role) }
        return Array(try OpenAPIDocument.json(OpenAPIDocument.make(functions: functions, role: role, basePath: basePath)))
    }
}
