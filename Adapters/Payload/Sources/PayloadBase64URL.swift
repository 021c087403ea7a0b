/// Decodes the unpadded base64url segments of a compact JWT (RFC 7515 §2), on UTF-8 bytes.
enum PayloadBase64URL {
    /// The bytes encoded by `segment`, or nil when it holds a character outside the base64url
    /// alphabet, padding, or a length no encoder produces.
    static func decode(_ segment: ArraySlice<UInt8>) -> [UInt8]? {
        guard segment.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(segment.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in segment {
            guard let value = sextet(byte) else { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero, so that one token has exactly one encoding.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
