import NIOCore

/// The event-loop HTTP floor of `smta bench bridge`: the same fixed answer as ``HTTPFloor``
/// from a bare SwiftNIO HTTP/1.1 pipeline, answered in the channel handler on its event loop,
/// with no Swift task, router or middleware per request.
///
/// What HTTP costs on this machine below Hummingbird: the distance between the two floors is
/// what an event-loop-native request path could save at most on the HTTP side.
struct NIOHTTPFloor {
    /// Serves `body` as `application/json` at `GET path` until the returned channel is closed;
    /// returns that channel and the port it listens on.
    static func start(path: String, body: ByteBuffer) async throws -> (channel: any Channel, port: Int) {
        try await FloorRoute.serve(path: path) { context in FloorAnswer.write(on: context, status: .ok, body: body) }
    }
}
