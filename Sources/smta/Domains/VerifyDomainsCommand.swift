import ArgumentParser
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SMTACore

/// `smta domains verify`: checks every claimed, unverified organization domain for its DNS TXT
/// record and marks the ones found verified (`platform.verify_organization_domain`).
struct VerifyDomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify organizations' claimed email domains by their DNS TXT records.",
        discussion: """
            An organization's super_admin claims a domain with public.add_organization_domain and \
            publishes a TXT record named _smta-verification.<domain> holding \
            "smta-domain-verification=<token>". This command asks DNS for the record of every \
            claim not yet verified (platform.list_pending_organization_domains) and verifies the \
            ones whose record is there; users whose verified email is at a verified domain may \
            then join the organization. Run it on a schedule, or when an owner says the record \
            is published. Connects with the database URL of the configuration (an operator \
            role). Exit status 1 when a lookup could not be made (the others are still done).
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(name: .customLong("dns-server"),
            help: "A DNS server to ask, host or host:port (repeat for several; default: the nameservers of /etc/resolv.conf).")
    var dnsServers: [String] = []

    @Option(help: "Seconds to wait for each DNS server.")
    var dnsTimeout: Double = 3

    func validate() throws {
        guard dnsTimeout > 0, dnsTimeout <= 60 else {
            throw ValidationError("--dns-timeout must be between 0 and 60 seconds")
        }
        for server in dnsServers where Self.address(of: server) == nil {
            throw ValidationError("--dns-server \(server.prefix(80)): not an IP address, optionally with :port ([v6]:port for IPv6)")
        }
    }

    func run() async throws {
        let url = try options.load().databaseURL()
        let resolver = try makeResolver()
        let logger = Logger(label: "smta.domains")
        let unchecked: Int
        do {
            unchecked = try await url.withConnection(applicationName: "smta domains verify", logger: logger) { connection in
                try await verifyPending(on: connection, with: resolver, logger: logger)
            }
        } catch {
            throw DatabaseError(error)
        }
        if unchecked > 0 {
            throw ExitCode(1)
        }
    }

    /// Checks every pending claim; returns how many could not be checked.
    private func verifyPending(on connection: PostgresConnection, with resolver: DNSResolver, logger: Logger) async throws -> Int {
        var pending: [(id: UUID, domain: String, recordName: String, recordValue: String)] = []
        let rows = try await connection.query(
            "select id, domain, record_name, record_value from platform.list_pending_organization_domains()", logger: logger)
        for try await (id, domain, recordName, recordValue) in rows.decode((UUID, String, String, String).self) {
            pending.append((id, domain, recordName, recordValue))
        }
        var verified = 0
        var unchecked = 0
        for claim in pending {
            let records: [String]
            do {
                records = try await resolver.txtRecords(of: claim.recordName)
            } catch {
                unchecked += 1
                Console.line("not checked: \(claim.domain): \(error)")
                continue
            }
            guard records.contains(claim.recordValue) else {
                Console.line("not yet: \(claim.domain): no TXT record \"\(claim.recordValue)\" at \(claim.recordName)")
                continue
            }
            do {
                // Drained: an error raised while the statement runs arrives with its rows.
                _ = try await connection.query("select platform.verify_organization_domain(\(claim.id))", logger: logger).collect()
                verified += 1
                Console.line("verified: \(claim.domain)")
            } catch let error where DatabaseError(error).sqlState == "23505" {
                Console.line("not verified: \(claim.domain): another organization verified it first")
            }
        }
        Console.line("\(pending.count) pending claim(s): \(verified) verified, \(unchecked) not checked.")
        return unchecked
    }

    private func makeResolver() throws -> DNSResolver {
        let timeout = TimeAmount.milliseconds(Int64(dnsTimeout * 1000))
        if !dnsServers.isEmpty {
            return DNSResolver(servers: dnsServers.compactMap(Self.address(of:)), timeout: timeout)
        }
        guard let contents = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) else {
            throw ValidationError("cannot read /etc/resolv.conf: name a server with --dns-server")
        }
        var resolver = try DNSResolver.system(resolvConf: contents)
        resolver.timeout = timeout
        return resolver
    }

    /// `192.0.2.1`, `192.0.2.1:5353`, `2001:db8::1` or `[2001:db8::1]:5353` as an address (port 53
    /// unless given).
    static func address(of server: String) -> SocketAddress? {
        var host = server
        var port = 53
        if server.hasPrefix("[") {
            guard let close = server.firstIndex(of: "]") else { return nil }
            host = String(server[server.index(after: server.startIndex)..<close])
            let rest = server[server.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if server.filter({ $0 == ":" }).count == 1, let colon = server.firstIndex(of: ":") {
            host = String(server[..<colon])
            guard let number = Int(server[server.index(after: colon)...]) else { return nil }
            port = number
        }
        guard (1...65535).contains(port) else { return nil }
        return try? SocketAddress(ipAddress: host, port: port)
    }
}
