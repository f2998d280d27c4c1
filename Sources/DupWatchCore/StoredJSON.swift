/// The core's strict JSON reader, opened to the tools: a dead letter's `payload` is read back
/// with the same rules that read event payloads.
public enum DeadLetterPayload {
    /// The original entry's fields from a dead letter's `payload` (a JSON object of strings),
    /// in their original order; nil if it is not such an object.
    public static func fields(_ bytes: [UInt8]) -> [RawEntry.Field]? {
        guard case .object(let members)? = try? JSONReader.parse(bytes) else { return nil }
        var out: [RawEntry.Field] = []
        for member in members {
            guard case .string(let value) = member.value else { return nil }
            out.append(RawEntry.Field(member.key, value))
        }
        return out
    }
}
