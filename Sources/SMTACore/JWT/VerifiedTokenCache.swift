import NIOConcurrencyHelpers

/// Tokens already verified, so that a client sending the same token again — what every client
/// does until its token expires — skips the signature check and the decoding of its claims.
///
/// Measured by `smta bench bridge` (HS256): the check was about 8 % of the bridge's CPU per
/// request, half of it Foundation's `JSONDecoder` reading the claims; a hit costs one hash of
/// the token and one dictionary lookup under a lock (`smta bench adapters`: 2 µs, against 16
/// for an HS256 verification and 80 for ES256). Used by the Supabase and OIDC adapters, whose
/// verdict depends only on the token, the clock and the issuer's keys; not by Payload's, whose
/// sessions can end at any time.
///
/// What a hit still checks, and why it is as safe as a full verification:
/// * only a token that passed every check is stored, keyed by its exact bytes (signature
///   included): a forged or altered token never matches an entry;
/// * the time claims are judged again at every use (`exp`, `nbf`, `iat`, with the same
///   ``TokenClock``), so an expired token is refused exactly as it would be without the cache;
/// * an entry remembers the key set it was verified under (``JWKSKeyRing/generation``): once
///   the issuer's keys change, it is no longer answered and the token is verified again, so a
///   removed key stops verifying at once;
/// * every other check (audience, issuer, role, subject) depends only on the token and the
///   adapter's fixed settings, so its answer cannot change while the token is the same.
///
/// Bounded: at most `capacity` entries; when full, the oldest makes room (first in, first out).
public final class VerifiedTokenCache<Value: Sendable>: Sendable {
    /// What a verification established about a token.
    public struct Entry: Sendable {
        /// What the adapter made of the token (the caller it stands for).
        public var value: Value
        /// The token's time claims, judged again at every use.
        public var exp: Double?
        /// Not-before.
        public var nbf: Double?
        /// Issued-at.
        public var iat: Double?
        /// The key set it was verified under.
        public var keySetGeneration: Int

        /// Creates an entry.
        public init(value: Value, exp: Double?, nbf: Double?, iat: Double?, keySetGeneration: Int) {
            self.value = value
            self.exp = exp
            self.nbf = nbf
            self.iat = iat
            self.keySetGeneration = keySetGeneration
        }
    }

    /// A token as a dictionary key, hashed as one run of bytes: `[UInt8]`'s own hashing feeds
    /// the hasher byte by byte, about 2 µs for a 400-byte token.
    private struct TokenKey: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    private struct State {
        var entries: [TokenKey: Entry] = [:]
        /// The tokens in the order they came, a ring of `capacity` slots: the next to go is at
        /// `oldest` once the ring is full.
        var order: [TokenKey] = []
        var oldest = 0
    }

    private let capacity: Int
    private let state = NIOLockedValueBox(State())

    /// Creates an empty cache of at most `capacity` tokens (at least 1).
    public init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// What `token` was verified as, when it was verified under key set `keySetGeneration`, its
    /// time claims judged by `clock` at `now` (seconds since 1970); nil when it was not (an entry
    /// of another key set is not answered).
    /// - Throws: ``AuthenticationError`` `expired` or `notYetValid`, as a full verification would.
    public func value(
        for token: [UInt8], keySetGeneration: Int, clock: TokenClock, now: Double
    ) throws(AuthenticationError) -> Value? {
        let entry = state.withLockedValue { state -> Entry? in
            guard let entry = state.entries[TokenKey(bytes: token)] else { return nil }
            // An entry of another key set stays until the ring drops it; it is never answered.
            return entry.keySetGeneration == keySetGeneration ? entry : nil
        }
        guard let entry else { return nil }
        try clock.check(exp: entry.exp, nbf: entry.nbf, iat: entry.iat, now: now)
        return entry.value
    }

    /// Remembers `token`, which has just passed every check.
    public func insert(_ token: [UInt8], _ entry: Entry) {
        let key = TokenKey(bytes: token)
        state.withLockedValue { state in
            if state.entries.updateValue(entry, forKey: key) != nil {
                return  // already in the ring
            }
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.entries[state.order[state.oldest]] = nil
                state.order[state.oldest] = key
                state.oldest = (state.oldest + 1) % capacity
            }
        }
    }

    /// How many tokens are remembered.
    public var count: Int {
        state.withLockedValue { $0.entries.count }
    }
}
