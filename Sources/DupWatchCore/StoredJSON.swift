/// Public entry points onto the core's strict JSON reader for the store and the tools: the
/// stored order's `items` and a dead letter's `payload` are read back with the same rules
/// that validated them on the way in.
public enum OrderItems {
    /// Reads an `items` array exactly as `stream:order:placed` entries carry it.
    public static func parse(_ bytes: [UInt8]) -> Result<[OrderLine], Rejection> {
        do {
            return .success(try EventParser.parseItems(bytes))
        } catch {
            return .failure(error)
        }
    }
}

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
