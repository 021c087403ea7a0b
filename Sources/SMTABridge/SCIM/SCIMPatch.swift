/// A SCIM PATCH request (RFC 7644 §3.5.2): operations applied, in order, to a resource's
/// document; the result is then written whole, under the version it was read at.
///
/// Accepts the dialects identity providers send: `op` in any case (Entra ID's `Replace`),
/// booleans written as strings (Entra ID's `"value": "False"`), operations without `path`
/// whose value is an object of attributes (Okta's `{"op":"replace","value":{"active":false}}`),
/// and `remove` of `members` with the members to remove in `value` (Entra ID).
struct SCIMPatch: Sendable {
    /// The patch request's schema URN.
    static let schema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    /// The most operations one request may carry.
    static let maximumOperations = 1_000

    /// One operation.
    struct Operation: Sendable {
        enum Kind: String, Sendable { case add, remove, replace }
        let kind: Kind
        /// The path as written; read against the resource when applied.
        let path: String?
        let value: SCIMJSON?
    }

    let operations: [Operation]

    /// What PATCH needs to know of a resource type.
    struct Resource: Sendable {
        /// The core schema's URN, lowercased.
        let schema: String
        /// The extensions' URNs, lowercased: their attributes live in an object under the URN.
        let extensions: Set<String>
        /// The lowercased names of the multi-valued attributes.
        let multiValued: Set<String>
        /// The lowercased names of the attributes that always have a value (which `remove`
        /// refuses: removing `active` must never mean "active again").
        let required: Set<String>
    }

