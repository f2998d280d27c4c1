import ArgumentParser
import DupWatchStore
import RedisClient

/// `dupwatch functions load|show`: the Redis Function library the worker reads state with.
struct FunctionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions",
        abstract: "Load or print DupWatch's Redis Function library (one-call state reads).",
        discussion: """
            A caught-up worker reads a customer's cart, last orders and their hashes in one call \
            to \(StateFunctions.readState) when the library is loaded. Loading needs FUNCTION \
            (the ACL user admin); the worker's user needs only +fcall_ro. Without the library the \
            worker reads with plain commands, one round trip more per batch.
            """,
        subcommands: [Load.self, Show.self])

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "FUNCTION LOAD REPLACE the library (run as an admin; scripts/run.sh does).")

        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let url = try connection.url()
            let redis = try connection.connect()
            if case .error(let message) = try redis.send(StateFunctions.loadCommand) {
                let hint = message.hasPrefix("NOPERM")
                    ? "run this as the admin user: source var/credentials.env, then add --redis-url \"$DUPWATCH_ADMIN_URL\""
                    : "see Redis's error above"
                throw ValidationError("cannot load the function library into \(url): \(message) — \(hint)")
            }
            print("loaded library \(StateFunctions.libraryName) (\(StateFunctions.readState)) into \(url)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the library's Lua source (for FUNCTION LOAD by other means).")

        func run() {
            print(StateFunctions.library)
        }
    }
}
