/// Writes JSON string literals by hand, for the few fixed-shape documents the bridge answers
/// with (errors, health), without a round trip through an encoder.
enum JSONText {
    /// `text` as a JSON string literal, escaped per RFC 8259.
    static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `text` as a JSON string literal, or `null`.
    static func optional(_ text: String?) -> String {
        text.map(string) ?? "null"
    }
}
