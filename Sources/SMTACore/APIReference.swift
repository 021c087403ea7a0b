import Foundation
import Logging
import PostgresNIO
import SMTASchema

/// The reference of SMTA's API — every function of schema `public` — read from a database's
/// catalog: each function's arguments, result, the roles that may execute it and its comment
/// (migration `0060_api_comments`: a summary line, then `Callers:`, `Returns:` and `Errors:`).
///
/// Functions are grouped by domain as the comments migration groups them (its `-- Title`
/// headings); a function no heading covers is listed under "Other". `smta functions` prints it,
/// and `docs/API.md` is its Markdown form, kept in sync by a test.
public struct APIReference: Sendable {
    /// One function (one overload) of `public`.
    public struct Function: Sendable {
        /// Its name.
        public var name: String
        /// Its arguments as PostgreSQL declares them (`p_org_id uuid, p_name text DEFAULT NULL::text`).
        public var arguments: String
        /// Its result as PostgreSQL declares it (`uuid`, `SETOF …`, `TABLE(id uuid, …)`, `void`).
        public var result: String
        /// Whether it is `STABLE` or `IMMUTABLE`, so callable with `GET` too.
        public var isReadOnly: Bool
        /// The roles granted `EXECUTE` on it, among `anon`, `authenticated` and `service_role`.
        public var executableBy: [String]
        /// Its comment, if any.
        public var comment: String?

        /// The comment's first line: what the function does.
        public var summary: String? { comment.flatMap { $0.split(separator: "\n").first.map(String.init) } }

        /// The comment's line starting with `label` (`Callers:`), without the label.
        public func commentLine(_ label: String) -> String? {
            for line in (comment ?? "").split(separator: "\n") where line.hasPrefix(label + ":") {
                return line.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }

        /// The comment's lines between the summary and the labelled ones: more about it.
        public var notes: [String] {
            (comment ?? "").split(separator: "\n").dropFirst().map(String.init).filter { line in
                !["Callers:", "Returns:", "Errors:"].contains { line.hasPrefix($0) }
            }
        }
    }

    /// The domains in reading order, each with its functions.
    public var domains: [(name: String, functions: [Function])]

    /// The domain a function is listed under when no heading of the comments migration covers it.
    public static let otherDomain = "Other"

    /// Reads the reference from the database `connection` is connected to.
    public static func read(on connection: PostgresConnection, logger: Logger) async throws -> APIReference {
        var functions: [Function] = []
        for row in try await connection.guardedQuery(query, logger: logger) {
            let (name, arguments, result, isReadOnly, anon, authenticated, service, comment) = try row.decode(
                (String, String, String, Bool, Bool, Bool, Bool, String?).self)
            let roles = [(anon, "anon"), (authenticated, "authenticated"), (service, "service_role")]
                .filter(\.0).map(\.1)
            functions.append(Function(
                name: name, arguments: arguments, result: result, isReadOnly: isReadOnly, executableBy: roles,
                comment: comment))
        }
        return APIReference(functions: functions)
    }

    /// Groups `functions` by domain, in the comments migration's order.
    public init(functions: [Function]) {
        let headings = Self.headings()
        var grouped: [String: [Function]] = [:]
        for function in functions {
            grouped[headings.domain[function.name] ?? Self.otherDomain, default: []].append(function)
        }
        let order = headings.order + [Self.otherDomain]
        domains = order.compactMap { domain in
            guard let members = grouped[domain] else { return nil }
            let sorted = members.sorted { left, right in
                let (l, r) = (headings.position[left.name] ?? .max, headings.position[right.name] ?? .max)
                return (l, left.name, left.arguments) < (r, right.name, right.arguments)
            }
            return (domain, sorted)
        }
    }

    /// The `-- Title` headings of the core migrations (framed by `-- ====` lines) and the
    /// functions commented under each, in order.
    static func headings() -> (order: [String], domain: [String: String], position: [String: Int]) {
        var order: [String] = []
        var domain: [String: String] = [:]
        var position: [String: Int] = [:]
        for migration in CoreSchema.migrations {
            var heading: String?
            let lines = migration.sql.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                if line.hasPrefix("-- ===="), index + 2 < lines.count, lines[index + 2].hasPrefix("-- ===="),
                    lines[index + 1].hasPrefix("-- ")
                {
                    let title = lines[index + 1].dropFirst(3).trimmingCharacters(in: .whitespaces)
                    heading = title
                    if !order.contains(title) { order.append(title) }
                }
                let prefix = "comment on function public."
                guard let heading, line.hasPrefix(prefix) else { continue }
                let name = String(line.dropFirst(prefix.count).prefix { $0 != "(" })
                if domain[name] == nil { position[name] = position.count }
                domain[name] = heading
            }
        }
        return (order, domain, position)
    }

    // MARK: Text

