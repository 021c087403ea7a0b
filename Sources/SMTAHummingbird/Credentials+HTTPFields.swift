import Hummingbird
import SMTACore

extension Credentials {
    /// The credentials a Hummingbird request presents: every header field, in the order received.
    ///
    /// This is the one place a Hummingbird request becomes `Credentials`; the bridge
    /// and ``SMTAMiddleware`` both use it.
    public init(_ fields: HTTPFields) {
        self.init(headers: fields.map { (name: $0.name.rawName, value: $0.value) })
    }
}
