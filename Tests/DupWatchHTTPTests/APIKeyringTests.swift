import DupWatchHTTP
import Testing

@Suite("API key file")
struct APIKeyringTests {
    @Test func keysHaveTheirScopesAndAdminMayDoEverything() throws {
        let keyring = try APIKeyring(parsing: """
            # the shop's keys
            shop-frontend-key-0001 read,ingest

            ops-key-000000000000002\tadmin\r
            """)
        #expect(keyring.count == 2)
        let shop = try #require(keyring.key(for: "shop-frontend-key-0001"))
        #expect(shop.allows(.read) && shop.allows(.ingest) && !shop.allows(.admin))
        #expect(shop.label == "key#2")
        let ops = try #require(keyring.key(for: "ops-key-000000000000002"))
        #expect(Scope.allCases.allSatisfy(ops.allows))
        #expect(keyring.key(for: "shop-frontend-key-000") == nil)
    }

    @Test(arguments: [
        ("short read", 1, "shorter than 16"),
        ("a-long-enough-key-1 read write", 1, "found 3 word(s)"),
        ("a-long-enough-key-1 writer", 1, "unknown scope \"writer\""),
        ("# c\na-long-enough-key-1 read\na-long-enough-key-1 ingest", 3, "listed twice"),
        ("a-long-enough-key-1", 1, "found 1 word(s)"),
    ])
    func aBadLineIsRefusedWithItsNumber(text: String, line: Int, problem: String) {
        do {
            _ = try APIKeyring(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.description.contains(problem), "\(error)")
        }
    }
}
