import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SMTACore

/// `smta billing products --file products.json`: loads or updates the products webhooks match
/// provider prices against (`platform.subscription_products`).
struct ProductsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "products",
        abstract: "Load or update billing products from a JSON file.",
        discussion: """
            The file is an array of products: {"price_id": "price_…", "name": "Pro", \
            "billing_interval": "month", "amount": 2900, "description": "…", "is_active": true, \
            "metadata": {"features": ["sso"], "limits": {"max_members": 10}}}. Each is inserted, or \
            updated when its price id exists; products not in the file are left as they are. All or \
            nothing: one transaction.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "The products file (JSON).")
    var file: String

    func run() async throws {
        let configuration = try options.load()
        let url = try configuration.databaseURL()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        let products: [ProductFileEntry]
        do {
            products = try JSONDecoder().decode([ProductFileEntry].self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ValidationError("\(file): product \(Self.index(context.codingPath)) has no \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw ValidationError("\(file): \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch {
            throw ValidationError("\(file) is not a JSON array of products")
        }
        for (index, product) in products.enumerated() {
            guard !product.priceID.isEmpty, !product.name.isEmpty, product.amount >= 0 else {
                throw ValidationError("\(file): product \(index): price_id and name must not be empty, amount must not be negative")
            }
        }
        guard Set(products.map(\.priceID)).count == products.count else {
            throw ValidationError("\(file): a price_id appears twice")
        }
        let (inserted, updated) = try await load(products, into: url)
        Console.line("Loaded \(products.count) product(s) into \(url): \(inserted) new, \(updated) updated.")
    }

    private static func index(_ path: [any CodingKey]) -> String {
        path.first?.intValue.map(String.init) ?? "?"
    }

    private func load(_ products: [ProductFileEntry], into url: DatabaseURL) async throws -> (Int, Int) {
        let logger = Logger(label: "smta.billing")
        do {
            return try await upsert(products, into: url, logger: logger)
        } catch {
            throw DatabaseError(error)
        }
    }

    private func upsert(_ products: [ProductFileEntry], into url: DatabaseURL, logger: Logger) async throws -> (Int, Int) {
        let inserted = try await url.withConnection(logger: logger) { connection in
            var inserted = 0
            _ = try await connection.guardedQuery("begin", logger: logger)
            for product in products {
                let rows = try await connection.guardedQuery(
                    """
                    insert into platform.subscription_products
                        (paymentprocessor_price_id, name, description, billing_interval, amount, is_active, metadata)
                    values (\(product.priceID), \(product.name), \(product.description), \(product.billingInterval),
                            \(product.amount), \(product.isActive ?? true), \(product.metadata?.text)::jsonb)
                    on conflict (paymentprocessor_price_id) do update
                        set name = excluded.name, description = excluded.description,
                            billing_interval = excluded.billing_interval, amount = excluded.amount,
                            is_active = excluded.is_active, metadata = excluded.metadata,
                            is_deleted = false, deleted_at = null, deleted_by = null
                    returning (xmax = 0)
                    """, logger: logger)
                if try rows.first?.decode(Bool.self) == true { inserted += 1 }
            }
            // Closing the connection without this commit rolls every product back.
            _ = try await connection.guardedQuery("commit", logger: logger)
            return inserted
        }
        return (inserted, products.count - inserted)
    }
}
