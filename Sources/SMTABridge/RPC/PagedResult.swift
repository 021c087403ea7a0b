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
        let bytes = document.readableBytesView
        let comma = UInt8(ascii: ",")
        guard bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"),
            let firstComma = bytes.firstIndex(of: comma),
            let secondComma = bytes[(firstComma + 1)...].firstIndex(of: comma),
            let count = Self.integer(bytes[(bytes.startIndex + 1)..<firstComma])
        else {
            throw BridgeError(status: .internalServerError, code: "XX000", message: "Internal error: unreadable paged result")
        }
        self.count = count
        total = Self.integer(bytes[(firstComma + 1)..<secondComma])
        var rows = ByteBuffer()
        rows.writeBytes(bytes[(secondComma + 1)..<(bytes.endIndex - 1)].drop { $0 == UInt8(ascii: " ") })
        self.rows = rows
    }

    /// The non-negative integer `bytes` spell, spaces around it allowed; nil for anything else
    /// (`null` among them).
    private static func integer(_ bytes: ByteBufferView.SubSequence) -> Int? {
        var value = 0
        var digits = 0
        for byte in bytes where byte != UInt8(ascii: " ") {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = shifted + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
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
