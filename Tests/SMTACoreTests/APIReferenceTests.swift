import Foundation
@testable import SMTACore
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

/// `docs/API.md` is the API reference generated from a migrated database's catalog
/// (`smta functions --markdown`); these tests regenerate it and fail when the committed file
/// differs, so the reference cannot drift from the schema.
@Suite("API reference")
struct APIReferenceTests {
    /// `docs/API.md`, found from this source file.
    static let committedFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/API.md")

    private func reference(_ migrations: [Migration]) async throws -> APIReference {
        let url = try await TestCluster.shared.database(migrated: migrations)
        return try await TestSQL.withConnection(to: url) { connection in
            try await APIReference.read(on: connection, logger: TestSQL.logger)
        }
    }

    @Test("docs/API.md is what the catalog of a migrated database says (set SMTA_UPDATE_API_DOC=1 to rewrite it)")
    func committedReferenceMatchesTheCatalog() async throws {
        let generated = try await reference(CoreSchema.migrations + SupabaseSchema.migrations).markdown
        if ProcessInfo.processInfo.environment["SMTA_UPDATE_API_DOC"] == "1" {
            try FileManager.default.createDirectory(
                at: Self.committedFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(generated.utf8).write(to: Self.committedFile)
        }
        let committed = (try? String(contentsOf: Self.committedFile, encoding: .utf8)) ?? ""
        let firstDifference = zip(committed.split(separator: "\n", omittingEmptySubsequences: false),
                                  generated.split(separator: "\n", omittingEmptySubsequences: false))
            .enumerated().first { $0.element.0 != $0.element.1 }
        #expect(
            committed == generated,
            """
            docs/API.md differs from the catalog\(firstDifference.map { " at line \($0.offset + 1): \($0.element.1)" } ?? " (length)"); \
            regenerate it: SMTA_UPDATE_API_DOC=1 swift test --filter APIReferenceTests \
            (or swift run smta functions --markdown --database-url … > docs/API.md)
            """)
    }

    @Test("both adapters serve the same API, so one reference describes either")
    func bothAdaptersHaveTheSameReference() async throws {
        let supabase = try await reference(CoreSchema.migrations + SupabaseSchema.migrations)
        let payload = try await reference(CoreSchema.migrations + PayloadSchema.migrations)
        #expect(supabase.markdown == payload.markdown)
    }

    @Test("every public function has a domain, a summary, callers, a result and errors in its comment")
    func everyFunctionIsDocumented() async throws {
        let reference = try await reference(CoreSchema.migrations + SupabaseSchema.migrations)
        #expect(!reference.domains.isEmpty)
        for (domain, functions) in reference.domains {
            for function in functions {
                #expect(domain != APIReference.otherDomain, "\(function.name) is under no heading of the comments migration")
                #expect(function.summary != nil, "\(function.name) has no comment")
                #expect(function.commentLine("Callers") != nil, "\(function.name)'s comment names no callers")
                #expect(function.commentLine("Returns") != nil, "\(function.name)'s comment says nothing of its result")
                #expect(function.commentLine("Errors") != nil, "\(function.name)'s comment names no errors")
            }
        }
    }

    @Test("arguments read as names and types, defaults as optional, OUT parameters left to the result")
    func argumentsAreListedReadably() {
        #expect(APIReference.argumentList("") == "none")
        #expect(
            APIReference.argumentList("p_org_id uuid, p_name text DEFAULT NULL::text")
                == "`p_org_id` uuid, `p_name` text (optional)")
        #expect(
            APIReference.argumentList("p_tags text[] DEFAULT ARRAY['a,b'::text], OUT id uuid")
                == "`p_tags` text[] (optional)")
    }
}
