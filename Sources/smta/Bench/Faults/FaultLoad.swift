import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The calls the fault benchmark keeps making while it breaks things: the roster's current users,
/// each creating organizations (with and without an Idempotency-Key) and listing theirs, every
/// answer judged.
struct FaultLoad: Sendable {
    /// A signed-in user of the load.
    struct User: Sendable {
        /// A short tag that starts the name of every organization the user creates.
        var tag: String
        /// `Authorization: Bearer …`.
        var authorization: String
    }

    /// The users the load calls as: replaced now and then by fresh ones, so that no user's list of
    /// organizations grows with the length of the run.
    final class Roster: Sendable {
        private let box: NIOLockedValueBox<[User]>

        init(_ users: [User]) { box = NIOLockedValueBox(users) }

        /// The users called as now.
        var users: [User] { box.withLockedValue { $0 } }

        /// Makes `users` the users called as from now on.
        func replace(with users: [User]) { box.withLockedValue { $0 = users } }
    }

    let port: Int
    let roster: Roster
    let ledger: FaultLedger
    /// The bridge's request budget: no answer may take longer than this plus a second.
    let requestTimeout: Duration
    /// How long an idempotent write is retried before it counts as unresolved.
    let retryBudget: Duration

    private var limit: TimeAmount { .seconds(requestTimeout.components.seconds + 10) }
    private var slowest: Double { Double(requestTimeout.components.seconds) + 1 }

    /// Runs `workers` callers until `running` turns false.
    func run(workers: Int, running: NIOLockedValueBox<Bool>) async {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var sequence = 0
                    while running.withLockedValue({ $0 }) {
                        sequence += 1
                        let users = roster.users
                        let user = users[(worker + sequence) % users.count]
                        switch sequence % 4 {
                        case 1: await write(as: user, name: "\(user.tag)-w\(worker)-\(sequence)", keyed: true)
                        case 3: await write(as: user, name: "\(user.tag)-w\(worker)-\(sequence)", keyed: false)
                        default: _ = await read(as: user)
                        }
                    }
                }
            }
        }
    }

    /// Lists `user`'s organizations and checks that each is theirs; true for a 200.
    func read(as user: User) async -> Bool {
        let answer = await send(.GET, "/rpc/list_my_organizations", user: user)
        guard answer.status == 200 else {
            judgeRefusal(answer, call: "list_my_organizations")
            return false
        }
        let rows = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [[String: Any]]
        guard let rows else {
            ledger.violation("list_my_organizations answered 200 with a body that is not a list: \(answer.body.prefix(200))")
            return false
        }
        for row in rows {
            let name = row["name"] as? String ?? ""
            if !name.hasPrefix(user.tag + "-") {
                ledger.violation("\(user.tag) was shown an organization not theirs: \(name)")
            }
        }
        return true
    }

    /// Creates the organization `name` as `user`: with an Idempotency-Key, retried as told until it
    /// is answered or the retry budget ends; without one, sent once.
    private func write(as user: User, name: String, keyed: Bool) async {
        let body = #"{"p_name":"\#(name)"}"#
        let key = UUID().uuidString
        let start = ContinuousClock.now
        while true {
            let answer = await send(.POST, "/rpc/create_organization", user: user, body: body, key: keyed ? key : nil)
            let retryAfter = answer.headers["retry-after"] != nil
            if answer.headers["idempotent-replayed"] == "true" {
                ledger.replayed()
            }
            switch (answer.status, retryAfter) {
            case (200, _):
                ledger.wrote(name, .applied)
                return
            case (503, true), (504, true):
                guard keyed else {
                    ledger.wrote(name, .notApplied)
                    return
                }
                if start.duration(to: .now) > retryBudget {
                    ledger.wrote(name, .unresolved)
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            case (504, false) where !keyed && answer.body.contains("08007"):
                ledger.wrote(name, .unknown)
                return
            default:
                judgeRefusal(answer, call: "create_organization")
                ledger.wrote(name, .unknown)
                return
            }
        }
    }

    /// Records a violation unless `answer` is one a fault may cause: 503 with `Retry-After`, 504.
    private func judgeRefusal(_ answer: HTTPProbe.Answer, call: String) {
        switch answer.status {
        case 503 where answer.headers["retry-after"] != nil, 504:
            return
        case 0:
            ledger.violation("\(call): no answer (\(answer.timedOut ? "client limit" : answer.body)) after \(String(format: "%.2f", answer.seconds)) s")
        default:
            ledger.violation("\(call): \(answer.status) \(answer.body.prefix(200))")
        }
    }

    private func send(_ method: HTTPMethod, _ path: String, user: User, body: String? = nil, key: String? = nil) async -> HTTPProbe.Answer {
        var headers = [("Authorization", user.authorization)]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        if let key { headers.append(("Idempotency-Key", key)) }
        let answer = await HTTPProbe.send(method, port: port, path: path, headers: headers, body: body, limit: limit)
        ledger.answered(status: answer.status, seconds: answer.seconds)
        if answer.seconds > slowest {
            ledger.violation("\(path) took \(String(format: "%.2f", answer.seconds)) s (budget \(requestTimeout) + 1 s), answered \(answer.status)")
        }
        return answer
    }
}
