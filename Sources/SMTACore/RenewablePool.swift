import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The bridge's pool of PostgreSQL connections: at most `size` of them, opened on demand and kept
/// open, with no timer of any kind per call; renewed whole when the database comes back from an
/// outage.
///
/// Why not PostgresNIO's pool (`PostgresClient`), measured by `smta bench bridge`:
/// * each time a connection returns to it, it starts a timer task (a task group and a Dispatch
///   timer) for the idle timeout of connections above its minimum — on every call. Replaced by
///   this pool, the bridge's statement through `Gate` (the client floor of `smta bench bridge`)
///   went from 123 to 48 µs of CPU per call. A minimum equal to the maximum avoids the timer,
///   but PostgresNIO 1.33 then traps once failed connections leave fewer than the minimum
///   (`createNewDemandConnectionIfPossible`'s precondition; found by `smta bench faults`);
/// * while PostgreSQL is unreachable it retries one connection with a backoff growing to a
///   minute, behind a circuit breaker, so it served again 4–9 s after a 45–90 s outage.
///
/// Here a lease takes an idle connection (preferring one on the caller's event loop, so the
/// request, its statement and its reply share a thread), or opens one while fewer than `size`
/// exist, or waits for one to come back. Connections are opened on the event loops in turn, not
/// on the opener's, so that each loop holds its share of the pool whichever loops the first
/// requests ran on (measured against the opener's loop, `list_my_organizations` under `wrk`,
/// five alternating pairs of 8 s: 4,390 → 4,586 requests/s and 221 → 207 µs of the bridge's
/// CPU per request, medians; less CPU in every pair). A connection found closed is dropped and
/// its place reopened on demand; no backoff: the bridge's watch connection
/// (`DatabaseAvailability`) answers for the database while it is down, and calls ``renew()``
/// when it is back, which closes every connection of the outage (idle ones at once, leased ones
/// on their return).
///
/// The pool's state is a few counters and arrays under one lock, held for a handful of
/// instructions per lease and per return.
public final class RenewablePool: Sendable {
    /// A pooled connection, with the generation it was opened in.
    private struct Pooled: Sendable {
        let connection: PostgresConnection
        let generation: Int
    }

    /// What a lease is given: an idle connection, or room to open one.
    private enum Grant: Sendable {
        /// A connection that is idle or came back.
        case connection(Pooled)
        /// Room to open a connection (counted already).
        case room(generation: Int)
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Grant, any Error>
    }

    private struct State {
        var idle: [Pooled] = []
        /// Connections open or opening, leased or idle: never more than `size`.
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        var nextConnectionID = 0
        /// Bumped by ``renew()``: a connection of an earlier generation is closed on return.
        var generation = 0
        var stopped = false
    }

    private let configuration: PostgresConnection.Configuration
    private let size: Int
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// When the latest work that succeeded on a leased connection, leaving it open, began
    /// (uptime nanoseconds; 0 before the first), for ``answered(since:)``.
    private let lastAnsweredWork = Atomic<UInt64>(0)

    /// Creates the pool; nothing connects before the first lease.
    /// - Parameters:
    ///   - configuration: how each connection connects (its startup parameters included).
    ///   - size: the most connections open at once (at least 1).
    ///   - logger: the connections' logger.
    public init(configuration: PostgresConnection.Configuration, size: Int, logger: Logger) {
        self.configuration = configuration
        self.size = max(1, size)
        self.logger = logger
    }

