import HTTPTypes
import NIOCore
import Testing

@testable import SMTABridge

/// PostgREST's result grammar as the bridge reads it: filters, ordering, paging, counting, and
/// the statement they become (column names from the catalog, values only as bound parameters).
@Suite("Result operations on function results")
struct ResultOptionsTests {
    static let organizations = RPCFunction(
        name: "list_my_organizations", arguments: [], shape: .rows, columns: ["id", "name", "description", "role"],
        columnTypes: ["id": "uuid", "name": "text", "description": "text", "role": "text"], resultType: "record",
        summary: nil, isReadOnly: true, executableBy: [.authenticated])
    static let scalar = RPCFunction(
        name: "get_user_role", arguments: [.init(name: "p_org_id", type: "uuid", hasDefault: false)], shape: .scalar,
        columns: [], columnTypes: [:], resultType: "text", summary: nil, isReadOnly: true, executableBy: [.authenticated])

    static func options(_ query: String, headers: HTTPFields = [:], function: RPCFunction = organizations) throws -> ResultOptions {
        try ResultOptions(parameters: RPCArguments.parameters(query), headers: headers, function: function)
    }

    @Test("each operator, not., in and is parse into a comparison")
    func comparisons() throws {
        #expect(try FilterExpression.parse(name: "name", value: "eq.Acme")
            == .comparison(column: "name", operator: .eq, negated: false, value: .text("Acme")))
        #expect(try FilterExpression.parse(name: "name", value: "not.ilike.*acme*")
            == .comparison(column: "name", operator: .ilike, negated: true, value: .text("%acme%")))
        #expect(try FilterExpression.parse(name: "name", value: #"in.(Acme,"Big, Co",Zed)"#)
            == .comparison(column: "name", operator: .in, negated: false, value: .list(["Acme", "Big, Co", "Zed"])))
        #expect(try FilterExpression.parse(name: "description", value: "is.NULL")
            == .comparison(column: "description", operator: .is, negated: false, value: .keyword("null")))
        for op in FilterOperator.allCases where op != .in && op != .is {
            #expect(throws: Never.self) { try FilterExpression.parse(name: "name", value: "\(op.rawValue).x") }
        }
    }

    @Test("or= and and= nest, with not. on groups and members")
    func logicalGroups() throws {
        let parsed = try FilterExpression.parse(name: "or", value: "(name.eq.A,and(role.eq.team,description.not.is.null),not.or(name.eq.B))")
        #expect(parsed == .group(isAnd: false, negated: false, members: [
            .comparison(column: "name", operator: .eq, negated: false, value: .text("A")),
            .group(isAnd: true, negated: false, members: [
                .comparison(column: "role", operator: .eq, negated: false, value: .text("team")),
                .comparison(column: "description", operator: .is, negated: true, value: .keyword("null")),
            ]),
            .group(isAnd: false, negated: true, members: [.comparison(column: "name", operator: .eq, negated: false, value: .text("B"))]),
        ]))
        #expect(try FilterExpression.parse(name: "not.and", value: "(name.eq.A,name.eq.B)").columns == ["name", "name"])
    }

    @Test("malformed filters are PGRST100, unknown columns 42703, both before the database")
    func refusals() throws {
        for (query, code) in [
            ("name=A", "PGRST100"), ("name=fts.A", "PGRST100"), ("name=in.A,B", "PGRST100"), ("description=is.maybe", "PGRST100"),
            ("or=name.eq.A", "PGRST100"), ("or=(name.eq.A", "PGRST100"), ("or=(name.eq.(A)", "PGRST100"),
            ("nope=eq.1", "42703"), ("order=nope.desc", "42703"), ("order=name.sideways", "PGRST100"),
            ("limit=x", "PGRST100"), ("offset=x", "PGRST100"), ("select=nope", "42703"), ("on_conflict=id", "PGRST100"),
        ] {
            let error = #expect(throws: BridgeError.self, "\(query)") { try Self.options(query) }
            #expect(error?.code == code, "\(query)")
            #expect(error?.status == .badRequest, "\(query)")
        }
        let scalar = #expect(throws: BridgeError.self) { try Self.options("name=eq.A", function: Self.scalar) }
        #expect(scalar?.code == "PGRST100")
        let paged = #expect(throws: BridgeError.self) { try Self.options("limit=1", function: Self.scalar) }
        #expect(paged?.code == "PGRST100")
        let negative = #expect(throws: BridgeError.self) { try Self.options("limit=-1") }
        #expect(negative?.status == .rangeNotSatisfiable && negative?.code == "PGRST103")
        #expect(negative?.details == "Limit should be greater than or equal to zero.")
    }

    @Test("on GET a value is a filter when PostgREST would parse it as one, an argument otherwise")
    func filtersAndArgumentsOnGet() {
        for value in ["eq.1", "not.is.null", "in.(a,b)", "eq(any).{a,b}", "fts(english).cat", "cs.{1}", "isdistinct.x"] {
            #expect(FilterExpression.isWrittenAsFilter(value), "\(value)")
        }
        for value in ["Beta", "", "eq", "not.Beta", "1.5", "equal.1", "a.b", "2026-01-01T00:00:00.000Z"] {
            #expect(!FilterExpression.isWrittenAsFilter(value), "\(value)")
        }
    }

    @Test("ordering, limit, offset, Range and Prefer: count")
    func pagingAndCounting() throws {
        let options = try Self.options(
            "order=name.desc.nullslast,id&limit=10&offset=2",
            headers: [.range: "5-9", HTTPField.Name("Prefer")!: "return=minimal, count=planned"])
        #expect(options.ordering == [
            .init(column: "name", descending: true, nullsFirst: false), .init(column: "id", descending: false, nullsFirst: nil),
        ])
        #expect(options.offset == 5)
        #expect(options.limit == 5)
        #expect(options.countsTotal)
        let ignored = try ResultOptions(
            parameters: [], headers: [.range: "5-9"], readsRangeHeader: false, function: Self.organizations)
        #expect(ignored.offset == 0 && ignored.limit == nil)
        let counted = try Self.options("", headers: [HTTPField.Name("Prefer")!: "count=exact"], function: Self.scalar)
        #expect(counted.countsTotal)
        let open = try Self.options("", headers: [.range: "3-"])
        #expect(open.offset == 3 && open.limit == nil)
        let backwards = #expect(throws: BridgeError.self) { try Self.options("", headers: [.range: "9-3"]) }
        #expect(backwards?.code == "PGRST103" && backwards?.status == .rangeNotSatisfiable)
        #expect(try !Self.options("select=name").operatesOnRows)
    }

    @Test("values reach the statement only as bound parameters, names only from the catalog")
    func statementBindsValues() throws {
        let hostile = "x'); drop table core.organizations; --"
        let options = try Self.options(
            "name=eq.\(hostile)&or=(role.in.(a,\"\(hostile)\"),description.like.\"*\(hostile)*\")&order=name")
        let statement = CallStatement.make(Self.organizations, arguments: try RPCArguments(body: ByteBuffer(string: "{}")), options: options)
        #expect(!statement.text.contains("drop table"))
        #expect(statement.parameter.contains("drop table"))
        #expect(statement.text.contains(#"_f."name" = ($1 -> 1 ->> 0)::text"#))
        #expect(statement.text.contains(#"order by _q."name" asc"#))
        #expect(statement.isPaged)
        let plain = CallStatement.make(
            Self.organizations, arguments: try RPCArguments(body: ByteBuffer(string: "{}")), options: try Self.options(""))
        #expect(plain.isPaged && plain.text.contains("pg_catalog.count(*)") && !plain.text.contains("with _q"))
        let counted = CallStatement.make(
            Self.organizations, arguments: try RPCArguments(body: ByteBuffer(string: "{}")),
            options: try Self.options("limit=2", headers: [HTTPField.Name("Prefer")!: "count=exact"]))
        #expect(counted.isPaged)
        #expect(counted.text.contains("limit 2"))
    }

    @Test("a page reads its counts and gives PostgREST's Content-Range and status")
    func pagedResult() throws {
        let page = try PagedResult(ByteBuffer(string: #"[2, 10, [{"id" : 1}, {"id" : 2}]]"#))
        #expect(page.count == 2 && page.total == 10)
        #expect(String(buffer: page.rows) == #"[{"id" : 1}, {"id" : 2}]"#)
        #expect(page.range(offset: 4) == ("4-5/10", .partialContent))
        let whole = try PagedResult(ByteBuffer(string: "[3, 3, [1, 2, 3]]"))
        #expect(whole.range(offset: 0) == ("0-2/3", .ok))
        let uncounted = try PagedResult(ByteBuffer(string: "[1, null, [1]]"))
        #expect(uncounted.range(offset: 0) == ("0-0/*", .ok))
        let empty = try PagedResult(ByteBuffer(string: "[0, 0, []]"))
        #expect(empty.range(offset: 0) == ("*/0", .ok))
        let past = try PagedResult(ByteBuffer(string: "[0, 4, []]"))
        #expect(past.range(offset: 10).status == .rangeNotSatisfiable)
        #expect(throws: BridgeError.self) { try PagedResult(ByteBuffer(string: "[]")) }
        #expect(throws: BridgeError.self) { try PagedResult(ByteBuffer(string: "[null, 1, []]")) }
        #expect(throws: BridgeError.self) { try PagedResult(ByteBuffer(string: "[-1, 1, []]")) }
        #expect(throws: BridgeError.self) { try PagedResult(ByteBuffer(string: "[99999999999999999999, 1, []]")) }
        // The buffer's own offset does not matter: only its readable bytes are read.
        var offset = ByteBuffer(string: "xx[5, 7, [1]]")
        offset.moveReaderIndex(forwardBy: 2)
        let shifted = try PagedResult(offset)
        #expect(shifted.count == 5 && shifted.total == 7 && String(buffer: shifted.rows) == "[1]")
    }
}
