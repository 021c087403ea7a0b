import PostgresNIO

extension PostgresClient.Configuration {
    /// Sizes the pool for calls: at most `size` connections, opened on demand, and no keep-alive
    /// query.
    ///
    /// With keep-alive on, PostgresNIO's pool starts a timer task (a task group and a Dispatch
    /// timer) each time a connection is returned — on every call. Measured by `smta bench
    /// bridge`: about 40 µs of the bridge's CPU per request. The idle timeout's timer, started on
    /// the same occasion, would go too with a minimum of `size` connections (another ~75 µs and a
    /// p99 of 9 ms instead of 34), but PostgresNIO 1.33 then traps once failed connections leave
    /// fewer than the minimum (`createNewDemandConnectionIfPossible`'s precondition; found by
    /// `smta bench faults` after ~300 faults), so the minimum stays 0. A connection the server
    /// closed is replaced at the next lease; after an outage a ``RenewablePool`` is renewed whole.
    public mutating func configureCallPool(size: Int) {
        options.maximumConnections = size
        options.keepAliveBehavior = nil
    }
}
