import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A JWKS served over HTTP(S), e.g. `<project URL>/auth/v1/.well-known/jwks.json`
/// (`SMTA_JWKS_URL`).
public struct JWKSEndpoint: JWKSSource {
    /// Why a fetch failed.
    public struct FetchError: Error, CustomStringConvertible {
        /// The HTTP status received, or nil when the answer was not HTTP.
        public var status: Int?
        public var description: String { "JWKS endpoint answered status \(status.map(String.init) ?? "none")" }
    }

    /// The document's URL.
    public var url: URL
    /// How long one fetch may take.
    public var timeout: Duration

    /// Creates a source fetching `url`, giving up after `timeout`.
    public init(url: URL, timeout: Duration = .seconds(5)) {
        self.url = url
        self.timeout = timeout
    }

    /// Fetches the document; only a 200 answer counts.
    public func fetchJWKS() async throws -> Data {
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout.inSeconds
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode
        guard status == 200 else { throw FetchError(status: status) }
        return data
    }

    public var description: String { "JWKS endpoint \(url.absoluteString)" }
}
