import Foundation

/// A JSON value as SCIM documents carry it: objects keep their members' order (what the bridge
/// writes reads in the order RFC 7643's examples use) and member names are looked up
/// case-insensitively, as RFC 7643 §2.1 requires of attribute names.
indirect enum SCIMJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([SCIMJSON])
    case object([(name: String, value: SCIMJSON)])

    static func == (lhs: SCIMJSON, rhs: SCIMJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        default: false
        }
    }

    /// The member named `name` (compared case-insensitively) of an object; nil otherwise.
    subscript(_ name: String) -> SCIMJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The value as text, when it is a string.
    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The members of an object, or nil.
    var members: [(name: String, value: SCIMJSON)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements of an array, or nil.
    var elements: [SCIMJSON]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// An object without the members whose value is null (SCIM leaves unassigned attributes out).
    static func compactObject(_ members: [(String, SCIMJSON?)]) -> SCIMJSON {
        .object(members.compactMap { name, value in
            guard let value, value != .null else { return nil }
            return (name: name, value: value)
        })
    }
}

extension SCIMJSON: Decodable {
    /// Parses a request body.
    /// - Throws: ``SCIMError`` `invalidSyntax` when `bytes` are not one JSON value.
    static func parse(_ bytes: [UInt8]) throws(SCIMError) -> SCIMJSON {
        do {
            return try JSONDecoder().decode(SCIMJSON.self, from: Data(bytes))
        } catch {
            throw SCIMError(status: .badRequest, scimType: .invalidSyntax, detail: "The request body is not valid JSON")
        }
    }

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var elements: [SCIMJSON] = []
            while !array.isAtEnd {
                elements.append(try array.decode(SCIMJSON.self))
            }
            self = .array(elements)
        } else if let object = try? decoder.container(keyedBy: MemberName.self) {
            // The decoder does not keep the members' order: names are sorted for a stable result.
            self = .object(try object.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                (name: $0.stringValue, value: try object.decode(SCIMJSON.self, forKey: $0))
            })
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if let flag = try? value.decode(Bool.self) {
                self = .bool(flag)
            } else if let number = try? value.decode(Double.self) {
                self = .number(number)
            } else {
                self = .string(try value.decode(String.self))
            }
        }
    }

    private struct MemberName: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension SCIMJSON {
    /// The value's JSON text.
    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 {
                out += String(Int64(value))
            } else {
                out += "\(value)"
            }
        case .string(let value): out += JSONText.string(value)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                out += JSONText.string(member.name)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }
}
