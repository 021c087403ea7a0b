import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import SMTACore

/// `POST /webhooks/stripe` and `POST /webhooks/lemonsqueezy`: a provider's signed billing event,
/// verified on the raw bytes, then recorded once and applied by
/// `platform.record_billing_event(provider, event id, payload)`.
///
/// Nothing is parsed before the signature verifies, and nothing is written when it does not.
/// Every event the database records — applied, duplicate, stale, ignored or rejected — is
/// answered 200, so the provider stops retrying; the outcome is in the body and the log.
struct BillingWebhookHandler: Sendable {
    /// Which provider, and how its deliveries are signed.
    enum Provider: Sendable {
        /// Stripe (`Stripe-Signature`); the event id is the payload's `id`.
        case stripe(StripeSignature)
        /// Lemon Squeezy (`X-Signature`); the event id is derived from the body.
        case lemonSqueezy(LemonSqueezySignature)

        /// The provider's name in the ledger and the metrics (`stripe`, `lemon_squeezy`).
        var name: String {
            switch self {
            case .stripe: "stripe"
            case .lemonSqueezy: "lemon_squeezy"
            }
        }
    }

    /// The provider's name for people (`Stripe`).
    let displayName: String
    /// The provider, or nil when its signing secret is not configured.
    let provider: Provider?
    let pool: RenewablePool
    let availability: DatabaseAvailability
    let maxBodySize: Int
    /// Where deliveries are counted, by provider and outcome.
    let metrics: BridgeMetrics

    func respond(to request: Request, context: some RequestContext) async -> Response {
        guard let provider else {
            return BridgeError(
                status: .notImplemented, code: "webhook_not_configured",
                message: "\(displayName) webhooks are not configured on this bridge",
                hint: "Set its signing secret (see the README's billing section); nothing was recorded.").response()
        }
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: maxBodySize).readableBytesView)
        } catch is NIOTooManyBytesError {
            return BridgeError(
                status: .contentTooLarge, code: "webhook_too_large",
                message: "The event is larger than \(maxBodySize) bytes; nothing was recorded").response()
        } catch where Task.isCancelled {
            // Still trickling in at the deadline: nothing was recorded, a redelivery is safe.
            context.logger.notice("webhook body not received within the request's time", metadata: ["provider": "\(displayName)"])
            return BridgeError(.timedOut(mayHaveRun: false), role: .serviceRole, requestID: context.id, kind: .idempotentWrite)
                .response()
        } catch {
            return BridgeError(
                status: .badRequest, code: "webhook_payload",
                message: "The event's body ended before its Content-Length; nothing was recorded").response()
        }
        let eventID: String?
        do {
            switch provider {
            case .stripe(let signature):
                try signature.verify(
                    header: request.headers[HTTPField.Name("Stripe-Signature")!], body: body,
                    now: Int64(Date().timeIntervalSince1970))
                eventID = nil
            case .lemonSqueezy(let signature):
                try signature.verify(header: request.headers[HTTPField.Name("X-Signature")!], body: body)
                eventID = LemonSqueezySignature.eventID(of: body)
            }
        } catch {
            metrics.recordWebhook(provider: provider.name, outcome: "refused")
            context.logger.warning("webhook refused", metadata: ["provider": "\(displayName)", "reason": "\(error.reason)"])
            return BridgeError(
                status: .badRequest, code: "webhook_signature",
                message: "The \(displayName) signature does not verify: \(error.reason); nothing was recorded").response()
        }
        do {
            _ = try JSONObjectScanner.keys(of: body)
        } catch {
            return BridgeError(
                status: .badRequest, code: "webhook_payload",
                message: "The event is not a JSON object: \(error.reason); nothing was recorded").response()
        }
        if availability.isDown {
            return BridgeError.databaseUnavailable(retryAfterSeconds: 5).response()
        }
        return await record(provider: provider.name, eventID: eventID, payload: String(decoding: body, as: UTF8.self), context: context)
    }

    private func record(provider: String, eventID: String?, payload: String, context: some RequestContext) async -> Response {
        let query: PostgresQuery = """
            select outcome, reason from platform.record_billing_event(\(provider), \(eventID), \(payload)::jsonb)
            """
        do {
            // A 200 tells the provider to stop redelivering: only once the commit is confirmed.
            let rows = try await pool.withConnection { try await $0.committedQuery(query, logger: context.logger) }
            guard let (outcome, reason) = try rows.first?.decode((String, String?).self) else {
                throw DatabaseError(sqlState: "XX000", message: "record_billing_event returned no row")
            }
            metrics.recordWebhook(provider: provider, outcome: outcome)
            context.logger.info(
                "billing event recorded",
                metadata: ["provider": "\(provider)", "outcome": "\(outcome)", "reason": "\(reason ?? "")"])
            let body = "{\"received\":true,\"outcome\":\(JSONText.string(outcome)),\"reason\":\(JSONText.optional(reason))}"
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        } catch {
            let failure = DatabaseError(error)
            // Recorded once by event id: a redelivery is always safe.
            let answer = BridgeError(failure, role: .serviceRole, requestID: context.id, kind: .idempotentWrite)
            availability.noteFailure(failure)
            context.logger.error("billing event not recorded", metadata: ["provider": "\(provider)", "error": "\(failure)"])
            return answer.response()
        }
    }
}
