import Crypto
import Foundation
import Logging
import SMTACore

/// Verifies a Supabase access token as Supabase Auth (GoTrue) issues it, and turns it into an
/// ``Identity`` whose claims PostgreSQL sees as `request.jwt.claims`.
///
/// The key is chosen as GoTrue chooses it: a `kid` naming a JWKS key selects that key;
/// otherwise an `HS256` token is checked with the legacy secret; any other unknown `kid`
/// triggers one rate-limited JWKS refresh and is refused if still unknown. Each key verifies
/// only its own algorithm, so neither `none` nor HS/ES/RS confusion can pass.
///
/// A token that passed is remembered (``VerifiedTokenCache``): sent again, only its time claims
/// are judged again, until the JWKS changes.
struct SupabaseTokenVerifier: Sendable {
    let legacyKey: VerificationKey?
    let keyRing: JWKSKeyRing?
    let audience: String
    let issuer: String?
    let clock: TokenClock
    let source: String
    let verified: VerifiedTokenCache<Identity>

    /// Verifies `token` at time `now`.
    /// - Throws: ``AuthenticationError`` with the precise reason.
    func verify(_ token: [UInt8], at now: Date) async throws(AuthenticationError) -> Identity {
        let keySetGeneration = keyRing?.generation ?? 0
        if let identity = try verified.value(
            for: token, keySetGeneration: keySetGeneration, clock: clock, now: now.timeIntervalSince1970) {
            return identity
        }
        let jwt = try CompactJWT(token)
        guard jwt.header.crit == nil else {
            throw AuthenticationError(.malformed, "token header has critical extensions")
        }
        let key = try await selectKey(for: jwt.header)
        guard key.verifies(jwt.signature, of: jwt.signingInput) else {
            throw AuthenticationError(.badSignature, "\(key.algorithm) signature does not verify")
        }
        let claims: SupabaseClaims
        do {
            claims = try JSONDecoder().decode(SupabaseClaims.self, from: Data(jwt.payload))
        } catch {
            throw AuthenticationError(.malformed, "token payload is not a JSON object with well-typed claims")
        }
        let identity = try identity(from: claims, payload: jwt.payload, now: now.timeIntervalSince1970)
        verified.insert(
            token,
            VerifiedTokenCache.Entry(
                value: identity, exp: claims.exp, nbf: claims.nbf, iat: claims.iat, keySetGeneration: keySetGeneration))
        return identity
    }

    /// GoTrue's key choice, with the algorithm bound to the key.
    private func selectKey(for header: CompactJWT.Header) async throws(AuthenticationError) -> VerificationKey {
        let algorithm = header.alg
        guard algorithm != "none", !algorithm.isEmpty else {
            throw AuthenticationError(.badSignature, "unsigned token (alg none)")
        }
        var key: VerificationKey?
        if let kid = header.kid, let keyRing {
            key = await keyRing.key(for: kid)
            if key == nil, algorithm != "HS256" || legacyKey == nil {
                key = try await keyRing.refreshedKey(for: kid)
            }
        }
        if key == nil, algorithm == "HS256" {
            key = legacyKey
        }
        guard let key else {
            if header.kid != nil {
                throw AuthenticationError(.badSignature, "unknown kid for \(algorithm) token")
            }
            throw AuthenticationError(.badSignature, "no key for \(algorithm) token without kid")
        }
        guard key.algorithm == algorithm else {
            throw AuthenticationError(.badSignature, "alg \(algorithm) does not match the key's \(key.algorithm)")
        }
        return key
    }

    /// The claim checks, then the identity.
    private func identity(from claims: SupabaseClaims, payload: [UInt8], now: Double) throws(AuthenticationError) -> Identity {
        guard let roleName = claims.role else {
            throw AuthenticationError(.invalidClaims, "role claim missing")
        }
        guard let role = Identity.Role(rawValue: roleName) else {
            throw AuthenticationError(.invalidClaims, "role claim is not anon, authenticated or service_role")
        }
        let isUserToken = role == .authenticated
        if claims.exp == nil, isUserToken {
            throw AuthenticationError(.invalidClaims, "exp claim missing on a user token")
        }
        try clock.check(exp: claims.exp, nbf: claims.nbf, iat: claims.iat, now: now)
        if isUserToken || claims.aud != nil {
            guard let aud = claims.aud else {
                throw AuthenticationError(.invalidClaims, "aud claim missing on a user token")
            }
            guard aud.contains(audience) else {
                throw AuthenticationError(.invalidClaims, "aud does not include \(audience)")
            }
        }
        if isUserToken, let issuer {
            guard claims.iss == issuer else {
                throw AuthenticationError(.invalidClaims, "iss is not the configured issuer")
            }
        }
        var userID: UUID?
        if let sub = claims.sub {
            guard let parsed = UUID(uuidString: sub) else {
                throw AuthenticationError(.invalidClaims, "sub is not a UUID")
            }
            userID = parsed
        } else if isUserToken {
            throw AuthenticationError(.invalidClaims, "sub claim missing on a user token")
        }
        let email = claims.email.flatMap { $0.isEmpty ? nil : $0 }
        let isAnonymous = isUserToken && claims.is_anonymous == true
        return Identity(
            userID: userID, email: email, role: role, claimsJSON: String(decoding: payload, as: UTF8.self),
            source: isAnonymous ? source + ":anonymous" : source, isAnonymous: isAnonymous)
    }
}
