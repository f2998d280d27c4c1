import ArgumentParser

@main
struct DupWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dupwatch",
        abstract: "Stops customers from ordering the same thing twice by accident.",
        discussion: """
            Reads cart and order events from Redis Streams, keeps each customer's cart and recent \
            orders in Redis, and publishes an alert to stream:alerts:duplicate when an item \
            duplicates one in the active cart or in the last orders.
            """,
        subcommands: [
            WorkerCommand.self, CartCommand.self, HistoryCommand.self, CheckCommand.self,
            StatusCommand.self, DeadLetterCommand.self, RouteCommand.self, PartitionCommand.self, ServeCommand.self,
            ImportCommand.self, ReportCommand.self, EvaluateCommand.self,
        ]
    )
}
