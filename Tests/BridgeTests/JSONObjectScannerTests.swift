import Testing

@testable import SMTABridge

@Suite("Request bodies are checked as strict JSON before anything reaches the database")
struct JSONObjectScannerTests {
    private func keys(_ text: String) throws -> [String] {
        try JSONObjectScanner.keys(of: Array(text.utf8))
    }

    private func refused(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JSONObjectScanner.keys(of: bytes)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("the top-level keys of an object, escapes decoded, nested values skipped")
    func readsTopLevelKeys() throws {
        #expect(try keys(#"{"p_name": "Acme", "p_meta": {"a": [1, 2.5e-3, -0, true, false, null]}}"#) == ["p_name", "p_meta"])
        #expect(try keys(#" { "p_\u00e9t\u00E9" : "\ud83d\ude00" } "#) == ["p_été"])
        #expect(try keys("{}") == [])
    }

    @Test("what JSON does not allow is refused", arguments: [
        #"{"p_name": "x",}"#, #"{"p_name": 'x'}"#, #"{p_name: "x"}"#, #"{"a": 01}"#, #"{"a": 1.}"#,
        #"{"a": .5}"#, #"{"a": +1}"#, #"{"a": NaN}"#, #"{"a": "\x"}"#, #"{"a": "\ud83d"}"#,
        #"{"a": 1} {"b": 2}"#, #"{"a": 1} // comment"#, #"["p_name"]"#, #""text""#, "{\"a\": \"tab\there\"}",
        #"{"a": tru}"#, #"{"a" 1}"#, #"{"a": [1, 2,]}"#,
    ])
    func refusesInvalidJSON(_ text: String) {
        #expect(refused(Array(text.utf8)) != nil, "accepted: \(text)")
    }

    @Test("a byte-order mark and invalid UTF-8 are refused")
    func refusesBOMAndInvalidUTF8() {
        #expect(refused([0xEF, 0xBB, 0xBF] + Array(#"{"a": 1}"#.utf8)) != nil)
        #expect(refused(Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)) != nil)
    }

    @Test("nesting beyond the limit is refused without exhausting the stack")
    func refusesDeepNesting() {
        let deep = "{\"a\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(refused(Array(deep.utf8))?.contains("nested deeper") == true)
    }
}
