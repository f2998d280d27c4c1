/// A Redis Cluster hash slot, 0...16383: CRC16 (XMODEM) of the key's hash tag, or of the whole
/// key when it has none, modulo 16384 (the Redis Cluster specification, "Keys distribution
/// model"). Keys with the same slot live on the same node and may share one MULTI/EXEC.
public struct HashSlot: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let count = 16_384

    public let value: UInt16

    public init?(_ value: Int) {
        guard (0..<Self.count).contains(value) else { return nil }
        self.value = UInt16(value)
    }

    /// The slot of `key` as Redis computes it: the bytes between the first `{` and the next
    /// `}` when that is not empty, else the whole key.
    public init(key: some Sequence<UInt8>) {
        let bytes = Array(key)
        self.value = UInt16(HashSlot.crc16(HashSlot.hashTag(bytes)) % UInt16(Self.count))
    }

    public init(key: String) {
        self.init(key: key.utf8)
    }

    /// The part of `key` that is hashed.
    static func hashTag(_ key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1 else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte))]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }

    public static func < (a: HashSlot, b: HashSlot) -> Bool { a.value < b.value }

    public var description: String { String(value) }
}
