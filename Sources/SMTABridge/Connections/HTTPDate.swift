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

    /// `second` (since 1970) in IMF-fixdate, in the C locale's English names.
    static func format(_ second: time_t) -> String {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes = [CChar](repeating: 0, count: 40)
        let count = strftime(&bytes, bytes.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: bytes.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
