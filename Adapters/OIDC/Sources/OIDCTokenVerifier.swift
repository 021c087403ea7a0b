import Foundation
import SMTACore

/// Verifies an OpenID Connect access token: a JWS signed by a key of the issuer's JWKS (chosen
/// by `kid`, bound to its one algorithm, which must be on the allow-list), from the configured
/// issuer, for the configured audience, within its lifetime. Then reads who the caller is from
/// the configured claims.
///
/// A token that passed is remembered (``VerifiedTokenCache``): sent again, only its time claims
/// are judged again, until the JWKS changes.
struct OIDCTokenVerifier: Sendable {
    /// What a verified token says about the caller.
    struct Caller: Sendable {
        /// The database role.
        var role: Identity.Role
        /// The issuer's subject for the user.
        var subject: String
        /// The email, only when the issuer marks it verified.
        var verifiedEmail: String?
        /// The token's claims with `role` set, for `request.jwt.claims`.
        var claimsJSON: String
    }

    let settings: OIDCSettings
    let keyRing: JWKSKeyRing
    let clock: TokenClock
    let verified = VerifiedTokenCache<Caller>()

    /// Verifies `token` at time `now`.
    /// - Throws: ``AuthenticationError``: `malformed` (not a JWS, unreadable claims),
    ///   `badSignature` (an algorithm off the list, an unknown `kid`, a signature that does not
    ///   verify), `expired`, `notYetValid`, `invalidClaims` (issuer, audience, subject).
    func verify(_ token: [UInt8], at now: Date) async throws(AuthenticationError) -> Caller {
        let keySetGeneration = keyRing.generation
        if let caller = try verified.value(
            for: token, keySetGeneration: keySetGeneration, clock: clock, now: now.timeIntervalSince1970) {
            return caller
        }
        let jwt = try CompactJWT(token)
        guard jwt.header.crit == nil else {
            throw AuthenticationError(.malformed, "token header has critical extensions")
        }
        let algorithm = jwt.header.alg
        guard settings.algorithms.contains(algorithm) else {
            throw AuthenticationError(.badSignature, "alg \(algorithm.prefix(16)) is not accepted (accepted: \(settings.algorithms.sorted().joined(separator: ", ")))")
        }
        guard let kid = jwt.header.kid, !kid.isEmpty else {
            throw AuthenticationError(.badSignature, "token has no kid naming one of the issuer's keys")
        }
        guard let key = try await keyRing.refreshedKey(for: kid) else {
            throw AuthenticationError(.badSignature, "unknown kid \(kid.prefix(64)) (not in the issuer's JWKS)")
        }
        guard key.algorithm == algorithm else {
            throw AuthenticationError(.badSignature, "alg \(algorithm) does not match the key's \(key.algorithm)")
        }
        guard key.verifies(jwt.signature, of: jwt.signingInput) else {
            throw AuthenticationError(.badSignature, "\(algorithm) signature does not verify")
        }
        guard var claims = (try? JSONSerialization.jsonObject(with: Data(jwt.payload))) as? [String: Any] else {
            throw AuthenticationError(.malformed, "token payload is not a JSON object")
        }
        let registered: RegisteredClaims
        do {
            registered = try JSONDecoder().decode(RegisteredClaims.self, from: Data(jwt.payload))
        } catch {
            throw AuthenticationError(.malformed, "registered claims (iss, aud, exp, nbf, iat) are not well typed")
        }
        try check(registered, now: now.timeIntervalSince1970)
        guard let subject = claims[settings.subjectClaim] as? String, !subject.isEmpty, subject.utf8.count <= 255,
            subject.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7f })
        else {
            throw AuthenticationError(.invalidClaims, "claim \(settings.subjectClaim) is not a subject (1 to 255 printable characters)")
        }
        let role = self.role(in: claims)
        claims["role"] = role.rawValue
        // Re-encoding an object decoded from JSON cannot fail.
        let json = (try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        let caller = Caller(
            role: role, subject: subject, verifiedEmail: verifiedEmail(in: claims, payload: jwt.payload),
            claimsJSON: String(decoding: json, as: UTF8.self))
        verified.insert(
            token,
            VerifiedTokenCache.Entry(
                value: caller, exp: registered.exp, nbf: registered.nbf, iat: registered.iat, keySetGeneration: keySetGeneration))
        return caller
    }

    /// The registered claims, typed: a time that is not a JSON number is refused.
    private struct RegisteredClaims: Decodable {
        var iss: String?
        var aud: Audience?
        var exp: Double?
        var nbf: Double?
        var iat: Double?
    }

    /// `aud`: a string or an array of strings.
    private enum Audience: Decodable {
        case one(String)
        case many([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                self = .one(one)
            } else {
                self = .many(try container.decode([String].self))
            }
        }

        func contains(_ audience: String) -> Bool {
            switch self {
            case .one(let value): value == audience
            case .many(let values): values.contains(audience)
            }
        }
    }

    private func check(_ claims: RegisteredClaims, now: Double) throws(AuthenticationError) {
        guard claims.iss == settings.issuer else {
            throw AuthenticationError(.invalidClaims, "iss is not the configured issuer")
        }
        if let audience = settings.audience {
            guard claims.aud?.contains(audience) == true else {
                throw AuthenticationError(.invalidClaims, "aud does not include \(audience)")
            }
        }
        guard let exp = claims.exp else {
            throw AuthenticationError(.invalidClaims, "exp claim missing")
        }
        try clock.check(exp: exp, nbf: claims.nbf, iat: claims.iat, now: now)
    }

    /// The role the configured claim names: `service_role` or `anon` when it says so (a string,
    /// or an array containing it), otherwise `authenticated`.
    private func role(in claims: [String: Any]) -> Identity.Role {
        guard let path = settings.roleClaim else { return .authenticated }
        var value: Any? = claims
        for name in path {
            value = (value as? [String: Any])?[name]
        }
        let names: [String]
        switch value {
        case let one as String: names = [one]
        case let many as [Any]: names = many.compactMap { $0 as? String }
        default: names = []
        }
        if names.contains(Identity.Role.serviceRole.rawValue) { return .serviceRole }
        if names == [Identity.Role.anon.rawValue] { return .anon }
        return .authenticated
    }

    /// The email claim, when the verified claim is the JSON literal `true` (or the string
    /// `"true"`, as Cognito writes it). A number is not a flag: `1` does not verify an email.
    private func verifiedEmail(in claims: [String: Any], payload: [UInt8]) -> String? {
        guard let email = claims[settings.emailClaim] as? String, !email.isEmpty else { return nil }
        let decoder = JSONDecoder()
        decoder.userInfo[EmailVerification.claimName] = settings.emailVerifiedClaim
        guard (try? decoder.decode(EmailVerification.self, from: Data(payload)))?.isVerified == true else { return nil }
        return email
    }

    /// The email-verified claim, read strictly by `JSONDecoder` (which, unlike
    /// `JSONSerialization`, never reads a number as a Boolean).
    private struct EmailVerification: Decodable {
        static let claimName = CodingUserInfoKey(rawValue: "smta.oidc.emailVerifiedClaim")!

        var isVerified: Bool

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: ClaimName.self)
            let key = ClaimName(stringValue: decoder.userInfo[Self.claimName] as? String ?? "email_verified")
            if let flag = try? container.decode(Bool.self, forKey: key) {
                isVerified = flag
            } else {
                isVerified = (try? container.decode(String.self, forKey: key)) == "true"
            }
        }
    }

    /// A claim's name as a coding key.
    private struct ClaimName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }

        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
