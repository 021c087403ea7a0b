import Foundation
import HTTPTypes
import Hummingbird

/// Cross-origin calls from browsers, as PostgREST answers them by default: any origin may call
/// the bridge without credentials (`Access-Control-Allow-Origin: *`), and the origins listed in
/// `cors_origins` may also send credentials (the Payload cookie): their `Origin` is echoed with
/// `Access-Control-Allow-Credentials: true`.
///
/// A preflight (`OPTIONS`, on any path) is answered here: the methods the bridge serves, the
/// headers Supabase and PostgREST clients send (plus any the browser asks for, since no header
/// carries credentials the browser would attach by itself), cached for a day. Every answer
/// exposes `Content-Range`, `X-Request-Id` and `Server-Timing` to scripts. A cookie sent from an
/// unlisted origin still reaches the adapter, which applies its own rule (Payload's CSRF
/// origins); a browser never hands the answer to such a page.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Origins allowed to send credentials, normalised (`scheme://host[:port]`, lower case).
    let credentialedOrigins: Set<String>

    static var allowedMethods: String { "GET, POST, HEAD, OPTIONS" }
    static var allowedHeaders: [String] {
        [
            "apikey", "authorization", "accept", "accept-profile", "content-profile", "content-type", "prefer",
            "range", "range-unit", "x-client-info", "x-supabase-api-version", "idempotency-key", "x-smta-organization",
        ]
    }
    static var exposedHeaders: String { "Content-Range, Content-Location, X-Request-Id, Server-Timing, Retry-After" }

    /// Creates the middleware for the configured `cors_origins`.
    init(credentialedOrigins: [String]) {
        self.credentialedOrigins = Set(credentialedOrigins.map(Self.normalised))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let origin = request.headers[.origin]
        if request.method == .options {
            var response = Response(status: .ok, headers: [.allow: Self.allowedMethods, .contentLength: "0"])
            if let origin {
                allow(origin, on: &response)
                response.headers[.accessControlAllowMethods] = Self.allowedMethods
                let asked = (request.headers[.accessControlRequestHeaders] ?? "")
                    .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                    .filter { !$0.isEmpty }
                var names = Self.allowedHeaders
                names.append(contentsOf: asked.filter { !names.contains($0) })
                response.headers[.accessControlAllowHeaders] = names.joined(separator: ", ")
                response.headers[.accessControlMaxAge] = "86400"
            }
            return response
        }
        var response = try await next(request, context)
        decorate(&response, origin: origin)
        return response
    }

    /// Gives the answer to a request from `origin` (nil: not a cross-origin request) what lets
    /// the calling page read it; also used by ``RPCLane``, whose calls skip the router.
    func decorate(_ response: inout Response, origin: String?) {
        if let origin {
            allow(origin, on: &response)
            response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        }
    }

    private func allow(_ origin: String, on response: inout Response) {
        if credentialedOrigins.contains(Self.normalised(origin)) {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlAllowCredentials] = "true"
        } else {
            response.headers[.accessControlAllowOrigin] = "*"
        }
        if !credentialedOrigins.isEmpty {
            response.headers[.vary] = "Origin"
        }
    }

    /// `origin` without a trailing slash, in lower case.
    static func normalised(_ origin: String) -> String {
        var text = origin.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasSuffix("/") {
            text.removeLast()
        }
        return text
    }
}
