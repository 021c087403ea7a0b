import Foundation

/// A Payload user id as the token's `id` claim carries it: a number with the SQL adapters'
/// default ids, a string with `idType: 'uuid'` (or a custom text id).
public enum PayloadUserID: Sendable, Hashable, CustomStringConvertible {
    /// A numeric id (`serial` / `integer primary key`).
    case number(Int64)
    /// A text id, usually a UUID.
    case text(String)

    /// The id as a UUID, when it is one (Payload's `idType: 'uuid'`).
    public var uuid: UUID? {
        guard case .text(let text) = self else { return nil }
        return UUID(uuidString: text)
    }

    /// The id as Payload writes it: `2`, `3f0c…`.
    public var description: String {
        switch self {
        case .number(let number): String(number)
        case .text(let text): text
        }
    }
}

extension PayloadUserID: Decodable {
    /// Decodes a JSON integer or a non-empty string of at most 255 printable characters.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            self = .number(number)
            return
        }
        let text = try container.decode(String.self)
        guard !text.isEmpty, text.utf8.count <= 255, text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7f }) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a user id must be 1 to 255 printable characters")
        }
        self = .text(text)
    }
}
