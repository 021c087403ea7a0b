import Hummingbird

/// `POST /webhooks/stripe` and `POST /webhooks/lemonsqueezy`, until billing lands: 501, so a
/// provider's dashboard shows the endpoint exists but does not yet process events (a 404
/// would read as a wrong URL, a 200 as events handled).
struct WebhookRoute: Sendable {
    /// The provider's name, for the message.
    let provider: String

    func respond() -> Response {
        BridgeError(
            status: .notImplemented, code: "PGRST501",
            message: "\(provider) webhooks are not processed by this version of the bridge",
            hint: "Nothing was recorded; the provider will retry.").response()
    }
}
