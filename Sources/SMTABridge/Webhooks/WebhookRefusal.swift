/// Why a webhook delivery was refused before anything was parsed or written.
struct WebhookRefusal: Error, Sendable {
    /// The precise reason, for the log and the answer (it never contains a secret).
    var reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
