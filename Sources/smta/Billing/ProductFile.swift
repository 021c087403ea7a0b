import Foundation

/// One product of a `products.json` file: a provider price (Stripe price id, Lemon Squeezy
/// variant id) and what it entitles to.
struct ProductFileEntry: Decodable, Sendable {
    /// The provider's price id (`price_…`) or Lemon Squeezy variant id.
    var priceID: String
    /// The plan's name, shown to members (`Pro`).
    var name: String
    /// A description, if any.
    var description: String?
    /// `month`, `year`, …
    var billingInterval: String
    /// The price in the currency's smallest unit.
    var amount: Int
    /// Whether it is offered (default true).
    var isActive: Bool?
    /// Features and limits: `{"features": ["sso"], "limits": {"max_members": 10}}`.
    var metadata: JSONValue?

    enum CodingKeys: String, CodingKey {
        case priceID = "price_id", name, description, billingInterval = "billing_interval", amount
        case isActive = "is_active", metadata
    }
}

/// Any JSON value, kept as its text for PostgreSQL's `jsonb`.
struct JSONValue: Decodable, Sendable {
    /// The value as JSON text.
    var text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(AnyJSON.self)
        text = String(decoding: try JSONSerialization.data(withJSONObject: value.object, options: [.fragmentsAllowed, .sortedKeys]), as: UTF8.self)
    }
}

/// Decodes any JSON into Foundation objects.
private struct AnyJSON: Decodable {
    var object: Any

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var items: [Any] = []
            while !array.isAtEnd { items.append(try array.decode(AnyJSON.self).object) }
            object = items
        } else if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var dictionary: [String: Any] = [:]
            for key in keyed.allKeys { dictionary[key.stringValue] = try keyed.decode(AnyJSON.self, forKey: key).object }
            object = dictionary
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { object = NSNull() }
            else if let bool = try? single.decode(Bool.self) { object = bool }
            else if let int = try? single.decode(Int.self) { object = int }
            else if let double = try? single.decode(Double.self) { object = double }
            else { object = try single.decode(String.self) }
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