    /// Reads a PATCH body.
    /// - Throws: ``SCIMError`` 400 `invalidSyntax` for a body that is not a PatchOp, `invalidPath`
    ///   for a path that cannot be read.
    init(_ body: SCIMJSON) throws(SCIMError) {
        guard let schemas = body["schemas"]?.elements, schemas.contains(.string(Self.schema)) else {
            throw SCIMError(status: .badRequest, scimType: .invalidSyntax, detail: "A PATCH body must list the schema \(Self.schema)")
        }
        guard let list = body["Operations"]?.elements, !list.isEmpty else {
            throw SCIMError(status: .badRequest, scimType: .invalidSyntax, detail: "A PATCH body needs a non-empty Operations array")
        }
        guard list.count <= Self.maximumOperations else {
            throw SCIMError(status: .badRequest, scimType: .tooMany, detail: "A PATCH body may carry at most \(Self.maximumOperations) operations")
        }
        var operations: [Operation] = []
        for element in list {
            guard let op = element["op"]?.string, let kind = Operation.Kind(rawValue: op.lowercased()) else {
                throw SCIMError(status: .badRequest, scimType: .invalidSyntax, detail: "Each operation needs an op: add, remove or replace")
            }
            var path: String?
            if let text = element["path"] {
                guard let text = text.string else {
                    throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "An operation's path must be a string")
                }
                path = text
            }
            let value = element["value"]
            if kind != .remove, value == nil {
                throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "An \(kind.rawValue) operation needs a value")
            }
            if path == nil, kind != .remove, value?.members == nil {
                throw SCIMError(
                    status: .badRequest, scimType: .invalidValue,
                    detail: "An \(kind.rawValue) operation without path needs an object of attributes as its value")
            }
            if path == nil, kind == .remove {
                throw SCIMError(status: .badRequest, scimType: .noTarget, detail: "A remove operation needs a path")
            }
            operations.append(Operation(kind: kind, path: path, value: value))
        }
        self.operations = operations
    }

    /// `document` with every operation applied.
    /// - Throws: ``SCIMError`` 400 `noTarget`, `invalidPath`, `invalidValue` or `mutability`.
    func applied(to document: SCIMJSON, resource: Resource) throws(SCIMError) -> SCIMJSON {
        var members = document.members ?? []
        for operation in operations {
            if let text = operation.path {
                let path = try SCIMPatchPath(parsing: text, resource: resource)
                try Self.apply(operation.kind, path: path, value: operation.value, to: &members, resource: resource)
                continue
            }
            // add/replace without path: each attribute of the value, as if named by path.
            for member in operation.value?.members ?? [] {
                let path = resource.extensions.contains(member.name.lowercased())
                    ? SCIMPatchPath(extension: member.name)
                    : try SCIMPatchPath(parsing: member.name, resource: resource)
                try Self.apply(operation.kind, path: path, value: member.value, to: &members, resource: resource)
            }
        }
        return .object(members)
    }

    private static func apply(
        _ kind: Operation.Kind, path: SCIMPatchPath, value: SCIMJSON?, to members: inout [(name: String, value: SCIMJSON)],
        resource: Resource
    ) throws(SCIMError) {
        if let schema = path.attribute.schema?.lowercased(), schema != resource.schema {
            guard resource.extensions.contains(schema) else {
                throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "Unknown schema \(schema.prefix(100))")
            }
            // An extension's attribute: applied inside the object its URN names.
            let index = members.firstIndex { $0.name.lowercased() == schema }
            var inner = index.flatMap { members[$0].value.members } ?? []
            if path.isWholeExtension {
                // The extension itself: its attributes one by one (remove: each of them).
                let attributes = kind == .remove ? inner.map { (name: $0.name, value: SCIMJSON.null) } : (value?.members ?? [])
                guard kind == .remove || value?.members != nil else {
                    throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "The value of \(schema) must be an object")
                }
                for attribute in attributes {
                    let innerPath = SCIMPatchPath(attribute: SCIMAttributePath(name: attribute.name))
                    try apply(kind, path: innerPath, value: attribute.value, to: &inner, resource: resource.inside)
                }
            } else {
                var innerPath = path
                innerPath.attribute.schema = nil
                try apply(kind, path: innerPath, value: value, to: &inner, resource: resource.inside)
            }
            let name = index.map { members[$0].name } ?? path.attribute.schema ?? schema
            if let index { members.remove(at: index) }
            if !inner.isEmpty { members.append((name: name, value: .object(inner))) }
            return
        }
        let name = path.attribute.name
        if kind == .remove, path.filter == nil, path.subAttribute == nil, resource.required.contains(name.lowercased()) {
            throw SCIMError(
                status: .badRequest, scimType: .mutability,
                detail: "\(name) always has a value: replace it instead of removing it")
        }
        let isMultiValued = resource.multiValued.contains(name.lowercased())
        let index = members.firstIndex { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        let current = index.map { members[$0].value }

        func store(_ newValue: SCIMJSON?) {
            if let index {
                if let newValue, newValue != .null { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue, newValue != .null {
                members.append((name: name, value: newValue))
            }
        }

        // attr[filter] and attr[filter].sub: the values of a multi-valued attribute that match.
        if let filter = path.filter {
            guard isMultiValued else {
                throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "\(name) is not multi-valued: it takes no [filter]")
            }
            var elements = current?.elements ?? []
            var matching: [Int] = []
            for index in elements.indices where try filter.matches(elements[index]) {
                matching.append(index)
            }
            switch kind {
            case .remove:
                if let sub = path.subAttribute {
                    for index in matching { elements[index] = elements[index].removing(sub) }
                } else {
                    elements = elements.indices.filter { !matching.contains($0) }.map { elements[$0] }
                }
            case .add, .replace:
                guard let value else { return }
                if matching.isEmpty {
                    // Nothing matches (Entra ID's emails[type eq "work"].value on a user without
                    // one): the value is added, carrying the filter's equalities.
                    guard let seed = filter.equalities else {
                        throw SCIMError(status: .badRequest, scimType: .noTarget, detail: "No value of \(name) matches the path's filter")
                    }
                    var element = SCIMJSON.object(seed.map { (name: $0.0, value: $0.1) })
                    element = path.subAttribute.map { element.setting($0, to: value) } ?? (value.members.map { _ in value.merged(into: element) } ?? element)
                    elements.append(element)
                } else {
                    for index in matching {
                        elements[index] = path.subAttribute.map { elements[index].setting($0, to: value) }
                            ?? (kind == .replace ? value : value.merged(into: elements[index]))
                    }
                }
            }
            store(elements.isEmpty ? nil : .array(elements))
            return
        }

        // attr.sub on a complex attribute (name.givenName) or on every value of a multi-valued one.
        if let sub = path.subAttribute {
            if isMultiValued {
                guard var elements = current?.elements else {
                    if kind == .remove { return }
                    throw SCIMError(status: .badRequest, scimType: .noTarget, detail: "\(name) has no values to set \(sub) on")
                }
                for index in elements.indices {
                    elements[index] = kind == .remove ? elements[index].removing(sub) : elements[index].setting(sub, to: value ?? .null)
                }
                store(.array(elements))
            } else {
                let base = current ?? .object([])
                store(kind == .remove ? base.removing(sub) : base.setting(sub, to: value ?? .null))
            }
            return
        }

        switch kind {
        case .remove:
            if isMultiValued, let value, let toRemove = value.elements {
                // Entra ID: remove these values (compared by their "value").
                let keys = Set(toRemove.compactMap { $0["value"]?.string?.lowercased() })
                let remaining = (current?.elements ?? []).filter { element in
                    guard let key = element["value"]?.string?.lowercased() else { return true }
                    return !keys.contains(key)
                }
                store(remaining.isEmpty ? nil : .array(remaining))
            } else {
                store(nil)
            }
        case .add:
            if isMultiValued {
                let added = value?.elements ?? (value.map { [$0] } ?? [])
                var elements = current?.elements ?? []
                for element in added where !elements.contains(element) {
                    elements.append(element)
                }
                store(.array(elements))
            } else if let value, value.members != nil, let current, current.members != nil {
                store(value.merged(into: current))
            } else {
                store(value)
            }
        case .replace:
            if isMultiValued, let value, value.elements == nil, value != .null {
                store(.array([value]))
            } else {
                store(value)
            }
        }
    }
}

