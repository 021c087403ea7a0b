/// The two DNS messages of a TXT lookup (RFC 1035): the query SMTA sends and the answer it
/// reads, in wire format.
///
/// Only what a TXT lookup needs: one question of type TXT, class IN, recursion desired, with an
/// EDNS(0) record advertising a 1,232-byte UDP payload (RFC 6891) so that a few long records
/// still fit one datagram. The answer is read strictly: every length is bounds-checked, name
/// compression may only point backwards a bounded number of times, and an answer whose id,
/// question or flags do not match the query is refused, so a stray or forged datagram is never
/// taken for the answer.
public enum DNSTXTMessage {
    /// Why an answer was refused.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The name cannot be queried (empty, a label over 63 bytes, over 253 bytes in all).
        case invalidName(String)
        /// The answer's bytes are not a well-formed DNS message.
        case malformed(String)
        /// The answer is for another query (id, question, or not a response).
        case mismatched(String)
        /// The answer did not fit a datagram (the TC flag); SMTA does not retry over TCP.
        case truncated
        /// The server answered with an error code (RCODE) other than NXDOMAIN.
        case serverFailure(rcode: Int)

        /// A sentence for the operator.
        public var description: String {
            switch self {
            case .invalidName(let name): "cannot query \(name.prefix(80)): not a DNS name"
            case .malformed(let reason): "malformed DNS answer: \(reason)"
            case .mismatched(let reason): "DNS answer for another query: \(reason)"
            case .truncated: "the DNS answer was truncated (too many records for one datagram)"
            case .serverFailure(let rcode): "the DNS server answered with error code \(rcode)"
            }
        }
    }

    /// The TXT record type and the IN class.
    static let txtType: UInt16 = 16
    static let cnameType: UInt16 = 5
    static let internetClass: UInt16 = 1
    static let optType: UInt16 = 41

    /// The query for the TXT records of `name`, with transaction id `id`.
    /// - Throws: ``Failure/invalidName(_:)`` when `name` is not a DNS name.
    public static func query(for name: String, id: UInt16) throws(Failure) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + name.utf8.count)
        append(id, to: &bytes)
        append(0x0100, to: &bytes) // RD: recursion desired
        append(1, to: &bytes) // one question
        append(0, to: &bytes)
        append(0, to: &bytes)
        append(1, to: &bytes) // one additional record: EDNS(0)
        bytes += try encode(name)
        append(txtType, to: &bytes)
        append(internetClass, to: &bytes)
        // OPT: root name, type 41, class = UDP payload size, TTL = extended flags (0), no data.
        bytes.append(0)
        append(optType, to: &bytes)
        append(1232, to: &bytes)
        bytes += [0, 0, 0, 0, 0, 0]
        return bytes
    }

    /// The TXT records the answer `bytes` gives for `name` (each record's strings joined, as
    /// RFC 7208 reads them), following CNAMEs within the answer. NXDOMAIN and an answer without
    /// TXT records give none.
    /// - Throws: ``Failure`` when the answer is malformed, is not the answer to the query with
    ///   `id` for `name`, is truncated, or reports a server error.
    public static func txtRecords(in bytes: [UInt8], for name: String, id: UInt16) throws(Failure) -> [String] {
        var reader = Reader(bytes: bytes)
        guard try reader.uint16() == id else { throw .mismatched("another transaction id") }
        let flags = try reader.uint16()
        guard flags & 0x8000 != 0 else { throw .mismatched("not a response") }
        guard flags & 0x7800 == 0 else { throw .mismatched("not a standard query") }
        guard flags & 0x0200 == 0 else { throw .truncated }
        let questions = try reader.uint16()
        let answers = try reader.uint16()
        _ = try reader.uint16() // authority records: not read
        _ = try reader.uint16() // additional records: not read
        let rcode = Int(flags & 0x000F)
        guard questions == 1 else { throw .mismatched("\(questions) questions") }
        let asked = try reader.name()
        guard asked.lowercased() == canonical(name), try reader.uint16() == txtType, try reader.uint16() == internetClass else {
            throw .mismatched("another question")
        }
        switch rcode {
        case 0: break
        case 3: return [] // NXDOMAIN: the name does not exist
        default: throw .serverFailure(rcode: rcode)
        }
        var owners: Set<String> = [canonical(name)]
        var records: [String] = []
        for _ in 0..<answers {
            let owner = try reader.name().lowercased()
            let type = try reader.uint16()
            let recordClass = try reader.uint16()
            _ = try reader.uint32() // TTL
            let length = Int(try reader.uint16())
            let end = reader.offset + length
            guard end <= bytes.count else { throw .malformed("a record runs past the end") }
            if recordClass == internetClass, owners.contains(owner) {
                if type == cnameType {
                    owners.insert(try reader.name().lowercased())
                } else if type == txtType {
                    var text: [UInt8] = []
                    while reader.offset < end {
                        let count = Int(try reader.byte())
                        guard reader.offset + count <= end else { throw .malformed("a TXT string runs past its record") }
                        text += bytes[reader.offset..<reader.offset + count]
                        reader.offset += count
                    }
                    records.append(String(decoding: text, as: UTF8.self))
                }
            }
            reader.offset = end
        }
        return records
    }

    /// `name` without a trailing dot, lowercased: how names are compared.
    static func canonical(_ name: String) -> String {
        (name.hasSuffix(".") ? String(name.dropLast()) : name).lowercased()
    }

    private static func encode(_ name: String) throws(Failure) -> [UInt8] {
        let labels = canonical(name).split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else {
            throw .invalidName(name)
        }
        var bytes: [UInt8] = []
        for label in labels {
            bytes.append(UInt8(label.utf8.count))
            bytes += label.utf8
        }
        bytes.append(0)
        return bytes
    }

    private static func append(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    /// Reads a DNS message front to back, bounds-checked.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws(Failure) -> UInt8 {
            guard offset < bytes.count else { throw .malformed("it ends early") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func uint16() throws(Failure) -> UInt16 {
            UInt16(try byte()) << 8 | UInt16(try byte())
        }

        mutating func uint32() throws(Failure) -> UInt32 {
            UInt32(try uint16()) << 16 | UInt32(try uint16())
        }

        /// A possibly compressed name (RFC 1035 §4.1.4), dotted, without the root's dot.
        mutating func name() throws(Failure) -> String {
            var labels: [String] = []
            var position = offset
            var resumeAt: Int?
            var jumps = 0
            while true {
                guard position < bytes.count else { throw .malformed("a name runs past the end") }
                let length = Int(bytes[position])
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < bytes.count else { throw .malformed("a name pointer runs past the end") }
                    let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                    // Pointers go backwards only, a bounded number of times: no loops.
                    guard target < position, jumps < 32 else { throw .malformed("a name pointer loops") }
                    jumps += 1
                    if resumeAt == nil { resumeAt = position + 2 }
                    position = target
                    continue
                }
                guard length & 0xC0 == 0 else { throw .malformed("an unknown label type") }
                position += 1
                if length == 0 { break }
                guard position + length <= bytes.count else { throw .malformed("a label runs past the end") }
                labels.append(String(decoding: bytes[position..<position + length], as: UTF8.self))
                position += length
                guard labels.count <= 127 else { throw .malformed("a name is too long") }
            }
            offset = resumeAt ?? position
            return labels.joined(separator: ".")
        }
    }
}
