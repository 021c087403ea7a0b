import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import SMTABridge

/// The lane in the channel pipeline: which requests it takes, which go on to Hummingbird
/// untouched, and that answers keep the requests' order on a connection.
@Suite("RPCLane takes GET calls from the pipeline and keeps every answer in request order", .timeLimit(.minutes(1)))
struct RPCLaneTests {
    /// The lane's answers, held until the test lets each go.
    final class HeldAnswers: Sendable {
        private let state = NIOLockedValueBox<(calls: [(RPCCall, String)], waiting: [CheckedContinuation<Void, Never>])>(([], []))

        /// The calls answered so far (or being answered), with their paths.
        var calls: [(RPCCall, String)] { state.withLockedValue { $0.calls } }

        /// The lane's `answer`: records the call, waits to be let go, answers `200` with the
        /// function's name as body, then `:` and the body handed over, if any.
        func answer(_ call: RPCCall, path: String) async -> (head: HTTPResponse, body: ByteBuffer) {
            var text = call.function
            if case .buffered(let body) = call.body {
                text += ":" + String(buffer: body)
            }
            await withCheckedContinuation { continuation in
                state.withLockedValue {
                    $0.calls.append((call, path))
                    $0.waiting.append(continuation)
                }
            }
            return (HTTPResponse(status: .ok, headerFields: [.contentLength: "\(text.utf8.count)"]), ByteBuffer(string: text))
        }

        /// Lets the oldest held answer go, once one is held.
        func letOneGo() async throws {
            for _ in 0..<500 {
                let continuation = state.withLockedValue { $0.waiting.isEmpty ? nil : $0.waiting.removeFirst() }
                if let continuation {
                    continuation.resume()
                    return
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("no answer was held")
        }
    }

    /// Counts the `read()`s that pass the lane towards the socket.
    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Never
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    static func request(_ method: HTTPRequest.Method, _ path: String, _ fields: HTTPFields = [:]) -> HTTPRequestPart {
        .head(HTTPRequest(method: method, scheme: nil, authority: "localhost", path: path, headerFields: fields))
    }

    /// Writes a whole request without a body: its head, then its end.
    static func send(_ channel: NIOAsyncTestingChannel, _ method: HTTPRequest.Method, _ path: String, _ fields: HTTPFields = [:]) async throws {
        try await channel.writeInbound(request(method, path, fields))
        try await channel.writeInbound(HTTPRequestPart.end(nil))
    }

    /// A channel with the lane (and a read counter before it), whose answers `answers` holds.
    static func channel(_ answers: HeldAnswers) async throws -> (NIOAsyncTestingChannel, ReadCounter) {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080))
        let counter = ReadCounter()
        try await channel.pipeline.addHandler(counter)
        try await channel.pipeline.addHandler(
            RPCLane(answer: { try? await Task.sleep(for: .zero); return await answers.answer($0, path: $1) }, calls: LaneCalls(), maxBodySize: 100))
        return (channel, counter)
    }

