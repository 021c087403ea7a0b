import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Connections that hold a server's resources without doing work: keep-alive clients that make
/// one request and then sit idle, and slow clients that trickle a request's header section a
/// byte at a time (a slowloris). The soak benchmark opens them beside its load and counts how
/// many the server closed.
final class IdleClients: Sendable {
    private let channels = NIOLockedValueBox<[Channel]>([])
    private let closedByServer = NIOLockedValueBox(0)
    private let ticker = NIOLockedValueBox<RepeatedTask?>(nil)

    /// Opens `idle` keep-alive connections to `127.0.0.1:port`, each sending one request for
    /// `path` with `authorization` and then nothing, and `slow` connections that send a request
    /// line and then one header byte a second, never finishing.
    func open(idle: Int, slow: Int, port: Int, path: String, authorization: String) async throws {
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\n\r\n"
        for index in 0..<(idle + slow) {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in channel.pipeline.addHandler(Discard()) }
                .connect(host: "127.0.0.1", port: port).get()
            channel.closeFuture.whenComplete { [closedByServer] _ in closedByServer.withLockedValue { $0 += 1 } }
            channels.withLockedValue { $0.append(channel) }
            let first = index < idle ? request : "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            try await channel.writeAndFlush(ByteBuffer(string: first)).get()
        }
        let slowChannels = channels.withLockedValue { Array($0.suffix(slow)) }
        let task = MultiThreadedEventLoopGroup.singleton.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            for channel in slowChannels where channel.isActive {
                channel.writeAndFlush(ByteBuffer(string: "X"), promise: nil)
            }
        }
        ticker.withLockedValue { $0 = task }
    }

    /// How many of the connections are closed (by the server: this side never closes them
    /// before ``closeAll()``).
    var closedCount: Int { closedByServer.withLockedValue { $0 } }

    /// How many connections were opened.
    var openedCount: Int { channels.withLockedValue { $0.count } }

    /// Stops trickling and closes whatever is still open.
    func closeAll() async {
        ticker.withLockedValue { $0?.cancel() }
        for channel in channels.withLockedValue({ $0 }) {
            try? await channel.close()
        }
    }
}

/// Reads and drops whatever the server sends.
private final class Discard: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
