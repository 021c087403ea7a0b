import Testing

/// The interop programs of `Tests/Interop`, each starting its own `smta serve` processes.
///
/// They run one after another: each keeps both cores busy for a while (a bridge, a Python
/// client, PostgreSQL, and for the restart program an `initdb` of its own), and the restart
/// program's timing bounds (answers within a few seconds) should measure the bridge, not a
/// machine shared with the other two programs.
@Suite("Interop of the bridge with real clients", .serialized)
struct BridgeInteropTests {}
