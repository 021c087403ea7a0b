import Foundation
import SMTADev

/// Mints tokens with an independent implementation: `Tests/Interop/mint_token.py`, built on PyJWT
/// and `cryptography`, run by ``TestTools/python``. Interop tests fail, rather than skip, when
/// Python or those packages are missing: `scripts/test` installs them in its virtualenv.
public enum PyJWTMinter {
    /// The script could not run or printed no JSON object.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong, with the script's output.
        public var description: String
    }

    /// Runs the script in `mode` (`supabase-hs256`, `supabase-es256`, `supabase-rs256`,
    /// `payload`) and returns the JSON object it prints (`token`, `claims`, and `jwks` for
    /// asymmetric keys).
    public static func mint(_ mode: String, _ arguments: [String]) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/mint_token.py").path
        guard let result = try? ProcessRunner.result(TestTools.python, [script, mode] + arguments) else {
            throw Failure(description: "\(TestTools.python) could not be started: the PyJWT interop tests need Python (run them with scripts/test)")
        }
        guard result.status == 0 else {
            throw Failure(description: "mint_token.py \(mode) exited with status \(result.status): \(result.output)")
        }
        // Standard output and error arrive together; the JSON object is the last line.
        let lastLine = result.output.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any] else {
            throw Failure(description: "mint_token.py \(mode) printed no JSON object: \(result.output)")
        }
        return object
    }
}
