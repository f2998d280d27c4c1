/// A JSON request body (the HTTP API's events) as stream entry fields, so that it is checked by
/// exactly the rules that check `XADD`ed entries: a string member is the field's value, a
/// number its literal as written (`2`, `2.5`, `1e3`), `true`/`false` their words, an array or
/// object its text as the client wrote it (`items`), and `null` leaves the field out.
public enum RequestFields {
    /// Fails with `bad_json` (not one JSON object) or `duplicate_field` (a name given twice,
    /// which a stream entry cannot express unambiguously either).
    public static func parse(_ body: [UInt8]) throws(Rejection) -> [RawEntry.Field] {
        let members: [(member: JSONMember, text: Range<Int>)]
        do {
            members = try JSONReader.parseObjectMembers(body)
        } catch {
            throw Rejection("bad_json", "the body is not a JSON object: \(error)")
        }
        var seen = Set<String>()
        var fields: [RawEntry.Field] = []
        fields.reserveCapacity(members.count)
        for (member, text) in members {
            guard seen.insert(member.key).inserted else {
                throw Rejection("duplicate_field", "\(Quoted.string(member.key)) is given twice")
            }
            let value: [UInt8]
            switch member.value {
            case .null: continue
            case .string(let s): value = Array(s.utf8)
            case .number(let n): value = Array(n.literal.utf8)
            case .bool(let b): value = Array((b ? "true" : "false").utf8)
            case .array, .object: value = Array(body[text])
            }
            fields.append(RawEntry.Field(name: Array(member.key.utf8), value: value))
        }
        return fields
    }
}
