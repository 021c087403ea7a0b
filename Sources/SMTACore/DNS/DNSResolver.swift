import NIOCore
import NIOPosix

/// Looks up the TXT records of a name by asking DNS servers over UDP, one after the other
/// until one answers.
///
/// Used by `smta domains verify` to find an organization's verification record. Each query has
/// a random transaction id; a datagram from another address, with another id or for another
/// question is ignored (it may be stray or forged) and the wait goes on until the timeout.
/// There is no DNSSEC validation: ask a resolver you trust (the platform's own).
public struct DNSResolver: Sendable {
    /// Why no answer could be had.
    public struct Unavailable: Error, CustomStringConvertible {
        /// What went wrong with each server, in order.
        public var attempts: [String]

        /// A sentence for the operator.
        public var description: String { "no DNS server answered: " + attempts.joined(separator: "; ") }
    }

    /// The servers asked, in order.
    public var servers: [SocketAddress]
    /// How long to wait for each server.
    public var timeout: TimeAmount

    /// A resolver asking `servers` in order, waiting `timeout` for each.
    public init(servers: [SocketAddress], timeout: TimeAmount = .seconds(3)) {
        self.servers = servers
        self.timeout = timeout
    }

    /// A resolver asking the `nameserver` entries of `resolvConf` (the system's resolver
    /// configuration), on port 53.
    /// - Throws: ``Unavailable`` when the file names no usable server.
    public static func system(resolvConf contents: String) throws(Unavailable) -> DNSResolver {
        var servers: [SocketAddress] = []
        for line in contents.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver",
                let address = try? SocketAddress(ipAddress: String(fields[1].split(separator: "%")[0]), port: 53)
            else { continue }
            servers.append(address)
        }
        guard !servers.isEmpty else { throw Unavailable(attempts: ["resolv.conf names no nameserver"]) }
        return DNSResolver(servers: servers)
    }

    /// The TXT records of `name`: each record's strings joined; none when the name does not
    /// exist or has no TXT record.
    /// - Throws: ``DNSTXTMessage/Failure`` for a name that cannot be asked or an answer that
    ///   reports an error; ``Unavailable`` when no server answered in time.
    public func txtRecords(of name: String) async throws -> [String] {
        var attempts: [String] = []
        for server in servers {
            do {
                return try await ask(server, name: name)
            } catch let failure as DNSTXTMessage.Failure {
                throw failure
            } catch {
                attempts.append("\(server): \(error)")
            }
        }
        throw Unavailable(attempts: attempts)
    }

    private func ask(_ server: SocketAddress, name: String) async throws -> [String] {
        let id = UInt16.random(in: .min ... .max)
        let query = try DNSTXTMessage.query(for: name, id: id)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let answer = eventLoop.makePromise(of: [String].self)
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AnswerHandler(server: server, name: name, id: id, answer: answer))
                }
            }
            .bind(host: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
            .get()
        let timeout = eventLoop.scheduleTask(in: self.timeout) {
            answer.fail(TimedOut(after: self.timeout))
        }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        let envelope = AddressedEnvelope(remoteAddress: server, data: channel.allocator.buffer(bytes: query))
        try await channel.writeAndFlush(envelope).get()
        return try await answer.futureResult.get()
    }

    /// No answer within the timeout.
    struct TimedOut: Error, CustomStringConvertible {
        var after: TimeAmount
        var description: String { "no answer within \(after.nanoseconds / 1_000_000) ms" }
    }

    /// Takes the first datagram that is the answer to this query; ignores every other one.
    private final class AnswerHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>

        let server: SocketAddress
        let name: String
        let id: UInt16
        let answer: EventLoopPromise<[String]>

        init(server: SocketAddress, name: String, id: UInt16, answer: EventLoopPromise<[String]>) {
            self.server = server
            self.name = name
            self.id = id
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard envelope.remoteAddress == server else { return }
            do {
                answer.succeed(try DNSTXTMessage.txtRecords(in: Array(envelope.data.readableBytesView), for: name, id: id))
            } catch .mismatched(_) {
                return // not the answer to this query: keep waiting
            } catch {
                answer.fail(error)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            answer.fail(error)
        }
    }
}
