import Foundation

/// Writes lines to standard output unbuffered, so progress shows as it happens even when the
/// output is piped to a file or another program.
enum Console {
    /// Writes `text` and a newline.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
