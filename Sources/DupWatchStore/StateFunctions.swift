public import RedisClient

/// DupWatch's Redis Function library: one read-only function that returns a customer's cart,
/// last-N order ids and those orders' hashes in one call.
///
/// Why: a caught-up worker's batch is a few entries, and its alert waits for every round trip.
/// Without it, the last-N orders' hashes can be asked for only once `LRANGE` has named them: a
/// second round trip. Writes stay in `MULTI/EXEC` (DESIGN §2 "Atomicity"); a backlog still reads
/// with plain commands, where the second round trip is overlapped by the pipeline and the
/// function's Lua would cost Redis more CPU per event than it saves.
///
/// The function is `no-writes` and calls Redis as the caller, so the caller's ACL applies to
/// every key it reads; the worker's user needs `+fcall_ro` only. Loading the library
/// (`FUNCTION LOAD`) is an admin's job (`dupwatch functions load`, which `scripts/run.sh` runs);
/// a worker allowed to load it does so itself. The function's name carries a version, so a
/// library from an older DupWatch is replaced rather than misread.
public enum StateFunctions {
    public static let libraryName = "dupwatch"
    public static let readState = "dupwatch_read_state_v1"

    public static let library = """
        #!lua name=dupwatch
        --[[
        DupWatch's Redis Function library (Sources/DupWatchStore/StateFunctions.swift).

        dupwatch_read_state_v1 (read-only: FCALL_RO)
          KEYS[1]  cart:{C}       the customer's cart hash
          KEYS[2]  orders:{C}     the customer's last-N order ids, newest first
          ARGV[1]  N              how many ids to read (--history-depth)
          ARGV[2]  order:{C}:     the prefix of the customer's order hash keys (the id follows);
                                  same hash tag as KEYS, so the same cluster slot
          Returns  { HGETALL KEYS[1], LRANGE KEYS[2] 0 N-1, HGETALL of each listed order, in list order }
                   A command that fails (e.g. WRONGTYPE) gives an error in its place and the rest
                   is still returned; when LRANGE fails no order is read.
        ]]
        redis.register_function{
          function_name = 'dupwatch_read_state_v1',
          flags = { 'no-writes' },
          callback = function(keys, args)
            local ids = redis.pcall('LRANGE', keys[2], 0, tonumber(args[1]) - 1)
            local out = { redis.pcall('HGETALL', keys[1]), ids }
            if ids.err == nil then
              for i, id in ipairs(ids) do
                out[i + 2] = redis.pcall('HGETALL', args[2] .. id)
              end
            end
            return out
          end,
        }
        """

    /// `FCALL_RO` of `readState` for `customer`.
    public static func readStateCommand(_ keys: KeySchema, customer: String, historyDepth: Int) -> RedisCommand {
        RedisCommand("FCALL_RO", readState, "2", keys.cart(customer), keys.recentOrders(customer),
                     String(historyDepth), keys.order(customer, ""))
    }

    /// `FUNCTION LOAD REPLACE` of the library.
    public static var loadCommand: RedisCommand { RedisCommand("FUNCTION", "LOAD", "REPLACE", library) }

    /// Whether `reply` to a call of `readState` says the function is not there.
    public static func isMissing(_ errorMessage: String) -> Bool {
        errorMessage.hasPrefix("ERR Function not found")
    }
}

extension StateFunctions {
    /// Whether `readState` can be called on a connection.
    public enum Availability: Sendable, Equatable {
        case ready
        /// Why not (Redis's error): the caller reads with plain commands instead.
        case unavailable(String)
    }

    /// Calls `readState` once; if the function is missing, loads the library (which an ACL user
    /// without `FUNCTION` is refused). Throws only what the connection throws.
    public static func prepare(on connection: RedisConnection, keys: KeySchema) throws -> Availability {
        let probe = readStateCommand(keys, customer: "dupwatch-probe", historyDepth: 1)
        guard case .error(let message) = try connection.send(probe) else { return .ready }
        guard isMissing(message) else { return .unavailable("FCALL_RO \(readState): \(message)") }
        if case .error(let refusal) = try connection.send(loadCommand) {
            return .unavailable("the function library is not loaded and loading it was refused: \(refusal)")
        }
        return .ready
    }
}
