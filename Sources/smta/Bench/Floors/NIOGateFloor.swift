import NIOCore
import SMTACore

/// The lane's floor in `smta bench bridge`: a bare SwiftNIO HTTP/1.1 pipeline whose channel
/// handler answers each request with `core.gate_call`'s result, sent through SMTACore's `Gate`
/// over a `RenewablePool` of its own for a fixed caller, in one Swift task per request — what
/// the bridge's `RPCLane` does, with none of the bridge's own work.
///
/// Beside ``HummingbirdBridgeFloor`` (the same call on Hummingbird's request path) it measures
/// what that path costs; beside ``EventLoopBridgeFloor`` (no task, PostgresNIO's futures) what
/// the task and the `Gate` cost.
struct NIOGateFloor: Sendable {
    /// The listening channel.
    let channel: any Channel
    /// The port it listens on.
    let port: Int
    private let database: FloorGate

    /// Starts the floor on a free loopback port with a pool of `clients` connections; it
    /// answers `GET path` with `statement`'s result for `identity`.
    static func start(path: String, url: DatabaseURL, identity: Identity, statement: String, clients: Int) async throws -> NIOGateFloor {
        let database = try FloorGate(url: url, clients: clients, label: "smta.bench.nio-gate-floor")
        let gate = database.gate
        do {
            let (channel, port) = try await FloorRoute.serve(path: path) { context in
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                let loop = context.eventLoop
                Task {
                    let body = try? await gate.call(statement, arguments: "{}", as: identity, readOnly: true)
                    loop.execute {
                        FloorAnswer.write(on: bound.value, status: body == nil ? .internalServerError : .ok, body: body ?? nil)
                    }
                }
            }
            return NIOGateFloor(channel: channel, port: port, database: database)
        } catch {
            await database.close()
            throw error
        }
    }

    /// Stops listening and closes the pool.
    func close() async {
        try? await channel.close().get()
        await database.close()
    }
}
