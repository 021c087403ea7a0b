import Foundation
import PostgresNIO
import SMTACore

extension GateTransaction {
    /// `public.create_organization` as the caller: the new organization's id.
    func createOrganization(_ name: String) async throws -> UUID {
        guard let id = try await rows("select id from public.create_organization(p_name => \(name))", as: UUID.self).first else {
            throw DatabaseError(sqlState: nil, message: "public.create_organization returned no row")
        }
        return id
    }

    /// `public.list_my_organizations()` as the caller: each organization's id and the caller's role in it.
    func myOrganizations() async throws -> [(id: UUID, role: String)] {
        try await rows("select id, role from public.list_my_organizations()", as: (UUID, String).self).map { (id: $0, role: $1) }
    }
}
