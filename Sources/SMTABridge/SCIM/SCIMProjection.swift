import Hummingbird

/// What a request asks of the resources it gets back (RFC 7644 §3.4.2.4–5, §3.9): the
/// `attributes` to return, or the `excludedAttributes` to leave out, and the page of a list
/// (`startIndex`, 1-based, and `count`).
struct SCIMProjection: Sendable {
    /// The attributes asked for (`attributes`), as paths; empty for all.
    var attributes: [SCIMAttributePath] = []
    /// The attributes to leave out (`excludedAttributes`).
    var excluded: [SCIMAttributePath] = []
    /// The first result's 1-based index.
    var startIndex = 1
    /// How many results at most.
    var count = SCIMDiscovery.maximumResults

    /// Reads the query parameters.
    /// - Throws: ``SCIMError`` 400 `invalidValue` for an unreadable attribute list or number.
    init(_ parameters: [(String, String)]) throws(SCIMError) {
        for (name, value) in parameters {
            switch name.lowercased() {
            case "attributes": attributes = try Self.paths(value)
            case "excludedattributes": excluded = try Self.paths(value)
            case "startindex":
                guard let number = Int(value) else {
                    throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "startIndex must be an integer")
                }
                // RFC 7644 §3.4.2.4: a value below 1 is read as 1.
                startIndex = max(1, number)
            case "count":
                guard let number = Int(value) else {
                    throw SCIMError(status: .badRequest, scimType: .invalidValue, detail: "count must be an integer")
                }
                // A negative count is read as 0; above the maximum, the maximum.
                count = min(max(0, number), SCIMDiscovery.maximumResults)
            default: break
            }
        }
    }

    private static func paths(_ list: String) throws(SCIMError) -> [SCIMAttributePath] {
        var paths: [SCIMAttributePath] = []
        for part in list.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            paths.append(try SCIMAttributePath(parsing: Substring(trimmed), kind: .invalidValue))
        }
        return paths
    }

    /// `document` with only what was asked for; `id` and `schemas` are always returned.
    func apply(to document: SCIMJSON) -> SCIMJSON {
        guard var members = document.members, !(attributes.isEmpty && excluded.isEmpty) else { return document }
        if !attributes.isEmpty {
            members = members.compactMap { member in
                if ["id", "schemas"].contains(member.name) { return member }
                return Self.keep(member, of: attributes)
            }
        }
        for path in excluded {
            members = members.compactMap { member in Self.drop(path, from: member) }
        }
        return .object(members)
    }

    /// `member` reduced to the paths that name it or its sub-attributes; nil when none does.
    private static func keep(_ member: (name: String, value: SCIMJSON), of paths: [SCIMAttributePath]) -> (name: String, value: SCIMJSON)? {
        if member.name.lowercased().hasPrefix("urn:") {
            // An extension's object: its attributes, named with the extension's URN.
            let inner = paths.filter { $0.schema?.caseInsensitiveCompare(member.name) == .orderedSame }
                .map { SCIMAttributePath(name: $0.name, subAttribute: $0.subAttribute) }
            if paths.contains(where: { $0.schema == nil && $0.name.caseInsensitiveCompare(member.name) == .orderedSame }) {
                return member
            }
            guard !inner.isEmpty, let extensionMembers = member.value.members else { return nil }
            let kept = extensionMembers.compactMap { keep($0, of: inner) }
            return kept.isEmpty ? nil : (member.name, .object(kept))
        }
        let naming = paths.filter { $0.name.caseInsensitiveCompare(member.name) == .orderedSame }
        guard !naming.isEmpty else { return nil }
        if naming.contains(where: { $0.subAttribute == nil }) { return member }
        let subs = Set(naming.compactMap { $0.subAttribute?.lowercased() })
        func reduce(_ value: SCIMJSON) -> SCIMJSON {
            .object((value.members ?? []).filter { subs.contains($0.name.lowercased()) })
        }
        if let elements = member.value.elements {
            return (member.name, .array(elements.map(reduce)))
        }
        return (member.name, reduce(member.value))
    }

    /// `member` without what `path` names; nil when that is all of it.
    private static func drop(_ path: SCIMAttributePath, from member: (name: String, value: SCIMJSON)) -> (name: String, value: SCIMJSON)? {
        if ["id", "schemas"].contains(member.name) { return member }
        if let schema = path.schema, schema.caseInsensitiveCompare(member.name) == .orderedSame {
            guard let inner = member.value.members else { return member }
            let kept = inner.compactMap { drop(SCIMAttributePath(name: path.name, subAttribute: path.subAttribute), from: $0) }
            return kept.isEmpty ? nil : (member.name, .object(kept))
        }
        guard path.name.caseInsensitiveCompare(member.name) == .orderedSame else { return member }
        guard let sub = path.subAttribute else { return nil }
        if let elements = member.value.elements {
            return (member.name, .array(elements.map { $0.removing(sub) }))
        }
        return (member.name, member.value.removing(sub))
    }
}
