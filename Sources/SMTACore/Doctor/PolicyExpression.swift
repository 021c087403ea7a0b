/// A policy's USING or WITH CHECK expression as PostgreSQL stores it (`pg_policy.polqual`, a
/// `pg_node_tree`), read well enough to answer the doctor's two questions: which membership
/// helpers it calls with a row's column (once per row), and which of the table's columns it
/// compares with the caller's memberships (its tenant columns).
///
/// The text format is PostgreSQL's node serialization: `{FUNCEXPR :funcid 16400 :args ({VAR
/// :varno 1 :varattno 2 …})}`, lists in parentheses, constants as `[ bytes ]`, `<>` for null and
/// backslash escapes inside tokens.
struct PolicyExpression: Sendable {
    /// A node of the serialized tree.
    indirect enum Node: Sendable {
        /// `{TYPE :field value …}`; a field may hold several values (a constant's length and bytes).
        case object(type: String, fields: [String: [Node]])
        /// `( … )` or `[ … ]`.
        case list([Node])
        /// Any other token: a number, a name, `<>`.
        case atom(String)

        /// The single value of `field` as an integer, when this is an object holding one.
        func integer(_ field: String) -> Int64? {
            guard case .object(_, let fields) = self, let values = fields[field], values.count == 1,
                case .atom(let text) = values[0]
            else { return nil }
            return Int64(text)
        }
    }

    /// The expression is not a node tree this reader understands.
    struct Malformed: Error, CustomStringConvertible {
        var description: String { "unreadable policy expression (pg_node_tree)" }
    }

    /// The root of the tree.
    let root: Node

    /// Parses the text of a `pg_node_tree`.
    init(parsing text: String) throws {
        var reader = Reader(bytes: Array(text.utf8))
        guard let root = try reader.node(), reader.atEnd else { throw Malformed() }
        self.root = root
    }

    /// The functions among `helpers` that the expression calls with an argument depending on a
    /// row (any column reference), so that PostgreSQL runs them once per row.
    func perRowCalls(of helpers: Set<Int64>) -> Set<Int64> {
        var found: Set<Int64> = []
        visit(root) { node in
            guard case .object("FUNCEXPR", let fields) = node, let function = node.integer("funcid"),
                helpers.contains(function), let arguments = fields["args"],
                arguments.contains(where: { Self.contains($0) { Self.isColumnReference($0) } })
            else { return }
            found.insert(function)
        }
        return found
    }

    /// The attribute numbers of the policy table's columns that the expression compares with the
    /// caller's memberships: arguments of a call to one of `functions` (`core.is_org_member(org)`),
    /// or operands of a comparison whose other side calls one (`org = any ((select
    /// core.current_user_org_ids()))`) or reads a column of one of `tables`
    /// (`m.organization_id = t.organization_id` inside an EXISTS over `core.memberships`).
    func tenantColumns(functions: Set<Int64>, tables: Set<Int64>, table: Int64) -> Set<Int> {
        var columns: Set<Int> = []
        walk(root, scopes: [[table]], functions: functions, tables: tables, into: &columns)
        return columns
    }

    // MARK: Walking

    /// `scopes` holds, per query level (outermost first), the relation ids of its range table:
    /// a column reference with `varlevelsup` L at depth D points into `scopes[D - L]`.
    private func walk(_ node: Node, scopes: [[Int64]], functions: Set<Int64>, tables: Set<Int64>, into columns: inout Set<Int>) {
        switch node {
        case .atom:
            return
        case .list(let items):
            for item in items { walk(item, scopes: scopes, functions: functions, tables: tables, into: &columns) }
        case .object(let type, let fields):
            var scopes = scopes
            if type == "QUERY" {
                scopes.append(Self.rangeTable(fields["rtable"] ?? []))
            }
            let arguments = fields["args"].flatMap { values -> [Node]? in
                guard values.count == 1, case .list(let items) = values[0] else { return nil }
                return items
            }
            if let arguments {
                if type == "FUNCEXPR", let function = node.integer("funcid"), functions.contains(function) {
                    for argument in arguments {
                        Self.visit(argument) { inner in
                            if let column = Self.tableColumn(inner, scopes: scopes) { columns.insert(column) }
                        }
                    }
                } else if type == "OPEXPR" || type == "SCALARARRAYOPEXPR" {
                    let involvesMembership = arguments.contains { argument in
                        Self.contains(argument) { inner in
                            if let function = inner.integer("funcid"), case .object("FUNCEXPR", _) = inner {
                                return functions.contains(function)
                            }
                            return Self.relation(of: inner, scopes: scopes).map(tables.contains) ?? false
                        }
                    }
                    if involvesMembership {
                        for argument in arguments {
                            if let column = Self.tableColumn(Self.unwrapped(argument), scopes: scopes) {
                                columns.insert(column)
                            }
                        }
                    }
                }
            }
            for values in fields.values {
                for value in values { walk(value, scopes: scopes, functions: functions, tables: tables, into: &columns) }
            }
        }
    }

