import Testing
import DupWatchCore
import DupWatchStore

@Suite("Key schema")
struct KeySchemaTests {
    @Test func streamNamesWithoutPrefix() {
        let keys = KeySchema()
        #expect(keys.cartStream == "stream:cart:events")
        #expect(keys.orderPlacedStream == "stream:order:placed")
        #expect(keys.orderStatusStream == "stream:order:status")
        #expect(keys.alertStream == "stream:alerts:duplicate")
        #expect(keys.deadLetterStream == "stream:deadletter")
    }

    @Test func prefixIsPrependedToEveryKey() {
        let keys = KeySchema(prefix: "t1:")
        let all = [keys.cartStream, keys.orderPlacedStream, keys.orderStatusStream, keys.alertStream,
                   keys.deadLetterStream, keys.cart("C"), keys.recentOrders("C"), keys.order("C", "O"),
                   keys.history("C"), keys.eventIDs("C"), keys.lease(group: "g"), keys.resumeAttempts(group: "g")]
        for key in all { #expect(key.hasPrefix("t1:"), "\(key)") }
        #expect(keys.cartStream == "t1:stream:cart:events")
        #expect(keys.cart("C") == "t1:cart:{C}")
    }

    @Test func streamForSourceAndBack() {
        for prefix in ["", "p:"] {
            let keys = KeySchema(prefix: prefix)
            #expect(keys.stream(for: .cart) == keys.cartStream)
            #expect(keys.stream(for: .orderPlaced) == keys.orderPlacedStream)
            #expect(keys.stream(for: .orderStatus) == keys.orderStatusStream)
            for source in EventSource.allCases {
                #expect(keys.source(ofStream: keys.stream(for: source)) == source)
            }
            #expect(keys.source(ofStream: keys.alertStream) == nil)
            #expect(keys.source(ofStream: keys.deadLetterStream) == nil)
            #expect(keys.source(ofStream: "nope") == nil)
        }
        // A stream of another prefix is not ours.
        #expect(KeySchema(prefix: "a:").source(ofStream: KeySchema(prefix: "b:").cartStream) == nil)
        #expect(KeySchema(prefix: "a:").source(ofStream: "stream:cart:events") == nil)
    }

    @Test func perCustomerKeysShareTheCustomerHashTag() {
        let keys = KeySchema()
        #expect(keys.cart("C-42") == "cart:{C-42}")
        #expect(keys.recentOrders("C-42") == "orders:{C-42}")
        #expect(keys.order("C-42", "O-1001") == "order:{C-42}:O-1001")
        #expect(keys.history("C-42") == "history:{C-42}")
        #expect(keys.eventIDs("C-42") == "events:{C-42}")
        // The Redis Cluster hash tag is the text between the first "{" and the next "}".
        for key in [keys.cart("C-42"), keys.recentOrders("C-42"), keys.order("C-42", "O-{x}"),
                    keys.history("C-42"), keys.eventIDs("C-42")] {
            #expect(hashTag(key) == "C-42", "\(key)")
        }
    }

    @Test func differentCustomersGetDifferentKeys() {
        let keys = KeySchema()
        #expect(keys.cart("A") != keys.cart("B"))
        #expect(keys.order("A", "O") != keys.order("B", "O"))
        #expect(keys.order("A", "O1") != keys.order("A", "O2"))
    }

    @Test func leaseKey() {
        #expect(KeySchema().lease(group: "dupwatch") == "dupwatch:lease:dupwatch")
    }
}

/// The Redis Cluster hash tag: the bytes between the first `{` and the first `}` after it.
private func hashTag(_ key: String) -> String? {
    guard let open = key.firstIndex(of: "{") else { return nil }
    let rest = key[key.index(after: open)...]
    guard let close = rest.firstIndex(of: "}"), close > rest.startIndex else { return nil }
    return String(rest[..<close])
}
