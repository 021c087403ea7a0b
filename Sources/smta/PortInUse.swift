import ArgumentParser
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The bridge's port is taken: said in one line naming the address and the way out, instead of
/// SwiftNIO's `bind(descriptor:ptr:bytes:): Address already in use (errno: 98)`.
struct PortInUse: Error, CustomStringConvertible {
    /// The address the bridge tried to listen on.
    let host: String
    /// The port it tried.
    let port: Int
    /// How to pick another port with this command (`--port`, `SMTA_PORT`).
    let remedy: String

    var description: String {
        "port \(port) on \(host) is already in use (another smta, or another server, listens there): \(remedy)"
    }

    /// Runs `body` (which starts the bridge), turning a failure to bind into ``PortInUse``.
    static func translating<Result>(
        host: String, port: Int, remedy: String, _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw PortInUse(host: host, port: port, remedy: remedy)
        } catch where String(describing: error).contains("Address already in use") {
            throw PortInUse(host: host, port: port, remedy: remedy)
        }
    }
}
