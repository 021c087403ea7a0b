import Foundation
import Hummingbird

/// The named arguments of one call: their names, and the JSON object handed to PostgreSQL.
struct RPCArguments: Sendable {
    /// The argument names given.
    var names: Set<String>
    /// A JSON object holding them, as UTF-8 text.
    var json: String

    /// Reads a `POST` body: a JSON object of named arguments; an empty body means none.
    /// - Throws: ``BridgeError`` (400) for anything but a JSON object.
    init(body: ByteBuffer) throws(BridgeError) {
        let bytes = body.readableBytesView
        guard bytes.contains(where: { !Self.isWhitespace($0) }) else {
            self.init(names: [], json: "{}")
            return
        }
        let data = Data(bytes)
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw .invalidBody("The request body is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw .invalidBody(
                "The request body must be a JSON object of named arguments",
                hint: "Send {\"p_name\": …}, one key per argument.")
        }
        self.init(names: Set(object.keys), json: String(decoding: data, as: UTF8.self))
    }

    /// Reads `GET` query parameters (or a form-encoded body): each one an argument, as text for
    /// PostgreSQL to cast.
    /// - Throws: ``BridgeError`` (400) when an argument is given twice.
    init(query: String?) throws(BridgeError) {
        var names: Set<String> = []
        var members: [String] = []
        for pair in (query ?? "").split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
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

    /// Percent-decodes a query component, with `+` as a space.
    private static func decode(_ component: Substring) -> String {
        let spaced = component.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
