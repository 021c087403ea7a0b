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

    /// A new setup with fresh random secrets and a free port.
    static func make() throws -> DevSetup {
        DevSetup(
            postgresPort: try LocalCluster.freePort(), payloadSecret: randomHex(32), jwtSecret: randomHex(32),
            secretsKey: randomHex(24))
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
    static func clusterDirectory(in folder: String) -> String { folder + "/postgres" }
    /// The Payload SQLite file.
    static func payloadDatabase(in folder: String) -> String { folder + "/payload.db" }

    private static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
