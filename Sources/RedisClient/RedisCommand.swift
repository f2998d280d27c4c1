/// One command, encoded directly as RESP2 (`*N\r\n$len\r\narg\r\n...`) into a single byte buffer.
///
/// The buffer keeps `headerReserve` bytes of room at its front; after every append the `*N\r\n`
/// header is rewritten right-aligned into that room, so the encoded command is always the
/// contiguous tail `storage[headerStart...]` and can be handed to hiredis without copying.
public struct RedisCommand: Sendable {
    /// Room for "*" + up to 19 digits + "\r\n".
    static let headerReserve = 24

    var storage: [UInt8]
    var headerStart: Int
    /// Number of arguments (including the command name).
    public private(set) var argumentCount: Int

    init(reservingCapacity capacity: Int) {
        // Reserve first, then fill: the other way round allocates the buffer twice, and a
        // batch builds thousands of commands.
        storage = []
        storage.reserveCapacity(RedisCommand.headerReserve + capacity)
        storage.append(contentsOf: repeatElement(0, count: RedisCommand.headerReserve))
        headerStart = RedisCommand.headerReserve
        argumentCount = 0
        writeHeader()
    }

    public init(_ name: String) {
        self.init(reservingCapacity: 64)
        append(name)
    }

    /// `RedisCommand("XACK", "stream", "group", "1-0")`
    public init(_ name: String, _ arguments: String...) {
        self.init(reservingCapacity: 64 + arguments.count * 24)
        append(name)
        for argument in arguments { append(argument) }
    }

    /// `RedisCommand(["SET", "key", "value"])`; the first element is the command name.
    public init(_ arguments: [String]) {
        self.init(reservingCapacity: 16 + arguments.count * 24)
        for argument in arguments { append(argument) }
    }

    public mutating func reserveCapacity(_ additionalBytes: Int) {
        storage.reserveCapacity(storage.count + additionalBytes)
    }

    public mutating func append(_ s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { appendArgument($0) }
        if done == nil {
            let bytes = Array(s.utf8)
            bytes.withUnsafeBufferPointer { appendArgument($0) }
        }
    }

    public mutating func append(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { appendArgument($0) }
    }

    public mutating func append(bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { appendArgument($0) }
    }

    public mutating func append(_ i: Int) {
        append(Int64(i))
    }

    /// Appends the decimal text of `i` without any intermediate String.
    public mutating func append(_ i: Int64) {
        let magnitude = i.magnitude
        let length = RedisCommand.decimalLength(magnitude) + (i < 0 ? 1 : 0)
        storage.append(UInt8(ascii: "$"))
        appendDecimal(UInt64(length))
        storage.append(13); storage.append(10)
        if i < 0 { storage.append(UInt8(ascii: "-")) }
        appendDecimal(magnitude)
        storage.append(13); storage.append(10)
        argumentCount += 1
        writeHeader()
    }

    /// The encoded RESP bytes of the command.
    public var encoded: [UInt8] {
        Array(storage[headerStart...])
    }

    /// Encoded size in bytes.
    public var encodedCount: Int { storage.count - headerStart }

    func withEncodedBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[headerStart...]))
        }
    }

    // MARK: - encoding

    mutating func appendArgument(_ bytes: UnsafeBufferPointer<UInt8>) {
        storage.append(UInt8(ascii: "$"))
        appendDecimal(UInt64(bytes.count))
        storage.append(13); storage.append(10)
        storage.append(contentsOf: bytes)
        storage.append(13); storage.append(10)
        argumentCount += 1
        writeHeader()
    }

    mutating func writeHeader() {
        let count = UInt64(argumentCount)
        let digits = RedisCommand.decimalLength(count)
        let start = RedisCommand.headerReserve - digits - 3
        storage.withUnsafeMutableBufferPointer { buffer in
            buffer[start] = UInt8(ascii: "*")
            var value = count
            var index = start + digits
            repeat {
                buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                value /= 10
                index -= 1
            } while value > 0
            buffer[RedisCommand.headerReserve - 2] = 13
            buffer[RedisCommand.headerReserve - 1] = 10
        }
        headerStart = start
    }

    mutating func appendDecimal(_ value: UInt64) {
        let digits = RedisCommand.decimalLength(value)
        let end = storage.count + digits
        for _ in 0..<digits { storage.append(0) }
        storage.withUnsafeMutableBufferPointer { buffer in
            var v = value
            var index = end - 1
            repeat {
                buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
                index -= 1
            } while v > 0
        }
    }

    static func decimalLength(_ value: UInt64) -> Int {
        var length = 1
        var v = value
        while v >= 10 {
            v /= 10
            length += 1
        }
        return length
    }
}
