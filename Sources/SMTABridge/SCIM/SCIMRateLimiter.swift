import Foundation
import NIOConcurrencyHelpers

/// Limits each SCIM token's requests: a token bucket per token (`burst` requests at once,
/// refilled at `perSecond`), in this process. An identity provider's full sync stays well
/// within it; a leaked token, or a runaway loop, cannot monopolise the bridge and the database.
final class SCIMRateLimiter: Sendable {
    private let perSecond: Double
    private let burst: Double
    private let buckets = NIOLockedValueBox([UUID: (tokens: Double, at: ContinuousClock.Instant)]())

    /// The most tokens remembered; past it, the fullest buckets are forgotten (they would refill anyway).
    static let maximumTokens = 10_000

    init(perSecond: Int, burst: Int) {
        self.perSecond = Double(max(1, perSecond))
        self.burst = Double(max(1, burst))
    }

    /// Admits one request of `token`: nil when admitted, else the seconds to wait.
    func admit(_ token: UUID, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLockedValue { buckets in
            var bucket = buckets[token] ?? (tokens: burst, at: now)
            let elapsed = bucket.at.duration(to: now)
            let seconds = elapsed.inSeconds
            bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * perSecond)
            bucket.at = now
            defer {
                if buckets.count >= Self.maximumTokens, buckets[token] == nil {
                    buckets = buckets.filter { $0.value.tokens < burst }
                }
                buckets[token] = bucket
            }
            guard bucket.tokens >= 1 else {
                return Int(((1 - bucket.tokens) / perSecond).rounded(.up))
            }
            bucket.tokens -= 1
            return nil
        }
    }
}
