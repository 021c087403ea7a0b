#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// The `Date` header's value, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's IMF-fixdate), as
/// Hummingbird writes it, formatted at most once per second.
final class HTTPDate: Sendable {
    private let cached = NIOLockedValueBox<(second: time_t, text: String)>((-1, ""))

    /// Creates the cache.
    init() {}

    /// The current second, formatted.
    var now: String {
        let second = time(nil)
        if let text = cached.withLockedValue({ $0.second == second ? $0.text : nil }) {
            return text
        }
        let text = Self.format(second)
        cached.withLockedValue { $0 = (second, text) }
        return text
    }

    /// `second` (since 1970) in IMF-fixdate, with its English names whatever the C locale.
    static func format(_ second: time_t) -> String {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
