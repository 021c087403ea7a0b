import PostgresNIO

extension PostgresClient.Configuration {
    /// Makes the pool a fixed one of `size` connections: all opened up front and kept, and no
    /// keep-alive query.
    ///
    /// A PostgresNIO pool with connections above its minimum, or with keep-alive, starts a timer
    /// task (and a Dispatch timer) each time a connection is returned — on every call. Measured by
    /// `smta bench bridge`: 75–115 µs of the bridge's CPU per request, and a p99 latency of
    /// 20–55 ms at 16 connections instead of 9–10 ms. Connections the server closes are replaced
    /// at the next lease; after an outage a ``RenewablePool`` is renewed as a whole.
    public mutating func useFixedPool(of size: Int) {
        options.maximumConnections = size
        options.minimumConnections = size
        options.keepAliveBehavior = nil
    }
}
