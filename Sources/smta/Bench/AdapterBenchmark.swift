import ArgumentParser
import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SMTACore
import SMTADev
import SMTAPayload
import SMTASupabase

/// `smta bench adapters`: how fast each adapter checks a credential, without HTTP.
///
/// Supabase: HS256 (legacy secret) and ES256 (JWKS key) verifications per second, through
/// `SMTASupabase.SupabaseAdapter.verify(token:at:)`: of a token seen for the first time (every
/// check), and of the same token again (the adapter remembers verified tokens). Payload: full credential checks per
/// second (token, user and session lookup) against a SQLite file and against PostgreSQL
/// (Payload's tables in a throwaway cluster, or `--database-url`).
struct AdapterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapters",
        abstract: "Measure credential checks per second for each adapter (HS256, ES256, Payload sessions).")

    @Option(name: .customLong("database-url"), help: "A scratch PostgreSQL for the Payload tables (default: a throwaway cluster).")
    var databaseURL: String?

    @Option(help: "Operations per round (5 rounds; the median is reported).")
    var count = 20000

    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.path + "/smta-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var results: [(String, Int, Double)] = []

        let secret = String(repeating: "s", count: 40)
        let hs256 = try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: secret))
        let hmac: @Sendable ([UInt8]) -> [UInt8] = {
            Array(HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: Array(secret.utf8))))
        }
        let hsToken = Self.supabaseToken(alg: "HS256", kid: nil, sign: hmac)
        try await Self.expectValid(await hs256.verify(token: hsToken))
        let hsFresh = TokenSupply((0..<count * Self.rounds).map { Self.supabaseToken(alg: "HS256", kid: nil, serial: $0, sign: hmac) })
        results.append(("Supabase HS256 verify, new token", 1, try await Throughput.median(count: count) {
            _ = try await hs256.verify(token: hsFresh.next())
        }))
        results.append(("Supabase HS256 verify, same token again", 1, try await Throughput.median(count: count) {
            _ = try await hs256.verify(token: hsToken)
        }))

        let signing = P256.Signing.PrivateKey()
        let jwksPath = scratch + "/jwks.json"
        try Self.jwks(signing.publicKey, kid: "bench").write(toFile: jwksPath, atomically: true, encoding: .utf8)
        let es256 = try SupabaseAdapter(settings: SupabaseSettings(jwks: JWKSFile(path: jwksPath)))
        try await es256.loadKeys()
        let ecdsa: ([UInt8]) -> [UInt8] = { try! signing.signature(for: $0).rawRepresentation.map { $0 } }
        let esToken = Self.supabaseToken(alg: "ES256", kid: "bench", sign: ecdsa)
        try await Self.expectValid(await es256.verify(token: esToken))
        let esFresh = TokenSupply((0..<count / 4 * Self.rounds).map { Self.supabaseToken(alg: "ES256", kid: "bench", serial: $0, sign: ecdsa) })
        results.append(("Supabase ES256 verify, new token", 1, try await Throughput.median(count: count / 4) {
            _ = try await es256.verify(token: esFresh.next())
        }))
        results.append(("Supabase ES256 verify, same token again", 1, try await Throughput.median(count: count / 4) {
            _ = try await es256.verify(token: esToken)
        }))

        let payloadSecret = "bench-payload-secret"
        let sqlitePath = scratch + "/payload.db"
        let sqliteDatabase = try DevPayloadDatabase(path: sqlitePath)
        let userID = try sqliteDatabase.userID(email: "bench@example.com")
        let sid = try sqliteDatabase.openSession(userID: userID, lifetime: 3600)
        let payloadToken = DevToken.payload(id: userID, email: "bench@example.com", sid: sid, secret: payloadSecret, lifetime: 3600)
        let credentials = Credentials(headers: [("Authorization", "JWT \(payloadToken)")])
        let users = try PayloadCollection(slug: "users")
        let sqliteAdapter = try PayloadAdapter(
            settings: PayloadSettings(secret: payloadSecret, database: .sqlite(path: sqlitePath), collections: [users]))
        for (tasks, rate) in try await Self.measure(sqliteAdapter, credentials, count: count / 4) {
            results.append(("Payload session check, SQLite", tasks, rate))
        }

        try await withScratchDatabase(scratch) { url in
            try await Self.createPayloadTables(url, userID: userID, sid: sid)
            let postgresAdapter = try PayloadAdapter(
                settings: PayloadSettings(secret: payloadSecret, database: .postgres(url, schema: "payload"), collections: [users]))
            for (tasks, rate) in try await Self.measure(postgresAdapter, credentials, count: count / 4) {
                results.append(("Payload session check, PostgreSQL", tasks, rate))
            }
        }

        Console.line("adapter checks per second (median of 5 rounds, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        for (name, tasks, rate) in results {
            Console.line("  \(name.padding(toLength: 36, withPad: " ", startingAt: 0)) tasks \(tasks)  \(Int(rate.rounded()))/s")
        }
        if let json {
            let rows = results.map { "{\"check\":\"\($0.0)\",\"tasks\":\($0.1),\"per_second\":\(Int($0.2.rounded()))}" }
            try ("[" + rows.joined(separator: ",") + "]\n").write(toFile: json, atomically: true, encoding: .utf8)
        }
    }

    /// Checks per second with 1 and 8 concurrent tasks, the adapter's store running meanwhile.
    private static func measure(_ adapter: PayloadAdapter, _ credentials: Credentials, count: Int) async throws -> [(Int, Double)] {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await adapter.run() }
            try await expectValid(await adapter.identify(credentials))
            var rates: [(Int, Double)] = []
            for tasks in [1, 8] {
                rates.append((tasks, try await Throughput.median(count: count, tasks: tasks) { _ = try await adapter.identify(credentials) }))
            }
            group.cancelAll()
            return rates
        }
    }

    private func withScratchDatabase(_ scratch: String, _ body: (DatabaseURL) async throws -> Void) async throws {
        if let databaseURL {
            try await body(try DatabaseURL(databaseURL))
            return
        }
        let cluster = LocalCluster(directory: scratch + "/postgres", port: try LocalCluster.freePort(), binaries: try PostgresBinaries.locate())
        try cluster.create()
        try cluster.start(durable: false)
        defer { try? cluster.stop(immediate: true) }
        try await body(cluster.url())
    }

    private static func expectValid(_ identity: @autoclosure () async throws -> Identity) async throws {
        guard try await identity().role == .authenticated else {
            throw ValidationError("the benchmark's own credential was not accepted")
        }
    }

    /// Rounds of `Throughput.median`: distinct tokens are minted for every operation of every round.
    private static let rounds = 5

    /// A Supabase user token; `serial` makes it unlike any other (its `jti` claim).
    private static func supabaseToken(alg: String, kid: String?, serial: Int = 0, sign: ([UInt8]) -> [UInt8]) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header = kid.map { #"{"alg":"\#(alg)","kid":"\#($0)","typ":"JWT"}"# } ?? #"{"alg":"\#(alg)","typ":"JWT"}"#
        let claims = #"{"aud":"authenticated","exp":\#(now + 3600),"iat":\#(now),"jti":"\#(serial)","sub":"6b1f4a8e-4d1c-4c55-9a55-2f7f1f0d9a01","role":"authenticated","email":"bench@example.com"}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        return input + "." + Base64URL.encode(sign(Array(input.utf8)))
    }

    private static func jwks(_ key: P256.Signing.PublicKey, kid: String) -> String {
        let raw = key.rawRepresentation
        let x = Base64URL.encode(raw.prefix(32)), y = Base64URL.encode(raw.suffix(32))
        return #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"\#(kid)","x":"\#(x)","y":"\#(y)"}]}"#
    }

    /// Payload's PostgreSQL tables for `users` (ids `serial`, timestamps `timestamp(3) with time
    /// zone`) in schema `payload`, with the benchmark's user and session.
    private static func createPayloadTables(_ url: DatabaseURL, userID: Int, sid: String) async throws {
        let logger = Logger(label: "smta.bench")
        let statements: [PostgresQuery] = [
            #"CREATE SCHEMA IF NOT EXISTS "payload""#,
            #"DROP TABLE IF EXISTS "payload"."users_sessions", "payload"."users""#,
            """
            CREATE TABLE "payload"."users" (
              "id" serial PRIMARY KEY NOT NULL,
              "updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
              "created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
              "email" varchar NOT NULL, "reset_password_token" varchar,
              "reset_password_expiration" timestamp(3) with time zone, "salt" varchar, "hash" varchar,
              "login_attempts" numeric DEFAULT 0, "lock_until" timestamp(3) with time zone)
            """,
            """
            CREATE TABLE "payload"."users_sessions" (
              "_order" integer NOT NULL,
              "_parent_id" integer NOT NULL REFERENCES "payload"."users"("id") ON DELETE cascade,
              "id" varchar PRIMARY KEY NOT NULL,
              "created_at" timestamp(3) with time zone,
              "expires_at" timestamp(3) with time zone NOT NULL)
            """,
            #"CREATE INDEX "users_sessions_parent_id_idx" ON "payload"."users_sessions" USING btree ("_parent_id")"#,
            "INSERT INTO payload.users (id, email) VALUES (\(Int32(userID)), 'bench@example.com')",
            "INSERT INTO payload.users_sessions VALUES (1, \(Int32(userID)), \(sid), now(), now() + interval '1 hour')",
        ]
        try await url.withConnection(logger: logger) { connection in
            for statement in statements {
                _ = try await connection.guardedQuery(statement, logger: logger)
            }
        }
    }
}

/// Pre-minted tokens handed out one after the other, each once.
private final class TokenSupply: Sendable {
    private let tokens: [String]
    private let position = NIOLockedValueBox(0)

    init(_ tokens: [String]) {
        self.tokens = tokens
    }

    func next() -> String {
        tokens[position.withLockedValue { position in
            defer { position += 1 }
            return position % tokens.count
        }]
    }
}
