import ArgumentParser
import DupWatchCLI
import DupWatchStore
import RedisClient

struct PartitionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partition",
        abstract: "Which partition a customer is in, and the keys of that partition.",
        discussion: "The partition of customer C is CRC16(C) mod 16384 mod N: the Redis key slot of C (redis-cli CLUSTER KEYSLOT C) modulo N.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The customer_id.") var customer: String
    @Option(help: Settings.help("The partition count.", "partitions", default: "the deployment's, read from Redis"))
    var partitions: Int?

    /// The count given (command line or DUPWATCH_PARTITIONS), checked; nil: ask Redis.
    func resolved() throws -> Partitioning? {
        var settings = Settings()
        guard let partitions = try settings.value(self.partitions, "partitions") else { return nil }
        do {
            return try Partitioning(count: partitions)
        } catch {
            throw settings.invalid("partitions", "must be a power of two, 1 to \(Partitioning.maxCount)")
        }
    }

    func validate() throws {
        _ = try resolved()
    }

    func run() throws {
        let partitioning: Partitioning
        if let given = try resolved() {
            partitioning = given
        } else {
            partitioning = try connection.deployment().partitioning
        }
        let partition = partitioning.partition(of: customer)
        let keys = partitioning.keys(of: partition)
        print("customer \(customer): key slot \(HashSlot(key: customer)), partition \(partition) of \(partitioning.count)")
        print("  slot of the partition's keys: \(partitioning.slot(of: partition))")
        print("  input streams: \(keys.inputStreams.joined(separator: ", "))")
        print("  alerts:        \(keys.alertStream)")
        print("  cart:          \(keys.cart(customer))")
    }
}
