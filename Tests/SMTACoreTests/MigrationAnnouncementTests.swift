import PostgresNIO
import SMTACore
import SMTAPayload
import SMTASchema
import SMTATestSupport
import Testing

/// `smta migrate` tells the bridges on the database to reload their function catalog, so that
/// several bridges never disagree on what the schema holds.
@Suite("Migrations are announced to the bridges")
struct MigrationAnnouncementTests {
    /// The payloads received on channel `smta`.
    actor Received {
        private(set) var payloads: [String] = []

        func add(_ payload: String) {
            payloads.append(payload)
        }
    }

    @Test("a run that applied migrations sends NOTIFY smta 'reload schema'; a run with nothing to apply sends nothing")
    func announced() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let migrations = CoreSchema.migrations + PayloadSchema.migrations
        try await TestSQL.withConnection(to: url) { listener in
            try await listener.listen(on: "smta") { notifications in
                let received = Received()
                let listening = Task {
                    for try await notification in notifications {
                        await received.add(notification.payload)
                    }
                }
                defer { listening.cancel() }

                try await Migrator(migrations: migrations).migrate(url)
                #expect(try await Self.payloads(of: received, count: 1, within: .seconds(10)) == ["reload schema"])

                #expect(try await Migrator(migrations: migrations).migrate(url).isEmpty)
                // Nothing more arrives: give a notification ample time to come.
                #expect(try await Self.payloads(of: received, count: 2, within: .seconds(1)) == ["reload schema"])
            }
        }
    }

    /// What `received` holds once it holds `count` payloads, or when `within` has passed.
    static func payloads(of received: Received, count: Int, within: Duration) async throws -> [String] {
        let deadline = ContinuousClock.now.advanced(by: within)
        while await received.payloads.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return await received.payloads
    }
}
