import Crypto
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SMTACore

/// Binds a Payload user to the organizations whose identity provider provisioned their verified
/// email through SCIM (`public.claim_provisioned_memberships`), the first time the bridge sees
/// their sign-in.
///
/// Supabase and OIDC sign-ins are written to the database (`auth.users`, the identity links),
/// whose triggers bind; a Payload sign-in is a session in Payload's own store, so the bridge
/// binds on the first request of each session it sees (a session is a sign-in: its claims carry
/// its `sid`). Only addresses within the organizations' verified domains bind so; any other
/// waits for the user's own `claim_provisioned_memberships()` call, their consent. Only when the
/// adapter proved the email (`email_verified` in the claims, set for collections that verify
/// email).
///
/// A new session costs one indexed read of the pending SCIM users (as the bridge, with no side
/// effect); only when one waits for the address does the binding run, as the user, before the
/// request's own call. So a request that is then refused changed nothing unless something was
/// bound for it. A failure is logged (and, when the database did not answer, tried again on the
/// next request).
final class SignInBinding: Sendable {
    private let pool: RenewablePool
    /// The sessions seen, oldest first, and their set (SHA-256 of the claims).
    private let seen = NIOLockedValueBox((order: [SHA256Digest](), set: Set<SHA256Digest>()))

    /// How many sessions are remembered; past it, the oldest are forgotten (and would bind again,
    /// which changes nothing).
    static let capacity = 10_000

    init(pool: RenewablePool) {
        self.pool = pool
    }

    /// The statement run as the user.
    static let statement =
        "select pg_catalog.to_json(pg_catalog.count(*)) from public.claim_provisioned_memberships(p_within_verified_domains => true)"

    /// Binds `identity` when it is a verified Payload sign-in not seen before.
    func bindIfNew(_ identity: Identity, gate: Gate, logger: Logger) async {
        guard identity.link?.provider == "payload", identity.role == .authenticated,
            identity.claimsJSON.contains(#""email_verified":true"#)
        else { return }
        let key = SHA256.hash(data: Array(identity.claimsJSON.utf8))
        guard !isSeen(key), let email = identity.email else { return }
        do {
            let pending: PostgresQuery = "select platform.scim_users_pending(\(email))"
            let rows = try await pool.withConnection { try await $0.guardedQuery(pending, logger: logger) }
            guard try rows.first?.decode(Bool.self) == true else {
                remember(key)
                return
            }
        } catch {
            logger.warning("reading SCIM users pending at sign-in failed", metadata: ["error": "\(error)"])
            return
        }
        // Not narrowed to the request's organization: the user may be joining it right now.
        var signIn = identity
        signIn.organizationID = nil
        do {
            _ = try await gate.call(Self.statement, arguments: "{}", as: signIn)
            remember(key)
        } catch {
            logger.warning("binding SCIM-provisioned memberships at sign-in failed", metadata: ["error": "\(error)"])
            // The database's own refusal would repeat: not asked again for this session. Without
            // an answer (a lost connection), the next request tries again.
            if (error as? DatabaseError)?.sqlState != nil {
                remember(key)
            }
        }
    }

    private func isSeen(_ key: SHA256Digest) -> Bool {
        seen.withLockedValue { $0.set.contains(key) }
    }

    private func remember(_ key: SHA256Digest) {
        seen.withLockedValue { seen in
            guard seen.set.insert(key).inserted else { return }
            seen.order.append(key)
            if seen.order.count > Self.capacity {
                let dropped = seen.order.prefix(seen.order.count - Self.capacity)
                seen.set.subtract(dropped)
                seen.order.removeFirst(dropped.count)
            }
        }
    }
}
