import Foundation

/// A JWKS kept in a local file (`SMTA_JWKS_FILE`); re-read on rotation like a URL.
public struct JWKSFile: JWKSSource {
    /// The file's path.
    public var path: String

    /// Creates a source reading `path`.
    public init(path: String) {
        self.path = path
    }

    /// Reads the file.
    public func fetchJWKS() async throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    public var description: String { "JWKS file \(path)" }
}
