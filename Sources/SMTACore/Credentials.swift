/// What a request presents to prove who it is: its HTTP headers (cookies included).
///
/// Adapters read only what their platform defines (`Authorization`, a cookie, `Origin`, …);
/// header names are matched case-insensitively.
public struct Credentials: Sendable {
    private var headers: [(name: String, value: String)]

    /// Creates credentials from header name/value pairs, in the order received.
    public init(headers: [(name: String, value: String)]) {
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
    }

    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    /// The value of the cookie `name`, from the `Cookie` headers.
    public func cookie(_ name: String) -> String? {
        let lowered = "cookie"
        for (headerName, value) in headers where headerName == lowered {
            for pair in value.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                if let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name {
                    return String(trimmed[trimmed.index(after: equals)...])
                }
            }
        }
        return nil
    }
}
