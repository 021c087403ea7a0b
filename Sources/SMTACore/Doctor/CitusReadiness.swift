import Logging
import PostgresNIO

/// What `smta doctor --citus` checks: whether the tables of a schema could be distributed by
/// Citus on their tenant column (`organization_id` unless named otherwise), which needs:
///
/// - the column on every tenant table, and never null (a row without a tenant has no shard);
/// - every primary key and unique constraint or index including it (Citus enforces uniqueness
///   within a shard only);
/// - every foreign key to another table of the schema pairing the column with that table's own
///   (co-located tables join and refer within one shard).
///
/// Reads only the system catalogs. `docs/scaling.md` applies the same rules to SMTA's own
/// tables and says which would change.
public struct CitusReadiness: Sendable {
    /// The schema checked.
    public var schema: String
    /// The distribution column.
    public var column: String

    /// Checks `schema`'s tables for distribution by `column`.
    public init(schema: String = "app", column: String = "organization_id") {
        self.schema = schema
        self.column = column
    }

    /// The findings for the database `connection` is connected to.
    /// - Throws: ``DatabaseError`` when the catalogs cannot be read.
    public func findings(on connection: PostgresConnection, logger: Logger) async throws -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let tables = try await connection.guardedQuery(
            """
            select c.relname::text, a.attnum is not null, coalesce(a.attnotnull, false)
            from pg_catalog.pg_class c
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            left join pg_catalog.pg_attribute a
                on a.attrelid = c.oid and a.attname = \(column) and a.attnum > 0 and not a.attisdropped
            where n.nspname = \(schema) and c.relkind in ('r', 'p') and not c.relispartition
            order by 1
            """, logger: logger
        ).map { try $0.decode((String, Bool, Bool).self) }
        for (table, hasColumn, notNull) in tables {
            let name = "\(schema).\(table)"
            if !hasColumn {
                findings.append(DoctorFinding(
                    object: name, kind: .citusNoDistributionColumn,
                    message: "no \(column) column: Citus could keep it only as a reference table (copied to every node) or a local one; a tenant table needs the column"))
            } else if !notNull {
                findings.append(DoctorFinding(
                    object: "\(name).\(column)", kind: .citusNullableDistributionColumn,
                    message: "\(column) may be null, and a row without a tenant has no shard (ALTER TABLE \(name) ALTER COLUMN \(column) SET NOT NULL, after moving such rows)"))
            }
        }

        // Unique constraints and unique indexes (primary keys included) without the column.
        let uniques = try await connection.guardedQuery(
            """
            select c.relname::text, ic.relname::text, i.indisprimary
            from pg_catalog.pg_index i
            join pg_catalog.pg_class c on c.oid = i.indrelid
            join pg_catalog.pg_class ic on ic.oid = i.indexrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where n.nspname = \(schema) and i.indisunique and c.relkind in ('r', 'p')
              and exists (select 1 from pg_catalog.pg_attribute a
                          where a.attrelid = c.oid and a.attname = \(column) and not a.attisdropped)
              and not exists (select 1 from pg_catalog.pg_attribute a
                              where a.attrelid = c.oid and a.attname = \(column) and a.attnum = any (i.indkey::int2[]))
            order by 1, 2
            """, logger: logger
        ).map { try $0.decode((String, String, Bool).self) }
        for (table, index, primary) in uniques {
            findings.append(DoctorFinding(
                object: "\(schema).\(table) \(primary ? "primary key" : "unique index") \(index)", kind: .citusUniqueWithoutDistributionColumn,
                message: "does not include \(column): Citus enforces uniqueness within a shard only, so it must (add \(column) to the key)"))
        }

        // Foreign keys between tables of the schema that do not pair the column with itself.
        let foreignKeys = try await connection.guardedQuery(
            """
            select c.relname::text, k.conname::text, rc.relname::text
            from pg_catalog.pg_constraint k
            join pg_catalog.pg_class c on c.oid = k.conrelid
            join pg_catalog.pg_class rc on rc.oid = k.confrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
            where k.contype = 'f' and n.nspname = \(schema) and rn.nspname = \(schema)
              and exists (select 1 from pg_catalog.pg_attribute a
                          where a.attrelid = rc.oid and a.attname = \(column) and not a.attisdropped)
              and not exists (
                  select 1
                  from rows from (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey)) as pair (local, referenced)
                  join pg_catalog.pg_attribute la on la.attrelid = k.conrelid and la.attnum = pair.local
                  join pg_catalog.pg_attribute ra on ra.attrelid = k.confrelid and ra.attnum = pair.referenced
                  where la.attname = \(column) and ra.attname = \(column))
            order by 1, 2
            """, logger: logger
        ).map { try $0.decode((String, String, String).self) }
        for (table, constraint, referenced) in foreignKeys {
            findings.append(DoctorFinding(
                object: "\(schema).\(table) foreign key \(constraint)", kind: .citusForeignKeyWithoutDistributionColumn,
                message: "refers to \(schema).\(referenced) without pairing \(column) with its own: co-located tables refer within a shard (reference (\(column), …) and make the referenced key include \(column))"))
        }
        return findings
    }
}
