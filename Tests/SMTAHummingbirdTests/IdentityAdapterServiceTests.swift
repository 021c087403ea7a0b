import SMTACore
import SMTAHummingbird
import Testing

@Suite("IdentityAdapterService")
struct IdentityAdapterServiceTests {
    /// An adapter whose `run()` returns at once, as the Supabase adapter's does with only a secret.
    struct Prepared: IdentityAdapter {
        var name: String { "prepared" }
        func identify(_ credentials: Credentials) async throws(AuthenticationError) -> Identity {
            .anonymous(source: name)
        }
    }

    @Test("stays up after the adapter's run() returns, and ends when cancelled")
    func staysUpUntilCancelled() async throws {
        let service = IdentityAdapterService(Prepared())
        let ended = HandlerRuns()
        let task = Task {
            try await service.run()
            await ended.record()
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(await ended.count == 0)
        task.cancel()
        try await task.value
        #expect(await ended.count == 1)
    }
}
