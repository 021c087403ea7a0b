import ArgumentParser
import Foundation
import SMTACore

/// `smta doctor`: inspects a database for tenant tables left open or slow and for unsafe
/// functions, and says per object what is wrong.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Inspect a database: app tables without RLS or membership policies, slow policies, unsafe functions.",
        discussion: """
            Reads only the system catalogs. Checks: app tables without row-level security, \
            without FORCE, without a policy checking membership, without an index on their tenant \
            column; policies calling a membership helper once per row; SECURITY DEFINER functions \
            without a pinned search_path; API functions (schema public) executable by anon; \
            extensions in schema public. With --citus, also what would keep the app tables from \
            being distributed on their tenant column: no such column or a nullable one, unique \
            keys without it, foreign keys that do not pair it.

            Exit status: 0 when nothing is wrong, 1 when something is, 2 when the database could \
            not be inspected (configuration, connection or permission problem).
            """
    )

    /// Exit status when something is wrong.
    static let problemsFound: Int32 = 1
    /// Exit status when the database could not be inspected.
    static let couldNotInspect: Int32 = 2

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: "Print the report as JSON (for CI).")
    var json = false

    @Flag(help: "Also check that the app tables could be distributed by Citus (docs/scaling.md).")
    var citus = false

    @Option(help: "With --citus: the distribution column.")
    var distributionColumn = "organization_id"

    func run() async throws {
        let report: DoctorReport
        do {
            report = try await Doctor(citus: citus ? CitusReadiness(column: distributionColumn) : nil)
                .inspect(options.load().requiredDatabaseURL())
        } catch {
            FileHandle.standardError.write(Data("smta doctor: could not inspect the database: \(error)\n".utf8))
            throw ExitCode(Self.couldNotInspect)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.humanReadable(report))
        }
        if !report.clean { throw ExitCode(Self.problemsFound) }
    }

    /// The report for a terminal: what was inspected, then each problem under its object.
    static func humanReadable(_ report: DoctorReport) -> String {
        let counted = report.inspected
        var lines = [
            "Inspected \(report.database): \(counted.appTables) app table(s), \(counted.policies) policies, "
                + "\(counted.functions) functions, \(counted.extensions) extension(s).",
        ]
        guard !report.clean else {
            lines.append("No problems found.")
            return lines.joined(separator: "\n")
        }
        var objects: [String] = []
        var byObject: [String: [DoctorFinding]] = [:]
        for finding in report.findings {
            if byObject[finding.object] == nil { objects.append(finding.object) }
            byObject[finding.object, default: []].append(finding)
        }
        for object in objects {
            lines.append("")
            lines.append(object)
            for finding in byObject[object] ?? [] {
                lines.append("  ✗ [\(finding.kind.rawValue)] \(finding.message)")
            }
        }
        lines.append("")
        lines.append("\(report.findings.count) problem(s) found.")
        return lines.joined(separator: "\n")
    }
}
