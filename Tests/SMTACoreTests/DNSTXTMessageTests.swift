import SMTACore
import Testing

/// The TXT lookup's wire format: the query SMTA sends, and answers read strictly.
@Suite("DNS TXT messages")
struct DNSTXTMessageTests {
    static let name = "_smta-verification.corp.example"

    /// An answer as a server writes it: header, the question, then `answers` (each already
    /// encoded), with `flags` (QR, RD, RA set by default).
    static func answer(id: UInt16 = 0x1234, flags: UInt16 = 0x8180, question: String = name, answers: [[UInt8]]) -> [UInt8] {
        var bytes = be(id) + be(flags) + be(1) + be(UInt16(answers.count)) + be(0) + be(0)
        bytes += encode(question) + be(16) + be(1)
        for answer in answers { bytes += answer }
        return bytes
    }

    /// A resource record: owner (bytes, possibly a pointer), type, class IN, TTL 60, data.
    static func record(owner: [UInt8] = [0xC0, 12], type: UInt16 = 16, data: [UInt8]) -> [UInt8] {
        owner + be(type) + be(1) + [0, 0, 0, 60] + be(UInt16(data.count)) + data
    }

    static func txt(_ strings: String...) -> [UInt8] {
        strings.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
    }

    static func encode(_ name: String) -> [UInt8] {
        name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    static func be(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    @Test("the query asks one TXT question with recursion and advertises EDNS(0)")
    func query() throws {
        let bytes = try DNSTXTMessage.query(for: "a.Example.", id: 0xBEEF)
        #expect(bytes == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]
            + [1, 0x61, 7] + Array("example".utf8) + [0, 0, 16, 0, 1]
            + [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
    }

    @Test("names that are not DNS names are refused", arguments: ["", ".", "a..b", String(repeating: "x", count: 64) + ".example"])
    func invalidNames(name: String) {
        #expect(throws: DNSTXTMessage.Failure.invalidName(name)) { try DNSTXTMessage.query(for: name, id: 1) }
    }

    @Test("each TXT record's strings are joined; compressed owners and other records are handled")
    func records() throws {
        let bytes = Self.answer(answers: [
            Self.record(data: Self.txt("smta-domain-", "verification=abc")),
            Self.record(type: 1, data: [192, 0, 2, 1]), // an A record: not TXT
            Self.record(data: Self.txt("v=spf1 -all")),
            Self.record(owner: Self.encode("other.example"), data: Self.txt("not ours")),
        ])
        #expect(try DNSTXTMessage.txtRecords(in: bytes, for: Self.name, id: 0x1234) == ["smta-domain-verification=abc", "v=spf1 -all"])
        #expect(try DNSTXTMessage.txtRecords(in: bytes, for: Self.name.uppercased() + ".", id: 0x1234).count == 2)
    }

    @Test("a CNAME in the answer is followed to its TXT record")
    func cname() throws {
        let target = Self.encode("records.dns-host.example")
        let bytes = Self.answer(answers: [
            Self.record(type: 5, data: target),
            Self.record(owner: target, data: Self.txt("smta-domain-verification=xyz")),
        ])
        #expect(try DNSTXTMessage.txtRecords(in: bytes, for: Self.name, id: 0x1234) == ["smta-domain-verification=xyz"])
    }

    @Test("NXDOMAIN is no record; another error code is the server's failure; TC is refused")
    func codes() throws {
        #expect(try DNSTXTMessage.txtRecords(in: Self.answer(flags: 0x8183, answers: []), for: Self.name, id: 0x1234) == [])
        #expect(throws: DNSTXTMessage.Failure.serverFailure(rcode: 2)) {
            try DNSTXTMessage.txtRecords(in: Self.answer(flags: 0x8182, answers: []), for: Self.name, id: 0x1234)
        }
        #expect(throws: DNSTXTMessage.Failure.truncated) {
            try DNSTXTMessage.txtRecords(in: Self.answer(flags: 0x8380, answers: []), for: Self.name, id: 0x1234)
        }
    }

    @Test("an answer to another query is never taken: another id, not a response, another question")
    func mismatched() {
        let good = Self.answer(answers: [Self.record(data: Self.txt("x"))])
        #expect(throws: DNSTXTMessage.Failure.mismatched("another transaction id")) {
            try DNSTXTMessage.txtRecords(in: good, for: Self.name, id: 0x4321)
        }
        #expect(throws: DNSTXTMessage.Failure.mismatched("not a response")) {
            try DNSTXTMessage.txtRecords(in: Self.answer(flags: 0x0100, answers: []), for: Self.name, id: 0x1234)
        }
        #expect(throws: DNSTXTMessage.Failure.mismatched("another question")) {
            try DNSTXTMessage.txtRecords(in: Self.answer(question: "evil.example", answers: []), for: Self.name, id: 0x1234)
        }
    }

    @Test("a pointer that loops or points forward is malformed")
    func pointerLoops() {
        // The answer's owner points at itself.
        var bytes = Self.answer(answers: [])
        let position = bytes.count
        bytes[7] = 1 // one answer
        bytes += [0xC0 | UInt8(position >> 8), UInt8(position & 0xFF)] + Self.be(16) + Self.be(1) + [0, 0, 0, 60] + Self.be(0)
        #expect(throws: DNSTXTMessage.Failure.malformed("a name pointer loops")) {
            try DNSTXTMessage.txtRecords(in: bytes, for: Self.name, id: 0x1234)
        }
    }

    @Test("every truncation of a valid answer is refused as malformed, never read past its end")
    func truncations() throws {
        let bytes = Self.answer(answers: [Self.record(data: Self.txt("smta-domain-verification=abc"))])
        #expect(try DNSTXTMessage.txtRecords(in: bytes, for: Self.name, id: 0x1234) == ["smta-domain-verification=abc"])
        for length in 0..<bytes.count {
            #expect(throws: DNSTXTMessage.Failure.self) {
                try DNSTXTMessage.txtRecords(in: Array(bytes[..<length]), for: Self.name, id: 0x1234)
            }
        }
    }

    @Test("a TXT string longer than its record is malformed")
    func overlongString() {
        var data = Self.txt("abc")
        data[0] = 10
        let bytes = Self.answer(answers: [Self.record(data: data)])
        #expect(throws: DNSTXTMessage.Failure.malformed("a TXT string runs past its record")) {
            try DNSTXTMessage.txtRecords(in: bytes, for: Self.name, id: 0x1234)
        }
    }
}
