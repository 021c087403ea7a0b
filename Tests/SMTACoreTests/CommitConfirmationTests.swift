import Foundation
import PostgresNIO
import SMTACore
import SMTATestSupport
import Testing

/// `PostgresConnection.committedQuery`: rows count as a result only once PostgreSQL has
/// confirmed the commit that follows them.
///
/// A commit that fails after the rows is made deterministic here by a deferred constraint
/// trigger, which PostgreSQL fires at commit — after the statement's rows and CommandComplete —
/// exactly the window in which a terminated backend loses a write. The trigger first raises a
/// notice, which makes PostgreSQL flush what it has buffered (the rows, CommandComplete), then
/// waits before failing: the client holds the rows well before the error, as it does when a
/// backend is terminated at the wrong moment.
@Suite("Commit confirmation: rows are a result only once their commit is confirmed")
struct CommitConfirmationTests {
    /// A table whose every insert fails at commit, and one whose inserts commit.
    private static let schema = [
        "create table refused_at_commit (id int)",
        """
        create function refuse_at_commit() returns trigger language plpgsql as $$
        begin
          raise notice 'committing';
          perform pg_sleep(0.3);
          raise exception 'refused at commit';
        end $$
        """,
        """
        create constraint trigger refuse_at_commit after insert on refused_at_commit
          deferrable initially deferred for each row execute function refuse_at_commit()
        """,
        "create table accepted (id int)",
    ]

    private func database() async throws -> DatabaseURL {
        let url = try await TestCluster.shared.emptyDatabase()
        for statement in Self.schema {
            try await TestSQL.execute(statement, on: url)
        }
        return url
    }

    private func count(_ table: String, on url: DatabaseURL) async throws -> Int {
        try await TestSQL.withConnection(to: url) { connection in
            try await connection.guardedQuery(PostgresQuery(unsafeSQL: "select count(*)::int from \(table)"), logger: TestSQL.logger)[0]
                .decode(Int.self)
        }
    }

    @Test("a statement whose commit fails after its rows were sent is 'may have run', never a result; nothing is written")
    func commitFailingAfterRows() async throws {
        let url = try await database()
        let error = await #expect(throws: DatabaseError.self) {
            try await TestSQL.withConnection(to: url) { connection in
                try await connection.committedQuery("insert into refused_at_commit values (1) returning id", logger: TestSQL.logger)
            }
        }
        #expect(error?.mayHaveRun == true)
        #expect(error?.sqlState == nil, "a server error would read as 'nothing applied'")
        #expect(try await count("refused_at_commit", on: url) == 0)
    }

    @Test("without the confirmation, the same statement's rows come back although nothing committed (the hazard)")
    func hazardWithoutConfirmation() async throws {
        let url = try await database()
        let rows = try await TestSQL.withConnection(to: url) { connection in
            try await connection.guardedQuery("insert into refused_at_commit values (1) returning id", logger: TestSQL.logger)
                .map { try $0.decode(Int.self) }
        }
        #expect(rows == [1])
        #expect(try await count("refused_at_commit", on: url) == 0)
    }

    @Test("a statement that commits returns its rows, is in the database, and its connection runs the next statement")
    func committedStatement() async throws {
        let url = try await database()
        let (ids, next) = try await TestSQL.withConnection(to: url) { connection in
            let rows = try await connection.committedQuery("insert into accepted values (7), (8) returning id", logger: TestSQL.logger)
            let ids = try rows.map { try $0.decode(Int.self) }
            let next = try await connection.guardedQuery("select count(*)::int from accepted", logger: TestSQL.logger)[0].decode(Int.self)
            return (ids, next)
        }
        #expect(ids == [7, 8])
        #expect(next == 2)
        #expect(try await count("accepted", on: url) == 2)
    }
}
