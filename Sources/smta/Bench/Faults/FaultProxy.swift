import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on loopback that breaks the connections through it on command, as networks and
/// servers do: ``cutAll()`` closes every connection (a crash, a failover), ``stall()`` stops
/// forwarding without closing anything (a partition, a NAT that forgot the flow: no FIN, no RST)
/// until ``resume()``, and ``delay`` slows every chunk.
///
/// Connections accepted while stalled are held too: their bytes wait, as on a partitioned
/// network.
final class FaultProxy: Sendable {
    private struct State {
        var pairs: [ObjectIdentifier: (Channel, Channel)] = [:]
        var stalled = false
        var delay: TimeAmount = .zero
    }

    private let upstream: SocketAddress
    private let group: EventLoopGroup
    private let state = NIOLockedValueBox(State())
    private let server = NIOLockedValueBox<Channel?>(nil)

    /// A proxy to `host:port`; nothing listens before ``start()``.
    init(upstreamHost: String, upstreamPort: Int, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.upstream = try SocketAddress(ipAddress: upstreamHost, port: upstreamPort)
        self.group = group
    }

    /// Listens on a free loopback port and returns it.
    func start() async throws -> Int {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { [self] inbound in
                // Connect upstream once the accepted channel is registered and active: reads
                // requested before registration are lost.
                inbound.pipeline.addHandler(ActivationHandler { self.accept(inbound) })
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.withLockedValue { $0 = channel }
        return channel.localAddress?.port ?? 0
    }

    /// Stops listening and closes every connection.
    func stop() async {
        let channel = server.withLockedValue { $0 }
        try? await channel?.close()
        cutAll()
    }

    /// The connections currently open through the proxy.
    var connectionCount: Int { state.withLockedValue { $0.pairs.count } }

    /// Closes every connection through the proxy, both sides.
    func cutAll() {
        let pairs = state.withLockedValue { state in
            defer { state.pairs.removeAll() }
            return Array(state.pairs.values)
        }
        for (inbound, outbound) in pairs {
            inbound.close(promise: nil)
            outbound.close(promise: nil)
        }
    }

    /// Stops forwarding in both directions, closing nothing.
    func stall() {
        setReading(false)
    }

    /// Forwards again what was held and what comes.
    func resume() {
        setReading(true)
    }

    /// A delay added to every chunk forwarded (zero: none).
    var delay: TimeAmount {
        get { state.withLockedValue { $0.delay } }
        set { state.withLockedValue { $0.delay = newValue } }
    }

    private func setReading(_ reading: Bool) {
        let channels = state.withLockedValue { state in
            state.stalled = !reading
            return state.pairs.values.flatMap { [$0.0, $0.1] }
        }
        for channel in channels {
            channel.setOption(.autoRead, value: reading).whenSuccess {
                if reading { channel.read() }
            }
        }
    }

    /// Connects `inbound` to the upstream and relays between them.
    private func accept(_ inbound: Channel) {
        ClientBootstrap(group: inbound.eventLoop)
            .channelOption(.autoRead, value: false)
            .connect(to: upstream)
            .flatMap { [self] outbound in
                let toUpstream = Relay(peer: outbound, proxy: self)
                let toClient = Relay(peer: inbound, proxy: self)
                return inbound.pipeline.addHandler(toUpstream).flatMap {
                    outbound.pipeline.addHandler(toClient)
                }.map { [self] in
                    let stalled = state.withLockedValue { state in
                        state.pairs[ObjectIdentifier(inbound)] = (inbound, outbound)
                        return state.stalled
                    }
                    if !stalled {
                        for channel in [inbound, outbound] {
                            channel.setOption(.autoRead, value: true).whenSuccess { channel.read() }
                        }
                    }
                    inbound.closeFuture.whenComplete { [self] _ in
                        outbound.close(promise: nil)
                        _ = state.withLockedValue { $0.pairs.removeValue(forKey: ObjectIdentifier(inbound)) }
                    }
                    outbound.closeFuture.whenComplete { _ in inbound.close(promise: nil) }
                }
            }
            .whenFailure { _ in
                inbound.close(promise: nil)
            }
    }

    fileprivate func currentDelay() -> TimeAmount { delay }
}

/// Calls its closure when the channel becomes active.
private final class ActivationHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let onActive: () -> Void

    init(_ onActive: @escaping () -> Void) {
        self.onActive = onActive
    }

    func channelActive(context: ChannelHandlerContext) {
        onActive()
        context.fireChannelActive()
    }
}

/// Writes what one side reads to the other, after the proxy's delay.
private final class Relay: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let peer: Channel
    private let proxy: FaultProxy

    init(peer: Channel, proxy: FaultProxy) {
        self.peer = peer
        self.proxy = proxy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let delay = proxy.currentDelay()
        let peer = peer
        if delay == .zero {
            peer.writeAndFlush(bytes, promise: nil)
        } else {
            context.eventLoop.scheduleTask(in: delay) { peer.writeAndFlush(bytes, promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