    /// The relation ids of a query's range table, in order (0 for entries that are not relations).
    private static func rangeTable(_ values: [Node]) -> [Int64] {
        guard values.count == 1, case .list(let entries) = values[0] else { return [] }
        return entries.map { $0.integer("relid") ?? 0 }
    }

    /// The relation a column reference points to, given the query levels around it.
    private static func relation(of node: Node, scopes: [[Int64]]) -> Int64? {
        guard case .object("VAR", _) = node, let number = node.integer("varno"),
            let levelsUp = node.integer("varlevelsup")
        else { return nil }
        let level = scopes.count - 1 - Int(levelsUp)
        guard scopes.indices.contains(level), number >= 1, Int(number) <= scopes[level].count else { return nil }
        return scopes[level][Int(number) - 1]
    }

    /// The attribute number, when `node` references a column of the policy's own table.
    private static func tableColumn(_ node: Node, scopes: [[Int64]]) -> Int? {
        guard case .object("VAR", _) = node, let levelsUp = node.integer("varlevelsup"),
            Int(levelsUp) == scopes.count - 1, node.integer("varno") == 1,
            let attribute = node.integer("varattno"), attribute > 0
        else { return nil }
        return Int(attribute)
    }

    /// A column reference under a no-op coercion (`org_id::uuid` on a domain) is still that column.
    private static func unwrapped(_ node: Node) -> Node {
        guard case .object(let type, let fields) = node, type == "RELABELTYPE" || type == "COERCEVIAIO",
            let inner = fields["arg"], inner.count == 1
        else { return node }
        return unwrapped(inner[0])
    }

    private static func isColumnReference(_ node: Node) -> Bool {
        if case .object("VAR", _) = node { return true }
        return false
    }

    /// Whether `node` or any node under it satisfies `predicate`.
    private static func contains(_ node: Node, where predicate: (Node) -> Bool) -> Bool {
        if predicate(node) { return true }
        switch node {
        case .atom: return false
        case .list(let items): return items.contains { contains($0, where: predicate) }
        case .object(_, let fields): return fields.values.contains { $0.contains { contains($0, where: predicate) } }
        }
    }

    private func visit(_ node: Node, _ body: (Node) -> Void) { Self.visit(node, body) }

    /// Calls `body` with `node` and every node under it.
    private static func visit(_ node: Node, _ body: (Node) -> Void) {
        body(node)
        switch node {
        case .atom: return
        case .list(let items): for item in items { visit(item, body) }
        case .object(_, let fields): for values in fields.values { for value in values { visit(value, body) } }
        }
    }

    // MARK: Reading the text

    /// Tokens and nodes of the serialized form, on UTF-8 bytes.
    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return position == bytes.count
            }
        }

        /// The next node, or nil at the end of the text or before a closing bracket.
        mutating func node() throws -> Node? {
            skipSpace()
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                return try object()
            case UInt8(ascii: "("), UInt8(ascii: "["):
                let closing = bytes[position] == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
                position += 1
                var items: [Node] = []
                while true {
                    skipSpace()
                    guard position < bytes.count else { throw Malformed() }
                    if bytes[position] == closing {
                        position += 1
                        return .list(items)
                    }
                    guard let item = try node() else { throw Malformed() }
                    items.append(item)
                }
            case UInt8(ascii: "}"), UInt8(ascii: ")"), UInt8(ascii: "]"):
                return nil
            default:
                return .atom(token())
            }
        }

        /// After `{`: the type, then `:field value…` pairs up to `}`.
        private mutating func object() throws -> Node {
            skipSpace()
            let type = token()
            guard !type.isEmpty else { throw Malformed() }
            var fields: [String: [Node]] = [:]
            var field: String?
            while true {
                skipSpace()
                guard position < bytes.count else { throw Malformed() }
                if bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .object(type: type, fields: fields)
                }
                if bytes[position] == UInt8(ascii: ":") {
                    let name = String(token().dropFirst())
                    fields[name] = []
                    field = name
                    continue
                }
                guard let name = field, let value = try node() else { throw Malformed() }
                fields[name, default: []].append(value)
            }
        }

        /// One token: up to whitespace or an unescaped bracket; `\x` stands for `x`, and a
        /// double-quoted string runs to its closing quote.
        private mutating func token() -> String {
            var text: [UInt8] = []
            var quoted = false
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\\"), position + 1 < bytes.count {
                    text.append(bytes[position + 1])
                    position += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    quoted.toggle()
                    text.append(byte)
                    position += 1
                    continue
                }
                if !quoted && (Self.isSpace(byte) || Self.isBracket(byte)) { break }
                text.append(byte)
                position += 1
            }
            return String(decoding: text, as: UTF8.self)
        }

        private mutating func skipSpace() {
            while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
        }

        private static func isSpace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
        }

        private static func isBracket(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"),
                UInt8(ascii: "["), UInt8(ascii: "]"):
                return true
            default:
                return false
            }
        }
    }
}
