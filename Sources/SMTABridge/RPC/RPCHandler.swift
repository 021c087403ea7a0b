import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SMTACore
import SMTAHummingbird

/// Answers `/rpc/{function}` as PostgREST does: authenticates the caller with the adapter,
/// checks the function and its arguments against the catalog, calls it through the gate in one
/// round trip and shapes the result.
///
/// Nothing reaches the database before the credential is verified, the function is known, the
/// caller's role may execute it and the arguments match its signature.
struct RPCHandler: Sendable {
    let adapter: any IdentityAdapter
    let gate: Gate
    let catalog: FunctionCatalog
    let availability: DatabaseAvailability
    let maxBodySize: Int
    /// How long an `Idempotency-Key` and its result are kept.
    let idempotencyWindow: Duration
    /// How a request names its active organization.
    let activeOrganization: ActiveOrganization
    /// Binds Payload sign-ins to the memberships SCIM provisioned for them.
    let signInBinding: SignInBinding
    /// Where reads go: a read replica or the primary.
    let reads: ReadRouter

    /// Media type asking for a single object instead of an array.
    static let objectMediaType = "application/vnd.pgrst.object+json"

    /// Answers one call: `GET` and `HEAD` take their arguments from the query and call only
    /// read-only functions, `POST` takes them from the body.
    /// - Parameters:
    ///   - call: the request's parts.
    ///   - requestID: the request's id, as `X-Request-Id` answers it (quoted by a 500's message).
    ///   - logger: the request's logger.
    func respond(to call: RPCCall, requestID: String, logger: Logger) async -> Response {
        let readOnly = call.method != .post
        var role = Identity.Role.anon
        var kind = BridgeError.CallKind.write
        var timing = ServerTiming()
        do {
            let name = call.function
            try Self.checkProfile(call.headers)
            var identity: Identity
            do {
                identity = try await timing.measure("jwt") {
                    try await adapter.identify(Credentials(call.headers))
                }
            } catch let error as AuthenticationError {
                RequestObservation.current?.recordRefusal(error)
                throw BridgeError(error)
            }
            role = identity.role
            identity.organizationID = try activeOrganization.resolve(call.headers, identity: identity)
            // While the primary is unreachable, only a read a read replica may serve goes on.
            let primaryIsDown = availability.isDown
            if primaryIsDown && !(readOnly && reads.hasReplica(for: identity)) {
                throw BridgeError.databaseUnavailable(retryAfterSeconds: 1)
            }
            if !primaryIsDown {
                await signInBinding.bindIfNew(identity, gate: gate, logger: logger)
            }
            let overloads = try await catalog.overloads(of: name)
            guard !overloads.isEmpty else {
                var unknown = BridgeError.unknownFunction(name)
                if let closest = FunctionNameSuggestion.closest(to: name, among: catalog.names(executableBy: identity.role)) {
                    unknown.hint = "Perhaps you meant to call the function public.\(closest)"
                }
                throw unknown
            }
            let query = RPCArguments.parameters(call.query)
            let arguments: RPCArguments
            let resultParameters: [(String, String)]
            if readOnly {
                // As PostgREST reads it, a query parameter whose value is written as a filter
                // (`eq.1`, `not.is.null`) filters the result, any other is an argument; a name
                // that is one of the function's arguments stays an argument whatever its value
                // (PostgREST would look for a result column of that name and fail).
                let argumentNames = Set(overloads.flatMap { $0.arguments.map(\.name) })
                let isArgument = { (name: String, value: String) in
                    argumentNames.contains(name) || !FilterExpression.isWrittenAsFilter(value)
                }
                arguments = try RPCArguments(query: call.query, isArgument: isArgument)
                resultParameters = query.filter { ResultOptions.reserved.contains($0.0) || !isArgument($0.0, $0.1) }
            } else {
                arguments = try await body(of: call)
                resultParameters = query
            }
            let function = try Self.resolve(
                overloads, arguments: arguments.names, isPost: !readOnly,
                mismatchHint: Self.isJSONSentAsForm(arguments, call.headers) ? Self.jsonSentAsFormHint : nil)
            guard function.executableBy.contains(identity.role) else {
                throw BridgeError(
                    status: identity.role == .anon ? .unauthorized : .forbidden, code: "42501",
                    message: "permission denied for function \(function.name)")
            }
            if readOnly && !function.isReadOnly {
                throw BridgeError(
                    status: .methodNotAllowed, code: "PGRST101",
                    message: "\(function.name) may change data: call it with POST")
            }
            let options = try ResultOptions(
                parameters: resultParameters, headers: call.headers, readsRangeHeader: call.method == .get,
                function: function)
            let statement = CallStatement.make(function, arguments: arguments, options: options)
            let wantsObject = Self.wantsObject(call.headers)
            let key = function.isReadOnly
                ? nil
                : try idempotencyKey(
                    call.headers, function: function, statement: statement, wantsObject: wantsObject,
                    organization: identity.organizationID)
            kind = function.isReadOnly ? .read : key == nil ? .write : .idempotentWrite
            let (result, replayed) = try await noting(function.isReadOnly ? nil : identity) {
                try await timing.measure("transaction") {
                    if let key {
                        return try await gate.call(statement.text, arguments: statement.parameter, as: identity, once: key)
                    }
                    if readOnly {
                        // GET and HEAD of a read-only function: a read replica may answer.
                        return (try await reads.read(statement.text, arguments: statement.parameter, as: identity), false)
                    }
                    return (
                        try await gate.call(statement.text, arguments: statement.parameter, as: identity, readOnly: function.isReadOnly),
                        false
                    )
                }
            }
            var response = try Self.response(
                result, statement: statement, options: options, shape: function.shape, wantsObject: wantsObject)
            response.headers[.serverTiming] = timing.header
            if replayed {
                response.headers[.idempotentReplayed] = "true"
            }
            return response
        } catch let error as BridgeError {
            return timing.stamp(error.response())
        } catch let error as DatabaseError {
            availability.noteFailure(error)
            logger.info("database refused the call", metadata: ["error": "\(error)"])
            return timing.stamp(BridgeError(error, role: role, requestID: requestID, kind: kind).response())
        } catch where Task.isCancelled {
            // The budget ran out before the database was reached (a slow key fetch, a body that
            // trickles in): nothing was applied.
            logger.notice("request exceeded its time budget", metadata: ["error": "\(error)"])
            return timing.stamp(BridgeError(.timedOut(mayHaveRun: false), role: role, requestID: requestID, kind: kind).response())
        } catch {
            logger.error("unexpected failure", metadata: ["error": "\(String(reflecting: error))"])
            return timing.stamp(BridgeError.internalError(requestID: requestID).response())
        }
    }

