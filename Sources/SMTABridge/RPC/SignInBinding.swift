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
/// binds on the first request of each session (a session is a sign-in: its claims carry its
/// `sid`). Only addresses within the organizations' verified domains bind so; any other waits for
/// the user's own `claim_provisioned_memberships()` call, their consent. Only when the adapter
/// proved the email (`email_verified` in the claims, set for collections that verify email).
///
/// Which request is a session's first is decided by the database, for every bridge process
/// (`platform.payload_sign_ins`, Payload's `0004_sign_in_sessions.sql`): a session one process
/// saw before an address was provisioned is not bound later by another that had not seen it,
/// which would make the same request answer differently on the two. This process's memory of
/// the sessions seen only saves asking again.
///
/// A new session costs one call (`platform.payload_sign_in_pending`: an indexed read, and the
/// session recorded as seen when nothing waits); only when something waits for the address
/// does the binding run, as the user, before the request's own call, and the session is then
/// recorded. So a request that is then refused changed nothing unless something was bound for
/// it. A failure is logged (and, when the database did not answer, tried again on the next
/// request).
final class SignInBinding: Sendable {
    private let pool: RenewablePool
    /// The sessions seen, oldest first, and their set (SHA-256 of the claims).
    private let seen = NIOLockedValueBox((order: [SHA256Digest](), set: Set<SHA256Digest>()))

    /// How many sessions are remembered; past it, the oldest are forgotten (the database is asked
    /// again, and answers as it did).
    static let capacity = 10_000

    init(pool: RenewablePool) {
        self.pool = pool
    }

    /// The statement run as the user.
    static let statement =
        "select pg_catalog.to_json(pg_catalog.count(*)) from public.claim_provisioned_memberships(p_within_verified_domains => true)"

    /// Binds `identity` when it is a verified Payload sign-in no bridge has seen before.
    func bindIfNew(_ identity: Identity, gate: Gate, logger: Logger) async {
        guard identity.link?.provider == "payload", identity.role == .authenticated,
            identity.claimsJSON.contains(#""email_verified":true"#)
        else { return }
        let key = SHA256.hash(data: Array(identity.claimsJSON.utf8))
        guard !isSeen(key), let email = identity.email else { return }
        let digest = String(decoding: ConstantTime.hex(key), as: UTF8.self)
        do {
            let pending: PostgresQuery = "select platform.payload_sign_in_pending(\(digest), \(email))"
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
        } catch {
            logger.warning("binding SCIM-provisioned memberships at sign-in failed", metadata: ["error": "\(error)"])
            // Without an answer (a lost connection), the next request tries again. The
            // database's own refusal would repeat: the session is recorded as seen.
            guard (error as? DatabaseError)?.sqlState != nil else { return }
        }
        do {
            let record: PostgresQuery = "select platform.record_payload_sign_in(\(digest))"
            _ = try await pool.withConnection { try await $0.guardedQuery(record, logger: logger) }
            remember(key)
        } catch {
            // Bound, not recorded: the next request finds nothing pending, and records it then.
            logger.warning("recording a Payload sign-in failed", metadata: ["error": "\(error)"])
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
