import Testing

@testable import SMTABridge

/// SCIM filters (RFC 7644 §3.4.2.2) as the bridge reads them, and the SQL they become: fixed
/// column expressions and operators, every value a bound parameter.
@Suite("SCIM filters")
struct SCIMFilterTests {
    static let columns = SCIMFilterColumns(
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:user"],
        attributes: [
            "username": .simple(.init(sql: "u.user_name", kind: .text(caseExact: false))),
            "externalid": .simple(.init(sql: "u.external_id", kind: .text(caseExact: true))),
            "active": .simple(.init(sql: "u.active", kind: .boolean)),
            "name": .complex(["givenname": .init(sql: "u.given_name", kind: .text(caseExact: false))]),
            "emails": .multiValued(
                values: "jsonb_array_elements(u.emails) as _e(v)",
                subAttributes: ["value": .init(sql: "_e.v->>'value'", kind: .text(caseExact: false)),
                                "type": .init(sql: "_e.v->>'type'", kind: .text(caseExact: false))],
                defaultSubAttribute: "value"),
            "meta": .complex(["lastmodified": .init(sql: "u.updated_at", kind: .dateTime)]),
        ])

    @Test("comparisons, presence, and/or precedence, not and value paths parse")
    func grammar() throws {
        let userName = SCIMAttributePath(name: "userName")
        #expect(try SCIMFilter.parse(#"userName eq "bjensen""#) == .compare(userName, .eq, .string("bjensen")))
        #expect(try SCIMFilter.parse("title pr") == .present(SCIMAttributePath(name: "title")))
        #expect(try SCIMFilter.parse(#"a eq "1" or b eq "2" and c eq "3""#)
            == .or(.compare(.init(name: "a"), .eq, .string("1")),
                   .and(.compare(.init(name: "b"), .eq, .string("2")), .compare(.init(name: "c"), .eq, .string("3")))))
        #expect(try SCIMFilter.parse(#"NOT (active EQ true) AND meta.lastModified GT "2026-01-01T00:00:00Z""#)
            == .and(.not(.compare(.init(name: "active"), .eq, .bool(true))),
                    .compare(.init(name: "meta", subAttribute: "lastModified"), .gt, .string("2026-01-01T00:00:00Z"))))
        #expect(try SCIMFilter.parse(#"emails[type eq "work" and value co "@example.com"]"#)
            == .valuePath(.init(name: "emails"), .and(.compare(.init(name: "type"), .eq, .string("work")),
                                                    .compare(.init(name: "value"), .co, .string("@example.com")))))
        #expect(try SCIMFilter.parse(#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#)
            == .compare(.init(schema: "urn:ietf:params:scim:schemas:core:2.0:User", name: "userName"), .sw, .string("J")))
        #expect(try SCIMFilter.parse(#"userName eq "quote \" and \\ backslash""#)
            == .compare(userName, .eq, .string(#"quote " and \ backslash"#)))
    }

    @Test("malformed filters are refused with invalidFilter")
    func malformed() {
        for text in [
            "", "userName", "userName eq", #"userName like "x""#, "userName eq bjensen", #"userName eq "open"#,
            #"(userName eq "x""#, #"userName eq "x")"#, #"userName eq "x" and"#, #"emails[type eq "work""#,
            #"not userName eq "x""#, "1abc pr", String(repeating: "(", count: 40) + "a pr" + String(repeating: ")", count: 40),
        ] {
            #expect(throws: SCIMError.self, "\(text)") { try SCIMFilter.parse(text) }
            do {
                _ = try SCIMFilter.parse(text)
            } catch {
                #expect(error.scimType == .invalidFilter && error.status == .badRequest)
            }
        }
    }

    @Test("values become parameters; case-insensitive strings compare lowered, case-exact ones as written")
    func sql() throws {
        let (condition, parameters) = try SCIMFilter.parse(#"userName eq "BJensen" and externalId eq "X'); drop table t;--""#)
            .sql(columns: Self.columns, firstParameter: 3)
        #expect(condition == "((pg_catalog.lower(u.user_name) = pg_catalog.lower($3::text)) and (u.external_id = $4::text))")
        #expect(parameters == ["BJensen", "X'); drop table t;--"])

        let (present, none) = try SCIMFilter.parse("name.givenName pr").sql(columns: Self.columns, firstParameter: 1)
        #expect(present == "(u.given_name is not null and u.given_name <> '')")
        #expect(none.isEmpty)

        let (emails, emailParameters) = try SCIMFilter.parse(#"emails[type eq "work"] and emails co "@EXAMPLE""#)
            .sql(columns: Self.columns, firstParameter: 1)
        #expect(emails.contains("exists (select 1 from jsonb_array_elements(u.emails) as _e(v) where ((pg_catalog.lower(_e.v->>'type') = pg_catalog.lower($1::text))))"))
        #expect(emails.contains("pg_catalog.strpos(pg_catalog.lower(_e.v->>'value'), pg_catalog.lower($2::text)) > 0"))
        #expect(emailParameters == ["work", "@EXAMPLE"])

        let (active, activeParameters) = try SCIMFilter.parse("not (active eq false)").sql(columns: Self.columns, firstParameter: 1)
        #expect(active == "(not coalesce((u.active = $1::boolean), false))")
        #expect(activeParameters == ["false"])
    }

    @Test("unknown attributes, schemas and comparisons a type lacks are refused")
    func refusedAttributes() throws {
        for text in [
            #"password eq "x""#, #"urn:example:Other:userName eq "x""#, #"active eq "true""#, "active gt true",
            #"userName eq 1"#, #"meta.lastModified gt "yesterday""#, #"meta.lastModified co "2026""#,
            #"name eq "x""#, #"userName.first eq "x""#, #"emails[nope eq "x"]"#, #"userName[value eq "x"]"#,
            #"emails[type eq "work" and emails[type eq "home"]]"#,
        ] {
            #expect(throws: SCIMError.self, "\(text)") { try SCIMFilter.parse(text).sql(columns: Self.columns, firstParameter: 1) }
        }
    }

    @Test("xsd:dateTime is checked before it reaches the database")
    func dateTimes() {
        for good in ["2026-12-07T12:00:00Z", "2026-12-07T12:00:00.123456+01:00", "2026-12-07t12:00:00z"] {
            #expect(SCIMFilter.isDateTime(good), "\(good)")
        }
        for bad in ["2026-12-07", "2026-12-07T12:00:00", "2026-12-07T12:00:00+1", "2026-12-07T12:00:00.Z", "x026-12-07T12:00:00Z"] {
            #expect(!SCIMFilter.isDateTime(bad), "\(bad)")
        }
    }
}
