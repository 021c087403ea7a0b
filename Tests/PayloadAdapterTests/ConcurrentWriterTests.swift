import Foundation
import GRDB
import SMTACore
import SMTAPayload
import Testing

@Suite("The SQLite store keeps verifying while Payload writes the same file")
struct ConcurrentWriterTests {
    @Test("readers verify a live session throughout while another connection inserts and deletes sessions", arguments: [false, true])
    func readersDuringWrites(walMode: Bool) async throws {
        let fixture = try SQLitePayloadFixture()
        if walMode {
            try await fixture.writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
        }
        let (_, token) = try await fixture.signedInUser(id: .number(1), email: "a@example.com")
        try await fixture.addUser("users", id: .number(2), email: "b@example.com", verified: true)
        let revokedSids = (0..<100).map { _ in UUID().uuidString.lowercased() }
        try await fixture.withAdapter { adapter in
            let accepted = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    for sid in revokedSids {
                        try await fixture.addSession("users", user: .number(2), sid: sid, expiresAt: Date().addingTimeInterval(600))
                        try await fixture.deleteSession("users", sid: sid)
                    }
                    return 0
                }
                for _ in 0..<4 {
                    group.addTask {
                        var count = 0
                        for _ in 0..<100 {
                            _ = try await adapter.identify(.jwt(token))
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(accepted == 400)
            let revoked = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 2, sid: revokedSids[42]))
            #expect(await adapter.refusal(.jwt(revoked))?.kind == .revoked)
        }
    }
}