    /// Runs `call`; when `writer` is given (the call may write), records afterwards, whatever the
    /// outcome (a write whose answer was lost may have been applied), that the writer's next reads
    /// go to the primary.
    private func noting<Result>(_ writer: Identity?, _ call: () async throws -> Result) async throws -> Result {
        guard let writer else { return try await call() }
        defer { reads.noteWrite(by: writer) }
        return try await call()
    }

    /// The request's `Idempotency-Key`, bound to what the request asks: the function, the
    /// statement (result options included), the arguments and the active organization; nil
    /// without the header.
    private func idempotencyKey(
        _ headers: HTTPFields, function: RPCFunction, statement: CallStatement, wantsObject: Bool, organization: UUID?
    ) throws(BridgeError) -> IdempotencyKey? {
        guard let value = headers[.idempotencyKey] else {
            return nil
        }
        var digest = SHA256()
        let parts = [
            function.signature, statement.text, statement.parameter, wantsObject ? "object" : "any",
            organization?.uuidString ?? "",
        ]
        for part in parts {
            digest.update(data: Array(part.utf8))
            digest.update(data: [0])
        }
        let hash = String(decoding: ConstantTime.hex(digest.finalize()), as: UTF8.self)
        guard let key = IdempotencyKey(key: value, requestHash: hash, window: idempotencyWindow) else {
            throw BridgeError(
                status: .badRequest, code: "22023", message: "An Idempotency-Key must be 1 to 255 visible ASCII characters",
                hint: "Send a fresh random value, e.g. a UUID, with each new request; the same value with its retries.")
        }
        return key
    }

