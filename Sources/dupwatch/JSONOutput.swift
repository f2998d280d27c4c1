import DupWatchCore

/// Minimal JSON rendering for `--json` output (values are strings, numbers, bools, nested).
indirect enum JSONValue {
    case string(String), int(Int64), bool(Bool), null, array([JSONValue]), object([(String, JSONValue)])

    var rendered: String {
        switch self {
        case .string(let s): JSONText.quote(s)
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .array(let items): "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case .object(let fields): "{" + fields.map { JSONText.quote($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }

    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
}

extension Alert {
    var json: JSONValue {
        .object(fields(detectedAt: 0).filter { $0.0 != "detected_at" }.map { key, value in
            key == "quantity" ? (key, .int(Int64(value) ?? 0)) : (key, .string(value))
        })
    }
}
