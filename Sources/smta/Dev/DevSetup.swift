import Crypto
import Foundation
import SMTACore
import SMTADev
import ArgumentParser

/// What `smta dev` keeps between runs, in `<folder>/dev.json` (readable by its owner only):
/// the cluster's port and the development secrets. Development only: these secrets protect
/// nothing but a local playground.
struct DevSetup: Codable {
    /// The private cluster's port on 127.0.0.1.
    var postgresPort: Int
    /// The demo Payload app's `PAYLOAD_SECRET`.
    var payloadSecret: String
    /// The demo Supabase project's JWT secret.
    var jwtSecret: String
    /// The key of SMTA's secret encryption.
    var secretsKey: String
    /// The demo OIDC issuer's ES256 signing key (raw P-256 private key, base64); created on the
    /// first `smta dev --adapter oidc`, so setups saved before it existed keep loading.
    var oidcSigningKey: String?
    /// The cluster's data folder, when it cannot live in the setup's folder (see
    /// ``clusterDirectory(in:)``); nil for `<folder>/postgres`.
    var externalClusterDirectory: String?
    /// The adapter the latest `smta dev` serves (`payload`, `supabase`, `oidc`), so that
    /// `smta token` mints credentials that adapter accepts; nil in setups saved before it existed.
    var adapter: String?

    /// The folder everything lives in (default `./.smta`).
    static func folder(_ path: String?) -> String {
        let folder = path ?? ".smta"
        return folder.hasPrefix("/") ? folder : FileManager.default.currentDirectoryPath + "/" + folder
    }

    /// The setup saved in `folder`, or nil when there is none.
    /// - Throws: when the file exists but cannot be read.
    static func load(from folder: String) throws -> DevSetup? {
        guard let data = FileManager.default.contents(atPath: folder + "/dev.json") else { return nil }
        do {
            return try JSONDecoder().decode(DevSetup.self, from: data)
        } catch {
            throw ValidationError("\(folder)/dev.json is not a smta dev setup (remove the folder or run smta dev --reset)")
        }
    }

    /// A new setup for `folder` with fresh random secrets and a free port.
    ///
    /// PostgreSQL runs as the `postgres` user when this process is root; when that user cannot
    /// enter `folder` (a clone under `/root`, mode 700), the cluster's data goes to
    /// `/var/tmp/smta-dev-<hash of folder>` instead, and `--reset` removes it too.
    static func make(for folder: String) throws -> DevSetup {
        var external: String?
        if geteuid() == 0, (try? ProcessRunner.result("test", ["-x", folder], as: "postgres"))?.status != 0 {
            let digest = SHA256.hash(data: Array(folder.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
            external = "/var/tmp/smta-dev-\(digest)/postgres"
        }
        return DevSetup(
            postgresPort: try LocalCluster.freePort(), payloadSecret: randomHex(32), jwtSecret: randomHex(32),
            secretsKey: randomHex(24), externalClusterDirectory: external)
    }

    /// Writes the setup to `folder`, readable by its owner only.
    func save(to folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = folder + "/dev.json"
        guard FileManager.default.createFile(atPath: path, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(path)")
        }
    }

    /// The cluster's data folder.
    func clusterDirectory(in folder: String) -> String { externalClusterDirectory ?? folder + "/postgres" }
    /// The Payload SQLite file.
    static func payloadDatabase(in folder: String) -> String { folder + "/payload.db" }
    /// The demo OIDC issuer's JWKS file.
    static func oidcJWKS(in folder: String) -> String { folder + "/oidc-jwks.json" }
    /// The demo OIDC issuer (loopback http, which the OIDC adapter accepts for local issuers).
    static let oidcIssuer = "http://localhost/smta-dev"

    /// The demo OIDC issuer's signing key, created (and saved with the setup) on first use.
    mutating func oidcKey() -> P256.Signing.PrivateKey {
        if let saved = oidcSigningKey, let raw = Data(base64Encoded: saved),
            let key = try? P256.Signing.PrivateKey(rawRepresentation: raw)
        {
            return key
        }
        let key = P256.Signing.PrivateKey()
        oidcSigningKey = key.rawRepresentation.base64EncodedString()
        return key
    }

    private static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
