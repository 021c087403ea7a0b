import Foundation
import Logging
import NIOConcurrencyHelpers

/// The asymmetric keys the adapter trusts, read from a ``JWKSSource`` and refreshed on rotation.
///
/// Read at start-up (``load()``), again every refresh interval in the background
/// (``refreshPeriodically()``), and on demand when a token names a `kid` the set lacks.
///
/// An unknown `kid` may trigger a refresh, but at most one per refresh interval (the first
/// one after ``load()`` is always allowed), and concurrent requests share the refresh in flight:
/// a flood of forged `kid`s costs one fetch per interval, never one per request. A failed or
/// unusable fetch keeps the last good keys; while the last fetch failed, an unknown `kid` is
/// answered `unavailable` (the token may well be valid: the caller should say "try
/// again", not "refused"), and a new attempt is allowed after `retryAfterFailure` rather
/// than the whole interval. A request waiting for a refresh stops waiting when its task is
/// cancelled (its deadline), answered `unavailable`: an endpoint slower than the request's
/// budget holds no request past it, and the fetch goes on.
public actor JWKSKeyRing {
    /// What one fetch produced.
    private enum Outcome: Sendable {
        case keys([String: VerificationKey])
        case failed(String)
    }

    private let source: any JWKSSource
    private let refreshInterval: Duration
    private let retryAfterFailure: Duration
    private let logger: Logger
    private let clock = ContinuousClock()
    private var keys: [String: VerificationKey] = [:]
    private var lastRefresh: ContinuousClock.Instant?
    /// Why the last fetch failed; nil once one succeeds.
    private var lastFailure: String?
    private var refreshInFlight: Task<Outcome, Never>?
    private nonisolated let installedSets = NIOLockedValueBox(0)

    /// Creates an empty ring over `source`.
    /// - Parameters:
    ///   - source: where the issuer's JWKS is read.
    ///   - refreshInterval: the least time between two refreshes an unknown `kid` triggers.
    ///   - retryAfterFailure: how soon after a failed fetch an unknown `kid` may try again (the
    ///     whole `refreshInterval`, when that is shorter).
    ///   - logger: where loads and failures are reported.
    public init(source: any JWKSSource, refreshInterval: Duration, retryAfterFailure: Duration = .seconds(1), logger: Logger) {
        self.source = source
        self.refreshInterval = refreshInterval
        self.retryAfterFailure = retryAfterFailure
        self.logger = logger
    }

    /// How many key sets have been installed: it changes whenever the keys may have, so that
    /// what was verified under one set (``VerifiedTokenCache``) is verified again under the next.
    public nonisolated var generation: Int {
        installedSets.withLockedValue { $0 }
    }

    /// The key named `kid`, without fetching.
    public func key(for kid: String) -> VerificationKey? {
        keys[kid]
    }

    /// The key named `kid`, refreshing the set first if it is unknown and the rate limit allows.
    /// - Returns: the key, or nil when the issuer's current set has no such key.
    /// - Throws: ``AuthenticationError`` `unavailable` when `kid` is unknown and the set could
    ///   not be fetched (this time, or the last time while the rate limit holds): the token may
    ///   be valid, so it is not refused.
    public func refreshedKey(for kid: String) async throws(AuthenticationError) -> VerificationKey? {
        if let key = keys[kid] { return key }
        if refreshInFlight == nil {
            let now = clock.now
            let wait = lastFailure == nil ? refreshInterval : min(refreshInterval, retryAfterFailure)
            if let lastRefresh, lastRefresh.advanced(by: wait) > now {
                try checkAvailable(kid)
                return nil
            }
            lastRefresh = now
            refreshInFlight = Self.fetch(from: source)
        }
        try await settleRefreshUnlessCancelled(kid)
        if let key = keys[kid] { return key }
        try checkAvailable(kid)
        return nil
    }

    /// Throws `unavailable` while the last fetch failed.
    private func checkAvailable(_ kid: String) throws(AuthenticationError) {
        guard let lastFailure else { return }
        throw AuthenticationError(.unavailable, "kid \(kid.prefix(64)) is not among the keys loaded, and the JWKS is unavailable: \(lastFailure)")
    }

    /// Fetches the set now, whatever the rate limit (start-up, or an operator's request).
    /// - Throws: ``JWKSUnavailable`` when the fetch fails or is not a JWKS; the
    ///   ring then keeps its previous keys.
    public func load() async throws -> Int {
        if refreshInFlight == nil {
            refreshInFlight = Self.fetch(from: source)
        }
        if case .failed(let reason) = await settleRefresh() {
            throw JWKSUnavailable(reason: reason)
        }
        return keys.count
    }

    /// Reads the set again every refresh interval until the calling task is cancelled, so that a
    /// key the issuer removed stops verifying within that interval — in every process, not only
    /// in one that happened to meet a token with an unknown `kid` (which refreshes at once).
    /// A failed read keeps the last good keys, as any refresh does.
    public func refreshPeriodically() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: refreshInterval)
            } catch {
                return
            }
            // Not counted against the unknown-`kid` rate limit: a token of a key published
            // just after this read still triggers its own refresh.
            if refreshInFlight == nil {
                refreshInFlight = Self.fetch(from: source)
            }
            await settleRefresh()
        }
    }

    /// Waits for the refresh in flight; the first waiter to resume installs its outcome.
    @discardableResult
    private func settleRefresh() async -> Outcome? {
        guard let task = refreshInFlight else { return nil }
        return install(await task.value, of: task)
    }

    /// ``settleRefresh()`` for a request: gives up when the calling task is cancelled; the
    /// fetch goes on, and a task of its own installs its outcome when it ends.
    /// - Throws: `unavailable` when the calling task was cancelled before the fetch ended.
    private func settleRefreshUnlessCancelled(_ kid: String) async throws(AuthenticationError) {
        guard let task = refreshInFlight else { return }
        let outcome: Outcome
        do {
            outcome = try await abandoningOnCancellation { await task.value }
        } catch {
            Task { await self.settleRefresh() }
            throw AuthenticationError(
                .unavailable, "kid \(kid.prefix(64)) is not among the keys loaded, and the JWKS fetch in flight did not end within the request's time")
        }
        install(outcome, of: task)
    }

    /// Installs what `task` fetched, unless another waiter did already.
    @discardableResult
    private func install(_ outcome: Outcome, of task: Task<Outcome, Never>) -> Outcome {
        if refreshInFlight == task {
            refreshInFlight = nil
            switch outcome {
            case .keys(let fresh):
                keys = fresh
                installedSets.withLockedValue { $0 += 1 }
                lastFailure = nil
                logger.info("JWKS loaded", metadata: ["source": "\(source)", "keys": "\(fresh.count)"])
            case .failed(let reason):
                lastFailure = reason
                logger.warning(
                    "JWKS refresh failed; keeping the last good keys",
                    metadata: ["source": "\(source)", "reason": "\(reason)", "keys": "\(keys.count)"])
            }
        }
        return outcome
    }

    private static func fetch(from source: any JWKSSource) -> Task<Outcome, Never> {
        Task {
            let data: Data
            do {
                data = try await source.fetchJWKS()
            } catch {
                return .failed("fetch failed: \(error)")
            }
            guard let document = try? JWKSDocument(data: data) else {
                return .failed("not a JWKS document")
            }
            return .keys(await document.verificationKeys())
        }
    }
}
