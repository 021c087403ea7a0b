/// Byte comparisons whose duration does not depend on where the inputs differ: for webhook
/// signatures and API keys, wherever a secret is compared with what a client sent.
public enum ConstantTime {
    /// Whether `a` and `b` are equal, comparing every byte whatever the first difference.
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) {
            difference |= x ^ y
        }
        return difference == 0
    }

    /// `bytes` as lowercase hex ASCII.
    public static func hex(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return out
    }
}
