import Foundation
import HTTPTypes
import SMTACore

/// The organization a request is narrowed to: its `X-SMTA-Organization` header, or the token
/// claim named by `organization_claim` (for apps whose auth server puts the active organization
/// in the token, e.g. a Supabase access-token hook).
///
/// Only the format is checked here; the database decides membership (`core.set_caller` refuses a
/// caller who is not a live member of it: 403). When both the header and the claim are present
/// they must agree, so a client cannot move a session its auth server pinned to one organization.
struct ActiveOrganization: Sendable {
    /// `X-SMTA-Organization`.
    static let header = HTTPField.Name("X-SMTA-Organization")!

    /// The claim's path in the token's claims (`["app_metadata", "organization_id"]`), or nil
    /// when no claim is configured.
    let claimPath: [String]?

    /// Reads the claim at `claim` (a name, or a dotted path into nested objects); nil or empty
    /// for none.
    init(claim: String?) {
        guard let claim, !claim.isEmpty else {
            claimPath = nil
            return
        }
        claimPath = claim.split(separator: ".").map(String.init)
    }

    /// The active organization of a request from `identity` with `headers`, or nil.
    /// - Throws: 400 `22P02` for a header or claim that is not a UUID or a header sent twice;
    ///   403 `42501` when the header and the claim name different organizations.
    func resolve(_ headers: HTTPFields, identity: Identity) throws(BridgeError) -> UUID? {
        let values = headers[values: Self.header]
        guard values.count <= 1 else {
            throw BridgeError(status: .badRequest, code: "22P02", message: "X-SMTA-Organization must be sent once")
        }
        var named: UUID?
        if let value = values.first {
            guard let id = UUID(uuidString: value.trimmingCharacters(in: .whitespaces)) else {
                throw BridgeError(
                    status: .badRequest, code: "22P02", message: "X-SMTA-Organization must be an organization id (a UUID)")
            }
            named = id
        }
        guard let claimed = try claimedOrganization(identity) else {
            return named
        }
        if let named, named != claimed {
            throw BridgeError(
                status: .forbidden, code: "42501",
                message: "X-SMTA-Organization differs from the organization the token names")
        }
        return claimed
    }

    /// The organization the token's claim names, when a claim is configured and present.
    private func claimedOrganization(_ identity: Identity) throws(BridgeError) -> UUID? {
        guard let claimPath, identity.role == .authenticated,
            var value = try? JSONSerialization.jsonObject(with: Data(identity.claimsJSON.utf8))
        else {
            return nil
        }
        for name in claimPath {
            guard let object = value as? [String: Any], let next = object[name] else { return nil }
            value = next
        }
        if value is NSNull { return nil }
        guard let text = value as? String, let id = UUID(uuidString: text) else {
            throw BridgeError(
                status: .badRequest, code: "22P02",
                message: "The token's \(claimPath.joined(separator: ".")) claim must be an organization id (a UUID)")
        }
        return id
    }
}