    /// The reference for a terminal: per domain, each function's call, result, callers and
    /// summary.
    public var text: String {
        var lines: [String] = []
        for (domain, functions) in domains {
            lines.append(domain)
            for function in functions {
                lines.append("  \(function.name)(\(function.arguments)) → \(function.result)")
                if let summary = function.summary { lines.append("      \(summary)") }
                let callers = function.commentLine("Callers") ?? "see the grants"
                lines.append("      callers: \(callers) [execute: \(Self.roles(function))]")
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Markdown

    /// The reference as Markdown: what `docs/API.md` holds.
    public var markdown: String {
        var out = """
            # SMTA API reference

            <!-- Generated by `smta functions --markdown` from a database migrated by smta; do not edit.
                 APIReferenceTests fails when this file differs from what the catalog says. -->

            Every function of schema `public`, as the database's catalog and the functions' comments
            (`Schema/migrations/0060_api_comments.sql`) describe them. Call one through the bridge with
            `POST /rpc/{function}` and a JSON object of named arguments (`GET /rpc/{function}?arg=…` too
            for read-only ones), or from SQL. *Execute* lists the database roles granted `EXECUTE`:
            `authenticated` is any signed-in user, `anon` a request without one, `service_role` your
            back end; *Callers* says what the function itself checks.

            """
        out += "\n"
        for (domain, functions) in domains {
            let names = Array(Set(functions.map(\.name))).sorted { a, b in
                (functions.firstIndex { $0.name == a } ?? 0) < (functions.firstIndex { $0.name == b } ?? 0)
            }
            out += "- [\(domain)](#\(Self.anchor(domain))): " + names.map { "`\($0)`" }.joined(separator: ", ") + "\n"
        }
        for (domain, functions) in domains {
            out += "\n## \(domain)\n"
            for function in functions {
                out += "\n### `\(function.name)`\n\n"
                if let summary = function.summary { out += summary + "\n" }
                let notes = function.notes
                if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
                out += "\n"
                out += "- **Call:** `\(function.isReadOnly ? "GET or POST" : "POST") /rpc/\(function.name)`"
                    + " — `public.\(function.name)(\(function.arguments))`\n"
                out += "- **Arguments:** " + Self.argumentList(function.arguments) + "\n"
                out += "- **Result:** `\(function.result)`"
                if let returns = function.commentLine("Returns") { out += " — \(returns)" }
                out += "\n"
                out += "- **Execute:** \(Self.roles(function))"
                if let callers = function.commentLine("Callers") { out += "; **Callers:** \(callers)" }
                out += "\n"
                if let errors = function.commentLine("Errors") { out += "- **Errors:** \(errors)\n" }
            }
        }
        return out
    }

    private static func roles(_ function: Function) -> String {
        function.executableBy.isEmpty ? "no API role" : function.executableBy.map { "`\($0)`" }.joined(separator: ", ")
    }

    /// `p_org_id uuid, p_name text DEFAULT NULL::text` as `` `p_org_id` uuid, `p_name` text (optional) ``.
    static func argumentList(_ arguments: String) -> String {
        guard !arguments.isEmpty else { return "none" }
        // OUT parameters are part of the result, which lists them.
        let inputs = splitArguments(arguments).filter { !$0.hasPrefix("OUT ") }
            .map { $0.hasPrefix("IN ") ? String($0.dropFirst(3)) : $0 }
        guard !inputs.isEmpty else { return "none" }
        return inputs.map { argument in
            var words = argument.split(separator: " ", maxSplits: 1).map(String.init)
            var optional = false
            if let range = words.last?.range(of: " DEFAULT ") {
                words[words.count - 1] = String(words[words.count - 1][..<range.lowerBound])
                optional = true
            }
            guard words.count == 2 else { return "`\(argument)`" }
            return "`\(words[0])` \(words[1])\(optional ? " (optional)" : "")"
        }.joined(separator: ", ")
    }

    /// Splits PostgreSQL's argument list at top-level commas (a default may hold parentheses).
    private static func splitArguments(_ text: String) -> [String] {
        var parts: [String] = []
        var depth = 0
        var inQuote = false
        var current = ""
        for character in text {
            switch character {
            case "'": inQuote.toggle()
            case "(" where !inQuote: depth += 1
            case ")" where !inQuote: depth -= 1
            case "," where !inQuote && depth == 0:
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        parts.append(current.trimmingCharacters(in: .whitespaces))
        return parts
    }

    /// GitHub's anchor for a heading.
    private static func anchor(_ heading: String) -> String {
        heading.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : $0 == " " ? "-" : "" }.joined()
    }

    /// One row per plain function of `public` (no procedures, aggregates or window functions).
    private static let query: PostgresQuery = """
        select p.proname::text,
               pg_catalog.pg_get_function_arguments(p.oid),
               pg_catalog.pg_get_function_result(p.oid),
               p.provolatile in ('s', 'i'),
               pg_catalog.has_function_privilege('anon', p.oid, 'execute'),
               pg_catalog.has_function_privilege('authenticated', p.oid, 'execute'),
               pg_catalog.has_function_privilege('service_role', p.oid, 'execute'),
               pg_catalog.obj_description(p.oid, 'pg_proc')
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prokind = 'f'
        order by p.proname, pg_catalog.pg_get_function_arguments(p.oid)
        """
}
