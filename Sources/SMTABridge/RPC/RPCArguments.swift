import Foundation
import Hummingbird

/// The named arguments of one call: their names, and the JSON object handed to PostgreSQL.
struct RPCArguments: Sendable {
    /// The argument names given.
    var names: Set<String>
    /// A JSON object holding them, as UTF-8 text.
    var json: String

    /// Reads a `POST` body: a JSON object of named arguments; an empty body means none.
    /// - Throws: ``BridgeError`` (400) for anything but one well-formed JSON object, or a key
    ///   given twice.
    init(body: ByteBuffer) throws(BridgeError) {
        let bytes = Array(body.readableBytesView)
        guard bytes.contains(where: { !Self.isWhitespace($0) }) else {
            self.init(names: [], json: "{}")
            return
        }
        let keys: [String]
        do {
            keys = try JSONObjectScanner.keys(of: bytes)
        } catch {
            throw .invalidBody(
                "The request body is not a JSON object: \(error.reason)",
                hint: "Send {\"p_name\": …}, one key per argument.")
        }
        var names: Set<String> = []
        for key in keys where !names.insert(key).inserted {
            throw .invalidBody("The argument \(key) is given more than once")
        }
        self.init(names: names, json: String(decoding: bytes, as: UTF8.self))
    }

    /// Reads `GET` query parameters (or a form-encoded body): each one an argument, as text for
    /// PostgreSQL to cast. PostgREST's reserved parameters are not arguments, nor are the
    /// name/value pairs for which `isArgument` answers false (on `GET`, the filters on result
    /// columns; see ``ResultOptions``).
    /// - Throws: ``BridgeError`` (400) when an argument is given twice.
    init(query: String?, isArgument: (_ name: String, _ value: String) -> Bool = { _, _ in true }) throws(BridgeError) {
        var names: Set<String> = []
        var members: [String] = []
        for (name, value) in Self.parameters(query) where !ResultOptions.reserved.contains(name) && isArgument(name, value) {
            guard names.insert(name).inserted else {
                throw .invalidBody("The argument \(name) is given more than once")
            }
            members.append(JSONText.string(name) + ":" + JSONText.string(value))
        }
        self.init(names: names, json: "{" + members.joined(separator: ",") + "}")
    }

    private init(names: Set<String>, json: String) {
        self.names = names
        self.json = json
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The decoded name/value pairs of a query string, in order.
    static func parameters(_ query: String?) -> [(String, String)] {
        (query ?? "").split(separator: "&").filter { !$0.isEmpty }.map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Percent-decodes a query component, with `+` as a space.
    private static func decode(_ component: Substring) -> String {
        let spaced = component.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
