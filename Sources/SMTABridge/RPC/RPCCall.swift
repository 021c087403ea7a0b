import HTTPTypes
import Hummingbird
import NIOCore

/// One call of `/rpc/{function}` as ``RPCHandler`` reads it, whichever path brought it:
/// Hummingbird's router, or ``RPCLane`` in the connection's channel pipeline.
struct RPCCall: Sendable {
    /// Where the call's body comes from.
    enum Body: Sendable {
        /// No body was sent (a `GET` the lane answers).
        case none
        /// A body that arrived whole (at most `max_body_size` bytes, checked when it is read).
        case buffered(ByteBuffer)
        /// A body stream, read up to the bridge's limit when the call needs it.
        case streamed(RequestBody)
    }

    /// The function's name, as the path gives it.
    var function: String
    /// `GET`, `HEAD` or `POST`.
    var method: HTTPRequest.Method
    /// The query string, without `?`; nil when there is none.
    var query: String?
    /// The request's header fields.
    var headers: HTTPFields
    /// The request's body.
    var body: Body

    /// The call a request routed by Hummingbird makes.
    init(_ request: Request, function: String) {
        self.init(function: function, method: request.method, query: request.uri.query, headers: request.headers, body: .streamed(request.body))
    }

    /// A call from its parts.
    init(function: String, method: HTTPRequest.Method, query: String?, headers: HTTPFields, body: Body) {
        self.function = function
        self.method = method
        self.query = query
        self.headers = headers
        self.body = body
    }
}
