import Foundation
import SMTACore
import Testing

@testable import SMTABridge

/// Read-your-writes within one bridge: who wrote within `replica_lag` reads from the primary.
@Suite("Writers' reads stay on the primary for replica_lag")
struct WriterStickinessTests {
    static func user(_ id: UUID = UUID()) -> Identity {
        Identity(userID: id, email: nil, role: .authenticated, claimsJSON: #"{"role":"authenticated"}"#, source: "test")
    }

    @Test("a writer is sticky for the window after its write, and no longer; nobody else is")
    func window() {
        let stickiness = WriterStickiness(window: .seconds(6))
        let writer = Self.user(), other = Self.user()
        let wrote = ContinuousClock.now
        stickiness.noteWrite(by: writer, now: wrote)
        #expect(stickiness.isSticky(writer, now: wrote))
        #expect(stickiness.isSticky(writer, now: wrote.advanced(by: .milliseconds(5999))))
        #expect(!stickiness.isSticky(writer, now: wrote.advanced(by: .seconds(6))))
        #expect(!stickiness.isSticky(other, now: wrote))
        // The same user through another token (new claims) is the same writer.
        let sameUser = Identity(
            userID: writer.userID, email: "w@example.com", role: .authenticated, claimsJSON: #"{"iat":2}"#, source: "test")
        #expect(stickiness.isSticky(sameUser, now: wrote))
    }

    @Test("linked subjects without a user id are told apart by provider and subject")
    func linkedSubjects() {
        let stickiness = WriterStickiness(window: .seconds(6))
        func linked(_ subject: String) -> Identity {
            Identity(
                userID: nil, email: nil, role: .authenticated, claimsJSON: "{}", source: "test",
                link: Identity.Link(provider: "payload", subject: subject, email: nil))
        }
        let now = ContinuousClock.now
        stickiness.noteWrite(by: linked("users:1"), now: now)
        #expect(stickiness.isSticky(linked("users:1"), now: now))
        #expect(!stickiness.isSticky(linked("users:2"), now: now))
    }

    @Test("expired writers are dropped when the table fills; writers within the window stay")
    func pruning() {
        let stickiness = WriterStickiness(window: .seconds(6))
        let start = ContinuousClock.now
        let recent = Self.user()
        for _ in 0..<(WriterStickiness.pruneThreshold - 2) {
            stickiness.noteWrite(by: Self.user(), now: start)
        }
        stickiness.noteWrite(by: recent, now: start.advanced(by: .seconds(5)))
        let late = Self.user()
        stickiness.noteWrite(by: late, now: start.advanced(by: .seconds(10)))
        stickiness.noteWrite(by: Self.user(), now: start.advanced(by: .seconds(10)))
        #expect(stickiness.isSticky(recent, now: start.advanced(by: .seconds(10))))
        #expect(stickiness.isSticky(late, now: start.advanced(by: .seconds(10))))
        #expect(stickiness.count == 3)
    }

    @Test("with more live writers than the threshold, a write does not prune the table each time")
    func manyLiveWriters() {
        let stickiness = WriterStickiness(window: .seconds(6))
        let start = ContinuousClock.now
        let writers = 5 * WriterStickiness.pruneThreshold
        for index in 0..<writers {
            // All within one window: nothing can be dropped.
            stickiness.noteWrite(by: Self.user(), now: start.advanced(by: .microseconds(index)))
        }
        #expect(stickiness.count == writers)
        // 10k, 20k, 40k: a pruning each time the table doubled, not one per write past 10k.
        #expect(stickiness.prunings == 3)
        // Once they have expired, the next pruning (at 80k) drops every one of them.
        let later = start.advanced(by: .seconds(7))
        let newWriters = 35_000
        for _ in 0..<newWriters {
            stickiness.noteWrite(by: Self.user(), now: later)
        }
        #expect(stickiness.count == newWriters)
        #expect(stickiness.prunings == 4)
    }
}
