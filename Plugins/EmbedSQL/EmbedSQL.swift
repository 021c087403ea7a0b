import Foundation
import PackagePlugin

/// Embeds every `.sql` file found under a target's directory into that target as Swift
/// string constants (`EmbeddedSQL.files`), so binaries carry their SQL without resource bundles.
///
/// Incremental: one build command whose inputs are the `.sql` files and whose output is the one
/// generated file, so it runs only when a file changes (or one is added or removed, which
/// changes its arguments). SwiftPM also runs it after relinking `SQLEmbedder`, which it does
/// whenever a build's environment differs from the previous one; `SQLEmbedder` then leaves an
/// unchanged output untouched, so the targets compiling it are not rebuilt.
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
