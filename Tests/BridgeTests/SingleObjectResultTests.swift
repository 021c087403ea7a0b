import Testing

@testable import SMTABridge

/// `Accept: application/vnd.pgrst.object+json` on a set result answers its one element as
/// PostgreSQL wrote it: the array's brackets are stripped from the bytes, so keys keep their order.
@Suite("A single object is cut from the result's bytes, keys in their order")
struct SingleObjectResultTests {
    private func elements(_ text: String) throws -> [String] {
        let bytes = Array(text.utf8)
        return try JSONObjectScanner.arrayElements(of: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test("each top-level element's exact text, whitespace around it left out")
    func elementsAreCutExactly() throws {
        #expect(try elements(#"[{"z": 1, "a": [2, {"m": "]"}], "b": null}]"#) == [#"{"z": 1, "a": [2, {"m": "]"}], "b": null}"#])
        #expect(try elements(#" [ {"b":1} , 2 , "x,y" ] "#) == [#"{"b":1}"#, "2", #""x,y""#])
        #expect(try elements("[]") == [])
        #expect(try elements(" [ ] ") == [])
    }

    @Test("anything but one JSON array is refused", arguments: [#"{"a": 1}"#, "[1,]", "[1] [2]", "[", ""])
    func nonArraysAreRefused(text: String) {
        #expect(throws: JSONObjectScanner.Invalid.self) { try JSONObjectScanner.arrayElements(of: Array(text.utf8)) }
    }
}

/// PGRST202's hint for an unknown function names the closest known one, as PostgREST's does.
@Suite("An unknown function's hint names the closest function")
struct FunctionNameSuggestionTests {
    let known = ["create_organization", "list_my_organizations", "get_audit_log", "create_unit", "get_unit", "list_units"]

    @Test("a misspelt or half-remembered name finds its function", arguments: [
        ("create_organisation", "create_organization"), ("list_organizations", "list_my_organizations"),
        ("get_audit_logs", "get_audit_log"), ("CREATE_UNIT", "create_unit"), ("list_unit", "list_units"),
    ])
    func closeNamesAreSuggested(requested: String, expected: String) {
        #expect(FunctionNameSuggestion.closest(to: requested, among: known) == expected)
    }

    @Test("a name close to nothing gets no suggestion", arguments: ["xyz", "q", "qqqqqqqqqqqq", ""])
    func farNamesGetNone(requested: String) {
        #expect(FunctionNameSuggestion.closest(to: requested, among: known) == nil)
    }
}
