import NIOConcurrencyHelpers
import SMTACore

/// What a handler learned about the request it answers that the request's log line and
/// metrics need but its response does not carry: why a credential was refused.
///
/// ``RequestLogMiddleware`` installs one per request as ``current`` (a task-local, so handlers
/// reach it without a change to every route's signature, and the child tasks of a request's
/// time budget see it too); handlers record into it, the middleware reads it once the answer
/// is ready.
final class RequestObservation: Sendable {
    /// The observation of the request the current task answers, if any.
    @TaskLocal static var current: RequestObservation?

    private let refusalBox = NIOLockedValueBox<AuthenticationError?>(nil)

    /// Creates an empty observation.
    init() {}

    /// The refused credential's error (its kind and reason, never the credential), if one was.
    var refusal: AuthenticationError? {
        refusalBox.withLockedValue { $0 }
    }

    /// Records that the request's credential was refused.
    func recordRefusal(_ error: AuthenticationError) {
        refusalBox.withLockedValue { $0 = error }
    }
}
