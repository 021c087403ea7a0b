import HTTPTypes
import Hummingbird

/// The `Server-Timing` header of one answer, as PostgREST's `server-timing-enabled` gives it:
/// `jwt` (the credential check), `transaction` (the database call) and, added by
/// ``RequestLogMiddleware``, `total`, each in milliseconds.
struct ServerTiming: Sendable {
    private var entries: [(name: String, duration: Duration)] = []

    /// Runs `work`, recording how long it took under `name`.
    mutating func measure<T>(_ name: String, _ work: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { entries.append((name, start.duration(to: .now))) }
        return try await work()
    }

    /// The header's value; empty when nothing was measured.
    var header: String {
        entries.map { Self.entry($0.name, $0.duration) }.joined(separator: ", ")
    }

    /// `response` with the header set, when anything was measured.
    func stamp(_ response: Response) -> Response {
        guard !entries.isEmpty else { return response }
        var response = response
        response.headers[.serverTiming] = header
        return response
    }

    /// One `name;dur=milliseconds` entry.
    static func entry(_ name: String, _ duration: Duration) -> String {
        "\(name);dur=\(RequestLog.milliseconds(duration))"
    }
}

extension HTTPField.Name {
    /// `Server-Timing`.
    static let serverTiming = HTTPField.Name("Server-Timing")!
}
