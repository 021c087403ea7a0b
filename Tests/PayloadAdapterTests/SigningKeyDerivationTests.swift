import Crypto
import SMTAPayload
import Testing

@Suite("The signing key is derived from PAYLOAD_SECRET as Payload derives it")
struct SigningKeyDerivationTests {
    @Test("test-secret-please-change gives the key b9d60e6263b9fcdd1a7992d5911a6918")
    func knownVector() throws {
        #expect(PayloadTokenMinter.derivedKey() == Array("b9d60e6263b9fcdd1a7992d5911a6918".utf8))
        let verifier = PayloadTokenVerifier(key: PayloadSigningKey(secret: PayloadTokenMinter.secret), leeway: .zero, maxTokenSize: 8192)
        let token = PayloadTokenMinter.token(
            PayloadTokenMinter.claims(id: 1, sid: "s"), key: Array("b9d60e6263b9fcdd1a7992d5911a6918".utf8))
        #expect(try verifier.verify(token).collection == "users")
    }
}
