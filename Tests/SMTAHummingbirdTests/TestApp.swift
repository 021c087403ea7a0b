import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SMTACore
import SMTAHummingbird
import SMTASchema
import SMTASupabase

/// A Hummingbird app behind ``SMTAMiddleware`` with the Supabase adapter (HS256), built by each
/// test: `/me` says who the handler sees (from the context and from the database), `/organizations`
/// creates and lists organizations through the gate.
enum TestApp {
    static let secret = String(repeating: "k", count: 32)
    static let migrations = CoreSchema.migrations + SupabaseSchema.migrations

    static func adapter() throws -> SupabaseAdapter {
        try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: secret))
    }

    static func router(adapter: any IdentityAdapter, gate: Gate, runs: HandlerRuns) -> Router<BasicSMTARequestContext> {
        let router = Router(context: BasicSMTARequestContext.self)
        router.add(middleware: SMTAMiddleware(adapter: adapter, gate: gate))
        router.get("/me") { _, context -> Response in
            await runs.record()
            let smta = try context.requireSMTA()
            let seen = try await smta.call("select json_build_object('role', current_user, 'uid', auth.uid())")
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Identity-Role")!] = smta.identity.role.rawValue
            headers[HTTPField.Name("X-Identity-User")!] = smta.identity.userID?.uuidString.lowercased() ?? "none"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: seen ?? ByteBuffer(string: "null")))
        }
        router.post("/organizations") { request, context -> Response in
            await runs.record()
            let body = try await request.body.collect(upTo: 16 * 1024)
            let id = try await context.requireSMTA().call(
                "select to_json(o.id) from public.create_organization(p_name => $1 ->> 'name') as o",
                arguments: String(buffer: body))
            return Response(status: .created, body: ResponseBody(byteBuffer: id ?? ByteBuffer(string: "null")))
        }
        router.get("/organizations") { _, context -> Response in
            await runs.record()
            let names = try await context.requireSMTA().call(
                "select coalesce(json_agg(o.name order by o.name), '[]') from public.list_my_organizations() as o")
            return Response(status: .ok, body: ResponseBody(byteBuffer: names ?? ByteBuffer(string: "[]")))
        }
        return router
    }

    /// A Supabase user token for `user`, signed with `secret`, expiring `expiresIn` seconds from now.
    static func token(for user: UUID, email: String, expiresIn: Int = 600, secret: String = secret) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims = #"{"sub":"\#(user.uuidString.lowercased())","role":"authenticated","aud":"authenticated","#
            + #""email":"\#(email)","exp":\#(now + expiresIn),"iat":\#(now - 60)}"#
        let input = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + Base64URL.encode(Array(mac))
    }

    static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)"]
    }
}

/// How many times a handler ran.
actor HandlerRuns {
    private(set) var count = 0

    func record() {
        count += 1
    }
}
