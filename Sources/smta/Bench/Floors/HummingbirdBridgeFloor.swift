import Hummingbird
import Logging
import SMTACore

/// The bridge's two stacks joined with none of its own work: Hummingbird answering the route
/// with `core.gate_call`'s result, sent through SMTACore's `Gate` over a pool of its own, for
/// a fixed caller.
///
/// What the bridge costs beneath its own work (the credential, the catalog, the arguments, the
/// result's shape, the deadline, metrics and the log line): the bridge's CPU per request less
/// this floor's is what SMTA's request path adds on Hummingbird's.
struct HummingbirdBridgeFloor: Sendable {
    let port: Int
    private let server: Task<Void, any Error>
    private let database: FloorGate

    /// Starts the floor on a free loopback port with a pool of `clients` connections.
    static func start(path: String, url: DatabaseURL, identity: Identity, statement: String, clients: Int) async throws -> HummingbirdBridgeFloor {
        let database = try FloorGate(url: url, clients: clients, label: "smta.bench.hummingbird-bridge-floor")
        let gate = database.gate
        let router = Router(context: BasicRequestContext.self)
        router.get(RouterPath(path)) { _, _ in
            guard let body = try? await gate.call(statement, arguments: "{}", as: identity, readOnly: true) else {
                return Response(status: .internalServerError)
            }
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: body))
        }
        do {
            let (server, port) = try await HTTPFloor.serve(router, name: "Hummingbird bridge floor")
            return HummingbirdBridgeFloor(port: port, server: server, database: database)
        } catch {
            await database.close()
            throw error
        }
    }

    /// Stops the server and closes the pool.
    func close() async {
        server.cancel()
        await database.close()
    }
}