/// A PATCH path: `attrPath`, `attrPath[filter]` or `attrPath[filter].subAttribute`.
struct SCIMPatchPath: Sendable {
    /// The attribute (with its sub-attribute when written `name.sub`).
    var attribute: SCIMAttributePath
    /// The value filter, for `attr[filter]`.
    var filter: SCIMFilter?
    /// The sub-attribute: `name.sub`'s, or the one after `attr[filter]`.
    var subAttribute: String?
    /// Whether the path is an extension's URN alone (its whole object).
    var isWholeExtension = false

    init(attribute: SCIMAttributePath, filter: SCIMFilter? = nil) {
        self.attribute = attribute
        self.filter = filter
        self.subAttribute = attribute.subAttribute
    }

    /// The path naming a whole extension by its URN.
    init(extension urn: String) {
        self.init(attribute: SCIMAttributePath(schema: urn, name: urn))
        isWholeExtension = true
    }

    /// Reads a path of `resource` (an extension's URN alone names the extension's object).
    /// - Throws: ``SCIMError`` 400 `invalidPath`.
    init(parsing text: String, resource: SCIMPatch.Resource) throws(SCIMError) {
        guard text.count <= SCIMFilter.maximumLength else {
            throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "The path is too long")
        }
        if resource.extensions.contains(text.lowercased()) {
            self.init(extension: text)
            return
        }
        guard let open = text.firstIndex(of: "[") else {
            self.init(attribute: try SCIMAttributePath(parsing: Substring(text)))
            return
        }
        guard let close = text.lastIndex(of: "]"), close > open else {
            throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "The path's [filter] is not closed")
        }
        let attribute = try SCIMAttributePath(parsing: text[..<open])
        guard attribute.subAttribute == nil else {
            throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "A [filter] follows an attribute, not a sub-attribute")
        }
        let filter: SCIMFilter
        do {
            filter = try SCIMFilter.parse(String(text[text.index(after: open)..<close]))
        } catch {
            throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "The path's filter: \(error.detail)")
        }
        var rest = text[text.index(after: close)...]
        var sub: String?
        if !rest.isEmpty {
            guard rest.first == "." else {
                throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "Only .subAttribute may follow a path's [filter]")
            }
            rest = rest.dropFirst()
            let parsed = try SCIMAttributePath(parsing: rest)
            guard parsed.subAttribute == nil, parsed.schema == nil else {
                throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "\(rest.prefix(100)) is not a sub-attribute")
            }
            sub = parsed.name
        }
        self.init(attribute: attribute, filter: filter)
        self.subAttribute = sub
    }
}

