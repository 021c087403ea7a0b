/// A client's `Idempotency-Key` for one call, with what identifies the request it was sent with.
///
/// See ``Gate/call(_:arguments:as:once:)``: a key is applied at most once per caller during its
/// ``window``; the same request sent again under it is answered from the record, another request
/// under it is refused.
public struct IdempotencyKey: Sendable, Equatable {
    /// The client's key: 1 to 255 visible ASCII characters.
    public var key: String
    /// A digest of the request as resolved (function, statement, arguments): the same key with
    /// another digest is another request.
    public var requestHash: String
    /// How long the key and its result are kept (1 second to 30 days).
    public var window: Duration

    /// Creates a key; nil when `key` is empty, longer than 255 characters or not visible ASCII.
    public init?(key: String, requestHash: String, window: Duration) {
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return nil
        }
        self.key = key
        self.requestHash = requestHash
        self.window = window
    }
}