    /// The next part written towards the client, waiting for it for at most 5 seconds.
    static func written(_ channel: NIOAsyncTestingChannel) async throws -> HTTPResponsePart {
        for _ in 0..<500 {
            if let part = try await channel.readOutbound(as: HTTPResponsePart.self) {
                return part
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw NothingWritten()
    }

    struct NothingWritten: Error {}

    /// The parts Hummingbird would read now.
    static func handedOn(_ channel: NIOAsyncTestingChannel) async throws -> [HTTPRequestPart] {
        var parts: [HTTPRequestPart] = []
        while let part = try await channel.readInbound(as: HTTPRequestPart.self) {
            parts.append(part)
        }
        return parts
    }

    static func body(_ part: HTTPResponsePart) -> String? {
        if case .body(let buffer) = part { return String(buffer: buffer) }
        return nil
    }

    @Test("a GET of /rpc/{function} or /rest/v1/rpc/{function} is answered by the lane, never handed on")
    func takesCalls() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        for (path, function) in [("/rpc/list_my_organizations?limit=2&name=eq.x", "list_my_organizations"), ("/rest/v1/rpc/Fn_2", "Fn_2")] {
            try await Self.send(channel, .get, path, [.authorization: "Bearer t"])
            try await answers.letOneGo()
            guard case .head(let head) = try await Self.written(channel) else {
                Issue.record("no head")
                return
            }
            #expect(head.status == .ok)
            #expect(Self.body(try await Self.written(channel)) == function)
            guard case .end = try await Self.written(channel) else {
                Issue.record("no end")
                return
            }
            #expect(try await Self.handedOn(channel).isEmpty)
        }
        let calls = answers.calls
        #expect(calls.map(\.0.function) == ["list_my_organizations", "Fn_2"])
        #expect(calls.map(\.1) == ["/rpc/list_my_organizations", "/rest/v1/rpc/Fn_2"])
        #expect(calls[0].0.query == "limit=2&name=eq.x")
        #expect(calls[1].0.query == nil)
        #expect(calls[0].0.headers[.authorization] == "Bearer t")
        #expect(calls.allSatisfy { $0.0.method == .get })
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("every other request goes on to Hummingbird unchanged: POST, HEAD, other paths, odd names, Connection: close, Expect")
    func handsOnTheRest() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        let requests: [HTTPRequestPart] = [
            Self.request(.post, "/rpc/f"), Self.request(.head, "/rpc/f"), Self.request(.get, "/health"),
            Self.request(.get, "/rpc/"), Self.request(.get, "/rpc/a/b"), Self.request(.get, "/rpc/f%20g"), Self.request(.get, "/rpc/f-g"),
            Self.request(.get, "/rpcx/f"), Self.request(.get, "/rest/v1/rpc/"), Self.request(.get, "/rpc/f", [.connection: "Close"]),
            Self.request(.get, "/rpc/f", [.expect: "100-continue"]),
            Self.request(.get, "/rpc/f", [.contentLength: "2"]), Self.request(.get, "/rpc/f", [.transferEncoding: "chunked"]),
            Self.request(.post, "/rpc/f", [.contentLength: "101"]), Self.request(.post, "/rpc/f", [.transferEncoding: "chunked"]),
            Self.request(.put, "/rpc/f", [.contentLength: "2"]), Self.request(.post, "/rpc/f", [.contentLength: "x"]),
        ]
        for request in requests {
            try await channel.writeInbound(request)
            try await channel.writeInbound(HTTPRequestPart.end(nil))
            let parts = try await Self.handedOn(channel)
            #expect(parts.count == 2, "\(request)")
            if case .head(let head) = parts.first, case .head(let sent) = request {
                #expect(head == sent)
            }
            // Hummingbird answers before the next request.
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
            _ = try await Self.written(channel)
            _ = try await Self.written(channel)
        }
        #expect(answers.calls.isEmpty)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a GET that declares a body goes to Hummingbird whole, head first")
    func handsOnAGetWithABody() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await channel.writeInbound(Self.request(.get, "/rpc/f", [.contentLength: "2"]))
        try await channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{}")))
        try await channel.writeInbound(HTTPRequestPart.end(nil))
        let parts = try await Self.handedOn(channel)
        #expect(parts.count == 3)
        if case .head(let head) = parts.first {
            #expect(head.path == "/rpc/f")
        } else {
            Issue.record("the head was not handed on first")
        }
        #expect(answers.calls.isEmpty)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("while Hummingbird owes an answer, a call goes to Hummingbird too; once answered, the lane takes the next")
    func waitsForHummingbird() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await Self.send(channel, .post, "/rpc/write")
        try await Self.send(channel, .get, "/rpc/read")
        #expect(try await Self.handedOn(channel).count == 4)
        // Hummingbird answers both; the next call is the lane's.
        for _ in 0..<2 {
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        try await Self.send(channel, .get, "/rpc/read")
        try await answers.letOneGo()
        #expect(try await Self.handedOn(channel).isEmpty)
        #expect(answers.calls.count == 1)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("requests that arrive while the lane answers wait, reading stops once too many wait, and both resume after the answer, in order")
    func holdsWhatFollows() async throws {
        let answers = HeldAnswers()
        let (channel, counter) = try await Self.channel(answers)
        let recorder = EventRecorder()
        try await channel.pipeline.addHandler(recorder)
        try await Self.send(channel, .get, "/rpc/first")
        // Pipelined behind it: a POST for Hummingbird, then another call.
        try await channel.writeInbound(Self.request(.post, "/rpc/second"))
        try await channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{}")))
        try await channel.writeInbound(HTTPRequestPart.end(nil))
        try await Self.send(channel, .get, "/rpc/third")
        let readsBefore = try await channel.testingEventLoop.submit { counter.reads }.get()
        channel.pipeline.read()
        #expect(try await Self.handedOn(channel).isEmpty, "nothing passes the lane while it answers")
        #expect(try await channel.testingEventLoop.submit { counter.reads }.get() == readsBefore + 1, "a few waiting: reading goes on")
        for _ in 0..<6 {
            try await Self.send(channel, .get, "/rpc/more")
        }
        channel.pipeline.read()
        #expect(try await channel.testingEventLoop.submit { counter.reads }.get() == readsBefore + 1, "\(RPCLane.waitingLimit) waiting: read() is held")

        try await answers.letOneGo()
        #expect(Self.body(try await Self.written(channel).self) == nil)  // the head
        #expect(Self.body(try await Self.written(channel)) == "first")
        _ = try await Self.written(channel)  // end
        // The POST goes on to Hummingbird; the calls behind it wait for Hummingbird's answer,
        // so they go on too.
        let parts = try await Self.handedOn(channel)
        #expect(parts.count == 17)
        // Hummingbird's async channel delivers what it read at a read's end: one came after them.
        #expect(try await channel.testingEventLoop.submit { recorder.events.last }.get() == "readComplete")
        #expect(try await channel.testingEventLoop.submit { recorder.events.filter { $0 == "read" }.count }.get() == 17)
        #expect(try await channel.testingEventLoop.submit { counter.reads }.get() == readsBefore + 2, "the held read() went on")
        #expect(answers.calls.map(\.0.function) == ["first"])
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("two calls pipelined are answered one after the other, in order")
    func answersInOrder() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        for name in ["one", "two"] {
            try await Self.send(channel, .get, "/rpc/\(name)")
        }
        try await answers.letOneGo()
        _ = try await Self.written(channel)
        #expect(Self.body(try await Self.written(channel)) == "one")
        _ = try await Self.written(channel)
        try await answers.letOneGo()
        _ = try await Self.written(channel)
        #expect(Self.body(try await Self.written(channel)) == "two")
        #expect(answers.calls.map(\.0.function) == ["one", "two"])
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    /// Records the inbound events that pass the lane.
    final class EventRecorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPRequestPart
        var inputClosed = false
        var errors = 0
        /// `read` and `readComplete`, in the order they passed.
        var events: [String] = []
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed {
                inputClosed = true
            }
            context.fireUserInboundEventTriggered(event)
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            events.append("read")
            context.fireChannelRead(data)
        }
        func channelReadComplete(context: ChannelHandlerContext) {
            events.append("readComplete")
            context.fireChannelReadComplete()
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            errors += 1
            events.append("error")
        }
    }

    @Test("a client that half-closes after its call gets the answer before Hummingbird learns the input ended")
    func halfClosure() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        let recorder = EventRecorder()
        try await channel.pipeline.addHandler(recorder)
        try await Self.send(channel, .get, "/rpc/f")
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try await channel.testingEventLoop.submit { recorder.inputClosed }.get() == false)
        try await answers.letOneGo()
        _ = try await Self.written(channel)
        _ = try await Self.written(channel)
        _ = try await Self.written(channel)
        #expect(try await channel.testingEventLoop.submit { recorder.inputClosed }.get() == true)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a call's task starts at its head: a call whose end never comes is answered, then the input's end goes on")
    func truncatedCall() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        let recorder = EventRecorder()
        try await channel.pipeline.addHandler(recorder)
        try await channel.writeInbound(Self.request(.get, "/rpc/f"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        try await answers.letOneGo()
        #expect(Self.body(try await Self.written(channel)) == nil)
        #expect(Self.body(try await Self.written(channel)) == "f")
        _ = try await Self.written(channel)
        #expect(try await Self.handedOn(channel).isEmpty)
        #expect(try await channel.testingEventLoop.submit { recorder.inputClosed }.get() == true)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    /// Delivers `parts` in one read, as the decoder delivers what one packet held.
    static func sendInOneRead(_ channel: NIOAsyncTestingChannel, _ parts: [HTTPRequestPart]) async throws {
        try await channel.testingEventLoop.executeInContext {
            for part in parts {
                channel.pipeline.fireChannelRead(part)
            }
            channel.pipeline.fireChannelReadComplete()
        }
    }

    @Test("a POST whose body comes whole with its head is answered by the lane, with the body in one buffer")
    func postBody() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await Self.sendInOneRead(channel, [
            Self.request(.post, "/rpc/write", [.contentLength: "8"]), .body(ByteBuffer(string: "{\"a\":")),
            .body(ByteBuffer(string: "12}")), .end(nil),
        ])
        try await Self.send(channel, .get, "/rpc/next")
        try await answers.letOneGo()
        _ = try await Self.written(channel)
        #expect(Self.body(try await Self.written(channel)) == "write:{\"a\":12}")
        _ = try await Self.written(channel)
        try await answers.letOneGo()
        _ = try await Self.written(channel)
        #expect(Self.body(try await Self.written(channel)) == "next")
        #expect(try await Self.handedOn(channel).isEmpty)
        #expect(answers.calls.map(\.0.method) == [.post, .get])
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a POST whose body follows its head in another read, within the window, is the lane's too")
    func bodyInALaterRead() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await channel.writeInbound(Self.request(.post, "/rpc/write", [.contentLength: "8"]))
        await channel.testingEventLoop.advanceTime(by: RPCLane.gatheringWindow - .milliseconds(1))
        try await channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{\"a\":12}")))
        try await channel.writeInbound(HTTPRequestPart.end(nil))
        try await answers.letOneGo()
        _ = try await Self.written(channel)
        #expect(Self.body(try await Self.written(channel)) == "write:{\"a\":12}")
        #expect(try await Self.handedOn(channel).isEmpty)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a POST body larger than the gathering limit goes to Hummingbird at once")
    func bodyOverTheGatheringLimit() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080))
        let answers = HeldAnswers()
        try await channel.pipeline.addHandler(
            RPCLane(answer: { await answers.answer($0, path: $1) }, calls: LaneCalls(), maxBodySize: 1 << 20))
        let size = RPCLane.gatheringLimit + 1
        try await Self.sendInOneRead(channel, [
            Self.request(.post, "/rpc/write", [.contentLength: "\(size)"]), .body(ByteBuffer(repeating: 0x20, count: size)),
        ])
        #expect(try await Self.handedOn(channel).count == 2)
        try await channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(try await Self.handedOn(channel).count == 1)
        #expect(answers.calls.isEmpty)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a POST whose body has not all come within the window goes to Hummingbird: head, what came, the rest")
    func longBody() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await Self.sendInOneRead(channel, [Self.request(.post, "/rpc/write", [.contentLength: "8"]), .body(ByteBuffer(string: "{\"a\":"))])
        #expect(try await Self.handedOn(channel).isEmpty, "handed on before the window ended")
        await channel.testingEventLoop.advanceTime(by: RPCLane.gatheringWindow)
        try await channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "12}")))
        try await channel.writeInbound(HTTPRequestPart.end(nil))
        let parts = try await Self.handedOn(channel)
        #expect(parts.count == 4)
        if case .head(let head) = parts.first {
            #expect(head.method == .post && head.path == "/rpc/write")
        } else {
            Issue.record("the head did not go first")
        }
        let body = parts.compactMap { part -> String? in
            if case .body(let buffer) = part { return String(buffer: buffer) }
            return nil
        }
        #expect(body.joined() == "{\"a\":12}")
        #expect(answers.calls.isEmpty)
        // Hummingbird answers it; the next call is the lane's again.
        try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try await channel.writeOutbound(HTTPResponsePart.end(nil))
        try await Self.send(channel, .get, "/rpc/next")
        try await answers.letOneGo()
        #expect(answers.calls.map(\.0.function) == ["next"])
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a POST cut short by the input's end goes to Hummingbird, then the input's end")
    func cutBody() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        let recorder = EventRecorder()
        try await channel.pipeline.addHandler(recorder)
        try await channel.testingEventLoop.executeInContext {
            channel.pipeline.fireChannelRead(Self.request(.post, "/rpc/write", [.contentLength: "8"]))
            channel.pipeline.fireChannelRead(HTTPRequestPart.body(ByteBuffer(string: "{\"a\":")))
            channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        #expect(try await Self.handedOn(channel).count == 2)
        let events = try await channel.testingEventLoop.submit { recorder.events }.get()
        #expect(events == ["read", "read", "readComplete"], "\(events)")
        #expect(try await channel.testingEventLoop.submit { recorder.inputClosed }.get())
        #expect(answers.calls.isEmpty)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a POST pipelined behind a call gets the body that waited with it")
    func pipelinedPost() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await Self.send(channel, .get, "/rpc/first")
        try await channel.writeInbound(Self.request(.post, "/rpc/second", [.contentLength: "7"]))
        try await channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{\"b\":2}")))
        try await channel.writeInbound(HTTPRequestPart.end(nil))
        try await Self.send(channel, .get, "/rpc/third")
        // Its body waited whole behind the first call: handed over in one buffer.
        for expected in ["first", "second:{\"b\":2}", "third"] {
            try await answers.letOneGo()
            _ = try await Self.written(channel)
            #expect(Self.body(try await Self.written(channel)) == expected)
            _ = try await Self.written(channel)
        }
        #expect(try await Self.handedOn(channel).isEmpty)
        guard case .buffered = answers.calls[1].0.body else {
            Issue.record("the body that waited whole was not handed over in one buffer")
            return
        }
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("an answer that leaves the channel unwritable stops everything behind it until it is writable again")
    func waitsForWritability() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await Self.send(channel, .get, "/rpc/first")
        try await Self.send(channel, .post, "/rpc/second")
        channel.isWritable = false
        try await answers.letOneGo()
        for _ in 0..<3 { _ = try await Self.written(channel) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await Self.handedOn(channel).isEmpty, "passed on while the client does not read")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try await Self.handedOn(channel).count == 2)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a decoding error that arrives while the lane answers reaches Hummingbird after the answer and what came before it")
    func holdsErrors() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        let recorder = EventRecorder()
        try await channel.pipeline.addHandler(recorder)
        try await Self.send(channel, .get, "/rpc/first")
        try await channel.writeInbound(Self.request(.post, "/rpc/second"))
        channel.pipeline.fireErrorCaught(ChannelError.inputClosed)
        // (Every inbound write of the test ends with a read's end, which passes.)
        let before = try await channel.testingEventLoop.submit { recorder.events }.get()
        #expect(!before.contains("read") && !before.contains("error"), "\(before)")
        try await answers.letOneGo()
        for _ in 0..<3 { _ = try await Self.written(channel) }
        let after = try await channel.testingEventLoop.submit { recorder.events }.get()
        #expect(after.filter { $0 != "readComplete" } == ["read", "error"], "\(after)")
        #expect(after.suffix(2) == ["readComplete", "error"], "the POST's head reaches Hummingbird's loop before the error")
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("once the output has closed (Hummingbird answered Connection: close), calls go to Hummingbird")
    func afterOutputClosed() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.outputClosed)
        try await Self.send(channel, .get, "/rpc/f")
        #expect(try await Self.handedOn(channel).count == 2)
        #expect(answers.calls.isEmpty)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a GET declaring an empty body is still a call the lane takes")
    func emptyBody() async throws {
        let answers = HeldAnswers()
        let (channel, _) = try await Self.channel(answers)
        try await Self.send(channel, .get, "/rpc/f", [.contentLength: "0"])
        try await answers.letOneGo()
        #expect(try await Self.handedOn(channel).isEmpty)
        #expect(Self.body(try await Self.written(channel)) == nil)  // the head
        #expect(Self.body(try await Self.written(channel)) == "f")
        #expect(answers.calls.count == 1)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    @Test("LaneCalls: a graceful shutdown waits for the calls running; cancelled, it cancels them and still waits")
    func laneCalls() async throws {
        let calls = LaneCalls()
        let started = AsyncStream<Void>.makeStream()
        let sawCancellation = NIOLockedValueBox(false)
        calls.run {
            started.continuation.yield()
            try? await Task.sleep(for: .seconds(30))
            sawCancellation.withLockedValue { $0 = Task.isCancelled }
        }
        for await _ in started.stream { break }
        #expect(calls.running == 1)
        let service = Task { try await calls.run() }
        try await Task.sleep(for: .milliseconds(100))
        service.cancel()
        try await service.value
        #expect(calls.running == 0, "the service returned before the call ended")
        #expect(sawCancellation.withLockedValue { $0 })
        // Started after the cancellation: cancelled at once.
        let late = AsyncStream<Bool>.makeStream()
        calls.run { late.continuation.yield(Task.isCancelled) }
        for await cancelled in late.stream {
            #expect(cancelled)
            break
        }
    }
}
