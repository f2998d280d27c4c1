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
    @Option(help: "The partition count (default: the deployment's, read from Redis).") var partitions: Int?

    func run() throws {
        let partitioning: Partitioning
        if let partitions {
            do { partitioning = try Partitioning(count: partitions) } catch { throw ValidationError(error.description) }
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
