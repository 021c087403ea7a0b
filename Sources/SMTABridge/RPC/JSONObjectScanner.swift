/// Checks that a request body is exactly one JSON object (RFC 8259, strictly: no trailing
/// commas, comments, byte-order mark or invalid UTF-8) and reads its top-level keys.
///
/// Foundation's parser accepts some of those, and PostgreSQL would then refuse the body with a
/// less helpful error; this check answers before anything reaches the database, on the bytes.
struct JSONObjectScanner {
    /// Why a body is not a JSON object.
    struct Invalid: Error {
        /// What is wrong, for the client.
        var reason: String
    }

    /// Nesting deeper than this is refused (no stack exhaustion from hostile bodies).
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var index = 0

    /// The top-level keys of `body`, in order.
    /// - Throws: ``Invalid`` when `body` is not one well-formed JSON object.
    static func keys(of body: [UInt8]) throws(Invalid) -> [String] {
        guard String(validating: body, as: UTF8.self) != nil else {
            throw Invalid(reason: "the body is not valid UTF-8")
        }
        var scanner = JSONObjectScanner(bytes: body)
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{") else {
            throw Invalid(reason: "the body must be a JSON object of named arguments")
        }
        let keys = try scanner.object(depth: 1, collectKeys: true)
        scanner.skipWhitespace()
        guard scanner.index == scanner.bytes.count else {
            throw Invalid(reason: "unexpected text after the JSON object at byte \(scanner.index)")
        }
        return keys
    }

    /// The byte ranges of the top-level elements of `body`, a JSON array (as PostgreSQL writes
    /// one), so that an element can be answered as it is, keys in their order.
    /// - Throws: ``Invalid`` when `body` is not one well-formed JSON array.
    static func arrayElements(of body: [UInt8]) throws(Invalid) -> [Range<Int>] {
        var scanner = JSONObjectScanner(bytes: body)
        scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: "["))
        var elements: [Range<Int>] = []
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "]") {
            scanner.index += 1
        } else {
            while true {
                scanner.skipWhitespace()
                let start = scanner.index
                try scanner.value(depth: 1)
                elements.append(start..<scanner.index)
                scanner.skipWhitespace()
                if scanner.peek == UInt8(ascii: ",") {
                    scanner.index += 1
                    continue
                }
                try scanner.expect(UInt8(ascii: "]"))
                break
            }
        }
        scanner.skipWhitespace()
        guard scanner.index == scanner.bytes.count else {
            throw Invalid(reason: "unexpected text after the JSON array at byte \(scanner.index)")
        }
        return elements
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Invalid) {
        guard peek == byte else {
            throw Invalid(reason: "expected '\(Character(Unicode.Scalar(byte)))' at byte \(index)")
        }
        index += 1
    }

    private mutating func value(depth: Int) throws(Invalid) {
        guard depth <= Self.maximumDepth else {
            throw Invalid(reason: "nested deeper than \(Self.maximumDepth) levels")
        }
        skipWhitespace()
        switch peek {
        case UInt8(ascii: "{"): _ = try object(depth: depth, collectKeys: false)
        case UInt8(ascii: "["): try array(depth: depth)
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case .some(let byte) where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
            try number()
        default:
            throw Invalid(reason: "expected a JSON value at byte \(index)")
        }
    }

    private mutating func object(depth: Int, collectKeys: Bool) throws(Invalid) -> [String] {
        try expect(UInt8(ascii: "{"))
        var keys: [String] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return keys
        }
        while true {
            skipWhitespace()
            let key = try string()
            if collectKeys { keys.append(key) }
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            try value(depth: depth + 1)
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return keys
        }
    }

    private mutating func array(depth: Int) throws(Invalid) {
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try value(depth: depth + 1)
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            return
        }
    }

    private mutating func string() throws(Invalid) -> String {
        try expect(UInt8(ascii: "\""))
        var scalars = String.UnicodeScalarView()
        var start = index
        while true {
            guard let byte = peek else {
                throw Invalid(reason: "unterminated string")
            }
            switch byte {
            case UInt8(ascii: "\""):
                scalars.append(contentsOf: String(decoding: bytes[start..<index], as: UTF8.self).unicodeScalars)
                index += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                scalars.append(contentsOf: String(decoding: bytes[start..<index], as: UTF8.self).unicodeScalars)
                index += 1
                scalars.append(try escape())
                start = index
            case 0..<0x20:
                throw Invalid(reason: "unescaped control character in a string at byte \(index)")
            default:
                index += 1
            }
        }
    }

    private mutating func escape() throws(Invalid) -> Unicode.Scalar {
        guard let byte = peek else { throw Invalid(reason: "unterminated escape") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try hex4()
            if (0xD800..<0xDC00).contains(high) {
                guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw Invalid(reason: "unpaired surrogate in a string")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low),
                    let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                else {
                    throw Invalid(reason: "unpaired surrogate in a string")
                }
                return scalar
            }
            guard let scalar = Unicode.Scalar(high) else {
                throw Invalid(reason: "unpaired surrogate in a string")
            }
            return scalar
        default:
            throw Invalid(reason: "invalid escape in a string at byte \(index - 1)")
        }
    }

    private mutating func hex4() throws(Invalid) -> UInt32 {
        guard index + 4 <= bytes.count else { throw Invalid(reason: "truncated \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Invalid(reason: "invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    private mutating func literal(_ word: StaticString) throws(Invalid) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard index + expected.count <= bytes.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
            throw Invalid(reason: "expected a JSON value at byte \(index)")
        }
        index += expected.count
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func number() throws(Invalid) {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        if peek == UInt8(ascii: "0") {
            index += 1
        } else {
            guard try digits() > 0 else { throw Invalid(reason: "invalid number at byte \(start)") }
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard try digits() > 0 else { throw Invalid(reason: "invalid number at byte \(start)") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard try digits() > 0 else { throw Invalid(reason: "invalid number at byte \(start)") }
        }
    }

    private mutating func digits() throws(Invalid) -> Int {
        var count = 0
        while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            index += 1
            count += 1
        }
        return count
    }
}
