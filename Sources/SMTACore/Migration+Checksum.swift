import Crypto
import SMTASchema

extension Migration {
    /// The lowercase hex SHA-256 of the SQL text, recorded when the migration is applied.
    public var checksum: String {
        SHA256.hash(data: Array(sql.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
