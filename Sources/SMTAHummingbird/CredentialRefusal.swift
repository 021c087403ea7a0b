import Foundation
import Hummingbird
import SMTACore

/// A refused credential as an HTTP answer, in the shape `smta serve` gives it (PostgREST's):
/// `{"code", "details", "hint", "message"}`.
///
/// 401 with `PGRST303` when the token is well signed but its claims fail (message `JWT expired`
/// for an expired one, the cue for clients to refresh the session), `PGRST301` for anything
/// else, and a `WWW-Authenticate` header; 503 `PGRST000` with `Retry-After` when the adapter
/// could not check the credential (`AuthenticationError.Kind.unavailable`). The
/// message is `AuthenticationError.publicMessage`: it never echoes the credential.
public struct CredentialRefusal: HTTPResponseError, Sendable {
    /// The adapter's refusal.
    public let error: AuthenticationError

    /// Creates the answer to `error`.
    public init(_ error: AuthenticationError) {
        self.error = error
    }

    /// 401, or 503 when the adapter could not check the credential.
    public var status: HTTPResponse.Status {
        error.kind == .unavailable ? .serviceUnavailable : .unauthorized
    }

    /// The PostgREST code: `PGRST000`, `PGRST303` or `PGRST301`.
    public var code: String {
        switch error.kind {
        case .unavailable: "PGRST000"
        case .expired, .notYetValid, .invalidClaims: "PGRST303"
        default: "PGRST301"
        }
    }

    /// What the client may read.
    public var message: String {
        error.kind == .expired ? "JWT expired" : error.publicMessage
    }

    /// `WWW-Authenticate` for a 401, `Retry-After` for a 503.
    public var headers: HTTPFields {
        var headers = HTTPFields()
        switch error.kind {
        case .unavailable: headers[.retryAfter] = "1"
        case .missing: headers[.wwwAuthenticate] = "Bearer"
        case .expired: headers[.wwwAuthenticate] = #"Bearer error="invalid_token", error_description="JWT expired""#
        default: headers[.wwwAuthenticate] = #"Bearer error="invalid_token""#
        }
        return headers
    }

    /// The answer: ``status``, ``headers`` and the JSON body.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(Body(code: code, message: message))
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// PostgREST's error object; `details` and `hint` are always null here.
    private struct Body: Encodable {
        var code: String
        var message: String

        enum CodingKeys: String, CodingKey { case code, details, hint, message }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encodeNil(forKey: .details)
            try container.encodeNil(forKey: .hint)
            try container.encode(message, forKey: .message)
        }
    }
}
