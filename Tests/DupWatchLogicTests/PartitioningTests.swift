import DupWatchStore
import RedisClient
import Testing

@Suite("Hash slots and partitions")
struct PartitioningTests {
    @Test func crc16IsXmodem() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot.crc16([UInt8]()) == 0)
    }

    /// Slots given by the Redis documentation (`CLUSTER KEYSLOT`) and the cluster specification's
    /// hash tag rules.
    @Test func slotsMatchRedis() {
        #expect(HashSlot(key: "foo").value == 12182)
        #expect(HashSlot(key: "bar").value == 5061)
        #expect(HashSlot(key: "somekey").value == 11058)
        #expect(HashSlot(key: "foo{hash_tag}").value == 2515)
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "{user1000}.followers"))
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "user1000"))
        // An empty tag hashes the whole key; only the first `{...}` counts.
        #expect(HashSlot(key: "foo{}{bar}") == HashSlot(key: Array("foo{}{bar}".utf8)))
        #expect(HashSlot(key: "foo{}{bar}").value == HashSlot.crc16(Array("foo{}{bar}".utf8)) % 16384)
        #expect(HashSlot(key: "foo{{bar}}zap") == HashSlot(key: "{bar"))
        #expect(HashSlot(key: "foo{bar}{zap}") == HashSlot(key: "bar"))
    }

    @Test func onlyPowersOfTwoUpTo1024Partitions() throws {
        for valid in [1, 2, 4, 64, 1024] { #expect(throws: Never.self) { try Partitioning(count: valid) } }
        for invalid in [0, 3, 6, 100, 2048, -4] {
            let error = #expect(throws: PartitioningError.self) { try Partitioning(count: invalid) }
            #expect(error?.description.contains("power of two") == true)
        }
    }

    @Test func aCustomersPartitionIsItsKeySlotModuloN() throws {
        let partitioning = try Partitioning(count: 8)
        for customer in ["c42", "demo-alice", "R12346", "ünïcode-ß", ""] {
            let slot = Int(HashSlot(key: customer).value)
            #expect(partitioning.partition(of: customer) == slot % 8, "\(customer)")
        }
        #expect(partitioning.partition(of: "foo") == 12182 % 8)
        #expect(try Partitioning(count: 1).partition(of: "anyone") == 0)
    }

    @Test func partitionsSpreadEvenlyOverTheSlotRange() throws {
        for n in [2, 16, 64, 1024] {
            let partitioning = try Partitioning(count: n)
            for p in [0, n / 2, n - 1] {
                let tag = partitioning.tag(of: p)
                #expect(HashSlot(key: "{\(tag)}").value == UInt16(p * 16384 / n), "partition \(p) of \(n): \(tag)")
                #expect(partitioning.tag(of: p) == tag, "the tag is deterministic")
            }
        }
        // A cluster with evenly split slots (3 masters) gets an even share of 64 partitions.
        let partitioning = try Partitioning(count: 64)
        let masters = [0...5460, 5461...10922, 10923...16383]
        let perMaster = masters.map { range in (0..<64).filter { range.contains(Int(partitioning.slot(of: $0).value)) }.count }
        #expect(perMaster.max()! - perMaster.min()! <= 1, "\(perMaster)")
    }

    @Test func everyKeyOfAPartitionSharesItsSlot() throws {
        let partitioning = try Partitioning(count: 16)
        let keys = partitioning.keys(of: 5)
        let slot = partitioning.slot(of: 5)
        let all = keys.inputStreams + [keys.alertStream, keys.deadLetterStream, keys.cart("c:1"), keys.recentOrders("c:1"),
                                        keys.order("c:1", "O:9"), keys.history("c:1"), keys.eventIDs("c:1"),
                                        keys.lease(group: "dupwatch"), keys.resumeAttempts(group: "dupwatch")]
        for key in all { #expect(HashSlot(key: key) == slot, "\(key)") }
        #expect(Set(all).count == all.count)
        // Ids containing ':' cannot collide: the customer id stays in braces.
        #expect(keys.order("a:b", "c") != keys.order("a", "b:c"))
    }

    @Test func aSinglePartitionKeepsTodaysNames() throws {
        let keys = try Partitioning(count: 1).keys(of: 0)
        #expect(keys == KeySchema())
        #expect(keys.cartStream == "stream:cart:events")
        #expect(keys.cart("c42") == "cart:{c42}")
        #expect(keys.lease(group: "dupwatch") == "dupwatch:lease:dupwatch")
    }
}
