import Logging
import PostgresNIO
import SMTACore

/// Deletes the Idempotency-Key records whose window has ended (`platform.purge_idempotent_calls`),
/// every ``interval``, in batches; several bridges on one database may all run it.
struct IdempotencyPurge: Sendable {
    let pool: RenewablePool
    let logger: Logger
    /// How often expired records are deleted.
    var interval: Duration = .seconds(600)

    /// Purges until the calling task is cancelled; failures are logged and tried again next time.
    func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            let logger = logger
            let pool = pool
            let outcome: Result<Int, DatabaseError> = await Deadline.run(within: .seconds(30)) {
                do {
                    let rows = try await pool.withConnection { connection in
                        try await connection.guardedQuery("select platform.purge_idempotent_calls()", logger: logger)
                    }
                    return .success(try rows.first?.decode(Int.self) ?? 0)
                } catch {
                    return .failure(DatabaseError(error))
                }
            }
            switch outcome {
            case .success(let deleted) where deleted > 0:
                logger.info("expired idempotency keys deleted", metadata: ["count": "\(deleted)"])
            case .success:
                break
            case .failure(let error):
                logger.debug("idempotency purge failed: \(error)")
            }
        }
    }
}