    private func body(of call: RPCCall) async throws -> RPCArguments {
        let type = call.headers[.contentType]?.lowercased() ?? "application/json"
        let isForm = type.hasPrefix("application/x-www-form-urlencoded")
        guard isForm || type.hasPrefix("application/json") || type.hasPrefix(Self.objectMediaType) else {
            throw BridgeError(
                status: .unsupportedMediaType, code: "PGRST107",
                message: "The request body must be application/json or application/x-www-form-urlencoded")
        }
        let body: RequestBody
        switch call.body {
        case .none:
            // No body sent: what an empty one gives.
            body = RequestBody(buffer: ByteBuffer())
        case .buffered(let buffer):
            body = RequestBody(buffer: buffer)
        case .streamed(let stream):
            body = stream
        }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: maxBodySize)
        } catch is NIOTooManyBytesError {
            throw BridgeError(
                status: .contentTooLarge, code: "PGRST102",
                message: "The request body is larger than \(maxBodySize) bytes")
        } catch where Task.isCancelled {
            // A body still trickling in at the deadline: answered as a timeout by `respond`.
            throw CancellationError()
        } catch {
            throw BridgeError(
                status: .badRequest, code: "PGRST102", message: "The request body ended before its Content-Length")
        }
        return isForm ? try RPCArguments(query: String(buffer: buffer)) : try RPCArguments(body: buffer)
    }

    /// Whether a form body (curl's `-d` sends `application/x-www-form-urlencoded`) was JSON:
    /// read as PostgREST reads a form, its text becomes one argument name starting with `{` or
    /// `[`, which no function has.
    private static func isJSONSentAsForm(_ arguments: RPCArguments, _ headers: HTTPFields) -> Bool {
        guard headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else { return false }
        return arguments.names.contains { name in
            let first = name.first { !$0.isWhitespace }
            return first == "{" || first == "["
        }
    }

    /// The hint for a JSON body sent as a form.
    static let jsonSentAsFormHint =
        "The body looks like JSON but was sent as a form (Content-Type: application/x-www-form-urlencoded, "
        + "which curl -d sends by default): add the header Content-Type: application/json."

    /// The overload that `given` calls; `mismatchHint` replaces the hint when none does.
    private static func resolve(
        _ overloads: [RPCFunction], arguments given: Set<String>, isPost: Bool, mismatchHint: String? = nil
    ) throws(BridgeError) -> RPCFunction {
        let matching = overloads.filter { $0.accepts(given) }
        if matching.count == 1 {
            return matching[0]
        }
        if matching.isEmpty {
            var mismatch = Self.argumentMismatch(overloads, given: given, isPost: isPost)
            if let mismatchHint { mismatch.hint = mismatchHint }
            throw mismatch
        }
        // Several overloads accept these names: the one taking exactly them, if unique.
        let exact = matching.filter { Set($0.arguments.map(\.name)) == given }
        guard exact.count == 1 else {
            throw BridgeError(
                status: .multipleChoices, code: "PGRST203",
                message: "Could not choose the best candidate function between: "
                    + matching.map { "public.\($0.signature)" }.joined(separator: ", "),
                hint: "Name every argument of the function you mean.")
        }
        return exact[0]
    }

    /// PostgREST's answer when no overload takes the given argument names: 404 `PGRST202` with
    /// its message and details; the hint says which argument is unknown or missing, and gives
    /// the signatures.
    private static func argumentMismatch(_ overloads: [RPCFunction], given: Set<String>, isPost: Bool) -> BridgeError {
        let name = "public.\(overloads[0].name)"
        let keys = given.sorted()
        let parameters = keys.isEmpty
            ? " without parameters"
            : " with parameter\(keys.count > 1 ? "s" : "") \(keys.joined(separator: ", "))"
        let signatures = overloads.map { "public.\($0.signature)" }.joined(separator: "; ")
        var reason = "No overload takes these arguments."
        if overloads.count == 1, let function = overloads.first {
            let known = Set(function.arguments.map(\.name))
            if let unknown = given.subtracting(known).sorted().first {
                reason = "\(name) has no argument \(unknown)."
            } else if let missing = function.arguments.first(where: { !$0.hasDefault && !given.contains($0.name) }) {
                reason = "\(name) needs the argument \(missing.name) (\(missing.type))."
            }
        }
        return BridgeError(
            status: .notFound, code: "PGRST202",
            message: "Could not find the function \(name)\(keys.isEmpty ? " without parameters" : "(\(keys.joined(separator: ", ")))") in the schema cache",
            details: "Searched for the function \(name)\(parameters)"
                + (isPost ? " or with a single unnamed json/jsonb parameter" : "") + ", but no matches were found in the schema cache.",
            hint: "\(reason) \(overloads.count == 1 ? "Its signature is" : "The signatures are") \(signatures).")
    }

    /// Refuses `Accept-Profile` / `Content-Profile` naming a schema other than `public`.
    private static func checkProfile(_ headers: HTTPFields) throws(BridgeError) {
        for name in ["Accept-Profile", "Content-Profile"] {
            if let field = HTTPField.Name(name), let schema = headers[field], schema != "public" {
                throw BridgeError(
                    status: .notAcceptable, code: "PGRST106",
                    message: "The schema must be one of the following: public")
            }
        }
    }

    private static func wantsObject(_ headers: HTTPFields) -> Bool {
        headers[.accept]?.lowercased().contains(objectMediaType) ?? false
    }

    /// The HTTP answer for a function's JSON result: the value, a single object when asked for
    /// one, and PostgREST's `Content-Range`: for a set its page and (when counted) total, with the
    /// status that goes with them (200, 206, 416); for a single result one row (`0-0/*`, or
    /// `0-0/1` when counted).
    static func response(
        _ result: ByteBuffer?, statement: CallStatement, options: ResultOptions, shape: RPCFunction.ResultShape,
        wantsObject: Bool
    ) throws -> Response {
        if case .void = shape {
            return Response(status: .noContent)
        }
        var body = result ?? ByteBuffer(string: "null")
        var status = HTTPResponse.Status.ok
        var headers: HTTPFields = [:]
        if !statement.isPaged {
            headers[.contentRange] = options.countsTotal ? "0-0/1" : "0-0/*"
        } else {
            let page = try PagedResult(body)
            let (contentRange, rangeStatus) = page.range(offset: options.offset)
            headers[.contentRange] = contentRange
            if rangeStatus == .rangeNotSatisfiable {
                var error = BridgeError(
                    status: rangeStatus, code: "PGRST103", message: "Requested range not satisfiable",
                    details: "An offset of \(options.offset) was requested, but there are only \(page.total ?? 0) rows.")
                error.headers = headers
                return error.response()
            }
            status = rangeStatus
            body = page.rows
        }
        var contentType = "application/json; charset=utf-8"
        if wantsObject {
            contentType = "\(objectMediaType); charset=utf-8"
            if shape.isSet {
                // The one element's bytes as PostgreSQL wrote them: its keys stay in their order.
                let bytes = Array(body.readableBytesView)
                let elements = try JSONObjectScanner.arrayElements(of: bytes)
                guard elements.count == 1 else {
                    throw BridgeError(
                        status: .notAcceptable, code: "PGRST116",
                        message: "JSON object requested, multiple (or no) rows returned",
                        details: "The result contains \(elements.count) rows")
                }
                body = ByteBuffer(bytes: bytes[elements[0]])
                status = .ok
            }
        }
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}

extension HTTPField.Name {
    /// `Idempotency-Key`: a client's key under which a write is applied at most once.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// `Idempotent-Replayed`: `true` on an answer taken from the record of an earlier call.
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
