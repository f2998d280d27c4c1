import Foundation
import DupWatchWorker
import Testing

@Suite("Consumer identity")
struct ConsumerNameTests {
    /// Two workers in containers that share a host name, each pid 1, must not share a name.
    @Test func theDefaultNameIsUniquePerProcessStart() {
        let names = (0..<200).map { _ in ConsumerName.unique() }
        #expect(Set(names).count == names.count)
        let prefix = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
        for name in names {
            #expect(name.hasPrefix(prefix), "\(name)")
            let nonce = name.dropFirst(prefix.count)
            #expect(nonce.count == 8 && nonce.allSatisfy(\.isHexDigit), "\(name)")
        }
    }
}
