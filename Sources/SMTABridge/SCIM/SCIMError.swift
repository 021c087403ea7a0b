import HTTPTypes
import Hummingbird
import NIOCore

/// A SCIM error answer (RFC 7644 §3.12): the HTTP status, the `scimType` keyword when the
/// status is 400 (or 409 for `uniqueness`), and a detail for people.
struct SCIMError: Error, Sendable, Equatable {
    /// RFC 7644's `scimType` keywords (Table 9).
    enum Kind: String, Sendable {
        case invalidFilter, tooMany, uniqueness, mutability, invalidSyntax, invalidPath, noTarget, invalidValue, invalidVers,
            sensitive
    }

    /// The HTTP status.
    let status: HTTPResponse.Status
    /// The `scimType` keyword, if any.
    let scimType: Kind?
    /// What went wrong, for people; never a credential or a value the request did not send.
    let detail: String
    /// Extra headers (`WWW-Authenticate`, `Retry-After`).
    var headers: HTTPFields = [:]

    init(status: HTTPResponse.Status, scimType: Kind? = nil, detail: String) {
        self.status = status
        self.scimType = scimType
        self.detail = detail
    }

    /// The SCIM media type every answer carries.
    static let contentType = "application/scim+json; charset=utf-8"

    /// The error's schema URN.
    static let schema = "urn:ietf:params:scim:api:messages:2.0:Error"

    /// `404`: no resource with that id in the token's organization (another organization's
    /// resources answer the same).
    static func notFound(_ resource: String, id: String) -> SCIMError {
        SCIMError(status: .notFound, detail: "\(resource) \(id) not found")
    }

    /// The error as an HTTP response.
    func response() -> Response {
        let body = SCIMJSON.compactObject([
            ("schemas", .array([.string(Self.schema)])),
            ("status", .string(String(status.code))),
            ("scimType", scimType.map { .string($0.rawValue) }),
            ("detail", .string(detail)),
        ])
        var fields = headers
        fields[.contentType] = Self.contentType
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body.text)))
    }
}