extension SCIMPatch.Resource {
    /// The same resource seen from inside an extension's object: plain names, no extensions.
    var inside: SCIMPatch.Resource {
        SCIMPatch.Resource(schema: schema, extensions: [], multiValued: multiValued, required: required)
    }
}

extension SCIMFilter {
    /// Whether the value `element` of a multi-valued attribute matches this value filter
    /// (its paths name the element's sub-attributes; strings compare case-insensitively).
    /// - Throws: ``SCIMError`` 400 `invalidPath` for what a value filter cannot hold.
    func matches(_ element: SCIMJSON) throws(SCIMError) -> Bool {
        switch self {
        case .and(let left, let right):
            guard try left.matches(element) else { return false }
            return try right.matches(element)
        case .or(let left, let right):
            if try left.matches(element) { return true }
            return try right.matches(element)
        case .not(let inner): return try !inner.matches(element)
        case .valuePath:
            throw SCIMError(status: .badRequest, scimType: .invalidPath, detail: "Value filters cannot nest")
        case .present(let path):
            guard let value = element[path.name] else { return false }
            return value != .null && value != .string("")
        case .compare(let path, let op, let expected):
            // A simple multi-valued attribute's value is the element itself.
            let actual = element.members == nil && path.name.lowercased() == "value" ? element : element[path.name]
            return Self.compare(actual, op, expected)
        }
    }

    private static func compare(_ actual: SCIMJSON?, _ op: SCIMFilterOperator, _ expected: SCIMFilterValue) -> Bool {
        switch (actual, expected) {
        case (nil, .null), (.null?, .null): return op == .eq
        case (_, .null): return op == .ne
        case (.string(let a)?, .string(let b)):
            let (x, y) = (a.lowercased(), b.lowercased())
            switch op {
            case .eq: return x == y
            case .ne: return x != y
            case .co: return x.contains(y)
            case .sw: return x.hasPrefix(y)
            case .ew: return x.hasSuffix(y)
            case .gt: return x > y
            case .ge: return x >= y
            case .lt: return x < y
            case .le: return x <= y
            }
        case (.bool(let a)?, .bool(let b)):
            return op == .eq ? a == b : op == .ne ? a != b : false
        case (.number(let a)?, .number(let b)):
            switch op {
            case .eq: return a == b
            case .ne: return a != b
            case .gt: return a > b
            case .ge: return a >= b
            case .lt: return a < b
            case .le: return a <= b
            case .co, .sw, .ew: return false
            }
        default:
            return op == .ne
        }
    }

    /// The `sub eq value` terms of a filter made only of them joined by `and`: what a value
    /// added for a path that matched nothing carries. Nil for any other filter.
    var equalities: [(String, SCIMJSON)]? {
        switch self {
        case .compare(let path, .eq, let value) where path.subAttribute == nil && path.schema == nil:
            switch value {
            case .string(let text): return [(path.name, .string(text))]
            case .bool(let flag): return [(path.name, .bool(flag))]
            case .number(let number): return [(path.name, .number(number))]
            case .null: return nil
            }
        case .and(let left, let right):
            guard let l = left.equalities, let r = right.equalities else { return nil }
            return l + r
        default:
            return nil
        }
    }
}

extension SCIMJSON {
    /// This object with the member `name` set to `value` (removed when null).
    func setting(_ name: String, to value: SCIMJSON) -> SCIMJSON {
        var members = self.members ?? []
        if let index = members.firstIndex(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) {
            if value == .null { members.remove(at: index) } else { members[index].value = value }
        } else if value != .null {
            members.append((name: name, value: value))
        }
        return .object(members)
    }

    /// This object without the member `name`.
    func removing(_ name: String) -> SCIMJSON {
        setting(name, to: .null)
    }

    /// This object's members set on `base` (an add of a complex value merges, RFC 7644 §3.5.2.1).
    func merged(into base: SCIMJSON) -> SCIMJSON {
        var result = base
        for member in members ?? [] {
            result = result.setting(member.name, to: member.value)
        }
        return result
    }
}