    /// Leases a connection for `body` and takes it back when `body` returns or throws.
    ///
    /// A connection `body` leaves closed is dropped; the next lease opens another.
    /// - Throws: `CancellationError` when the calling task is cancelled while waiting for a
    ///   connection (nothing was sent); the connection failure when one had to be opened and
    ///   could not be; a `DatabaseError` without SQLSTATE once the pool has stopped; `body`'s
    ///   errors unchanged.
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        let pooled = try await lease()
        let began = NIODeadline.now().uptimeNanoseconds
        do {
            let result = try await body(pooled.connection)
            if !pooled.connection.isClosed {
                lastAnsweredWork.max(began, ordering: .relaxed)
            }
            giveBack(pooled)
            return result
        } catch {
            giveBack(pooled)
            throw error
        }
    }

    /// Whether work that began on a pooled connection at or after `instant` has succeeded,
    /// leaving its connection open: the database answered what this pool sent after then. The
    /// bridge's watch asks it when its own check goes unanswered, to tell a lost database from a
    /// process too busy to read the answer in time. (Work that began earlier does not count: its
    /// answer may have been on its way before the database or the network stopped.)
    public func answered(since instant: NIODeadline) -> Bool {
        lastAnsweredWork.load(ordering: .relaxed) >= instant.uptimeNanoseconds
    }

    /// Closes every connection opened so far: idle ones now, leased ones when they come back.
    /// Waiting leases are unaffected; the next leases open fresh connections. Called when the
    /// database returns from an outage, whose connections are dead or about to be.
    public func renew() {
        let retired = state.withLockedValue { state -> [Pooled] in
            state.generation += 1
            let retired = state.idle
            state.idle = []
            state.open -= retired.count
            return retired
        }
        for pooled in retired {
            close(pooled.connection)
        }
        // The room the retired connections left: waiting leases may open connections now.
        grantRoomToWaiters()
    }

    /// Keeps the pool open until the calling task is cancelled; then fails waiting leases,
    /// closes the idle connections (leased ones close when they come back) and returns. Leases
    /// work before `run()` starts; call it once, for the pool's lifetime.
    public func run() async {
        let (cancelled, continuation) = AsyncStream<Never>.makeStream()
        for await _ in cancelled {}
        withExtendedLifetime(continuation) {}
        let (idle, waiters) = state.withLockedValue { state -> ([Pooled], [Waiter]) in
            state.stopped = true
            defer { state.idle = []; state.waiters = [] }
            state.open -= state.idle.count
            return (state.idle, state.waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: Self.stoppedError)
        }
        for pooled in idle {
            close(pooled.connection)
        }
    }

    // MARK: Leasing

    private func lease() async throws -> Pooled {
        let grant: Grant
        if let taken = try state.withLockedValue({ state in try Self.take(&state, size: size) }) {
            grant = taken
        } else {
            grant = try await waitForGrant()
        }
        switch grant {
        case .connection(let pooled):
            return pooled
        case .room(let generation):
            return try await open(generation: generation)
        }
    }

    /// An idle connection (closed ones dropped; one on the caller's event loop preferred), else
    /// room to open one, else nil: the caller waits.
    private static func take(_ state: inout State, size: Int) throws -> Grant? {
        if state.stopped {
            throw stoppedError
        }
        let before = state.idle.count
        state.idle.removeAll { $0.connection.isClosed }
        state.open -= before - state.idle.count
        if let index = state.idle.lastIndex(where: { $0.connection.eventLoop.inEventLoop }) ?? state.idle.indices.last {
            return .connection(state.idle.remove(at: index))
        }
        if state.open < size {
            state.open += 1
            return .room(generation: state.generation)
        }
        return nil
    }

    private func waitForGrant() async throws -> Grant {
        let id = state.withLockedValue { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let now = state.withLockedValue { state -> Result<Grant, any Error>? in
                    // Cancelled before the continuation existed: the handler found nothing to resume.
                    if Task.isCancelled {
                        return .failure(CancellationError())
                    }
                    // A connection may have come back since the first look.
                    do {
                        if let grant = try Self.take(&state, size: size) {
                            return .success(grant)
                        }
                    } catch {
                        return .failure(error)
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let now {
                    continuation.resume(with: now)
                }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Opens a connection for the calling lease, whose room is counted. The connection opens in
    /// a task of its own: a lease cancelled meanwhile gives up at once, and the connection, once
    /// open, joins the idle ones. Whoever ends first without a connection — the lease cancelled
    /// before the opening started, or the opening that failed — gives the room back, once.
    private func open(generation: Int) async throws -> Pooled {
        let id = state.withLockedValue { state -> Int in
            state.nextConnectionID += 1
            return state.nextConnectionID
        }
        let configuration = configuration, logger = logger
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let roomOwner = RoomOwner()
        do {
            return try await abandoningOnCancellation { [self] in
                guard roomOwner.claim() else {
                    throw CancellationError()
                }
                do {
                    let connection = try await PostgresConnection.connect(
                        on: eventLoop, configuration: configuration, id: id, logger: logger)
                    return Pooled(connection: connection, generation: generation)
                } catch {
                    giveRoomBack()
                    throw error
                }
            } whenAbandoned: { [self] pooled in
                giveBack(pooled)
            }
        } catch {
            if roomOwner.claim() {
                giveRoomBack()
            }
            throw error
        }
    }

    /// Decides who gives back the room of an opening that never produced a connection.
    private final class RoomOwner: Sendable {
        private let claimed = NIOLockedValueBox(false)

        /// True for the first caller only.
        func claim() -> Bool {
            claimed.withLockedValue { claimed in
                defer { claimed = true }
                return !claimed
            }
        }
    }

    private func giveRoomBack() {
        state.withLockedValue { $0.open -= 1 }
        grantRoomToWaiters()
    }

    // MARK: Returning

    private func giveBack(_ pooled: Pooled) {
        enum Outcome {
            case kept
            case handed(Waiter)
            case dropped
        }
        let outcome = state.withLockedValue { state -> Outcome in
            if pooled.connection.isClosed || pooled.generation != state.generation || state.stopped {
                state.open -= 1
                return .dropped
            }
            if !state.waiters.isEmpty {
                return .handed(state.waiters.removeFirst())
            }
            state.idle.append(pooled)
            return .kept
        }
        switch outcome {
        case .kept:
            break
        case .handed(let waiter):
            waiter.continuation.resume(returning: .connection(pooled))
        case .dropped:
            close(pooled.connection)
            grantRoomToWaiters()
        }
    }

    /// Gives waiting leases the room that is free, one connection each.
    private func grantRoomToWaiters() {
        let granted = state.withLockedValue { state -> [(Waiter, Int)] in
            var granted: [(Waiter, Int)] = []
            while state.open < size, !state.waiters.isEmpty {
                state.open += 1
                granted.append((state.waiters.removeFirst(), state.generation))
            }
            return granted
        }
        for (waiter, generation) in granted {
            waiter.continuation.resume(returning: .room(generation: generation))
        }
    }

    /// Closes `connection`, keeping it alive until it has closed (PostgresNIO asserts that a
    /// connection is closed when it is freed).
    private func close(_ connection: PostgresConnection) {
        guard !connection.isClosed else { return }
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private static let stoppedError = DatabaseError(sqlState: nil, message: "the connection pool has stopped")
}
