import Foundation
import HTTPTypes
import NIOCore

/// A set result read with result operations: how many rows the page holds, the total when it was
/// counted, and the rows themselves as the JSON array PostgreSQL built.
///
/// ``CallStatement`` makes PostgreSQL answer `[page, total, rows]` (`json_build_array`, whose
/// text is `[2, 10, […]]`); the two numbers are read off the front and the rows are passed on as
/// they are, never parsed and re-encoded.
struct PagedResult: Sendable {
    /// Rows in this page.
    var count: Int
    /// Rows in the whole result, when counted.
    var total: Int?
    /// The page's rows, a JSON array.
    var rows: ByteBuffer

    /// Reads a `[page, total, rows]` document.
    /// - Throws: ``BridgeError`` (500) if the document is not of that form (a bridge defect).
    init(_ document: ByteBuffer) throws(BridgeError) {
        let bytes = Array(document.readableBytesView)
        guard bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"),
            let firstComma = bytes.firstIndex(of: UInt8(ascii: ",")),
            let secondComma = bytes[(firstComma + 1)...].firstIndex(of: UInt8(ascii: ",")),
            let count = Int(Self.text(bytes[1..<firstComma]))
        else {
            throw BridgeError(status: .internalServerError, code: "XX000", message: "Internal error: unreadable paged result")
        }
        let total = Self.text(bytes[(firstComma + 1)..<secondComma])
        self.count = count
        self.total = total == "null" ? nil : Int(total)
        var rows = ByteBuffer()
        rows.writeBytes(bytes[(secondComma + 1)..<(bytes.count - 1)].drop { $0 == UInt8(ascii: " ") })
        self.rows = rows
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    /// PostgREST's `Content-Range` for this page starting at `offset`, and its status: 200, 206
    /// when the page holds less than the known total, 416 when it starts past the total.
    func range(offset: Int) -> (contentRange: String, status: HTTPResponse.Status) {
        let last = offset + count - 1
        let totalText = total.map(String.init) ?? "*"
        let rangeText = total != 0 && offset <= last ? "\(offset)-\(last)" : "*"
        let status: HTTPResponse.Status
        if let total, offset > total {
            status = .rangeNotSatisfiable
        } else if let total, count < total {
            status = .partialContent
        } else {
            status = .ok
        }
        return ("\(rangeText)/\(totalText)", status)
    }
}
