import Foundation
import PackagePlugin

/// Embeds every `.sql` file found under a target's directory into that target as Swift
/// string constants (`EmbeddedSQL.files`), so binaries carry their SQL without resource bundles.
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let root = module.directoryURL
        let relativePaths = (FileManager.default.subpaths(atPath: root.path) ?? [])
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding SQL of \(target.name)",
                executable: try context.tool(named: "SQLEmbedder").url,
                arguments: [output.path, root.path] + relativePaths,
                inputFiles: relativePaths.map { root.appending(path: $0) },
                outputFiles: [output]
            )
        ]
    }
}
