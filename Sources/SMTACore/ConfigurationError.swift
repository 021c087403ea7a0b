/// A configuration value that is missing or wrong. Its description is one line naming the key
/// and the problem; it never repeats a secret value.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration key (or environment variable) at fault.
    public var key: String
    /// What is wrong with it.
    public var problem: String

    /// Creates an error for `key`.
    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { "\(key): \(problem)" }
}
