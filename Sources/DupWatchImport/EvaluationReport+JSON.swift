// `dupwatch evaluate --json`: snake_case keys, every figure present, a ratio without a
// denominator `null` (JSONEncoder's default leaves a nil out, which a reader cannot tell from
// a missing field).

extension EvaluationFigures: Encodable {
    enum CodingKeys: String, CodingKey {
        case orders, cancelled, flagged, flaggedCancelled = "flagged_cancelled", precision, recall, baseRate = "base_rate", lift
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try encodeFigures(into: &container)
    }

    func encodeFigures(into container: inout KeyedEncodingContainer<CodingKeys>) throws {
        try container.encode(orders, forKey: .orders)
        try container.encode(cancelled, forKey: .cancelled)
        try container.encode(flagged, forKey: .flagged)
        try container.encode(flaggedCancelled, forKey: .flaggedCancelled)
        // `encode`, not `encodeIfPresent`: nil is written as null.
        try container.encode(precision, forKey: .precision)
        try container.encode(recall, forKey: .recall)
        try container.encode(baseRate, forKey: .baseRate)
        try container.encode(lift, forKey: .lift)
    }
}

extension GapBand: Encodable {
    enum CodingKeys: String, CodingKey {
        case maxGapDays = "max_gap_days"
    }

    /// The band's figures, with its `max_gap_days` beside them.
    public func encode(to encoder: any Encoder) throws {
        var band = encoder.container(keyedBy: CodingKeys.self)
        try band.encode(maxGapDays, forKey: .maxGapDays)
        var figures = encoder.container(keyedBy: EvaluationFigures.CodingKeys.self)
        try self.figures.encodeFigures(into: &figures)
    }
}

extension EvaluationReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case counts, overall, byGap = "by_gap", rules
    }

    struct Rules: Encodable {
        var historyDepth: Int
        var quietSKUs: [String]
        enum CodingKeys: String, CodingKey {
            case historyDepth = "history_depth", quietSKUs = "quiet_skus"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(counts, forKey: .counts)
        try container.encode(overall, forKey: .overall)
        try container.encode(byGap, forKey: .byGap)
        try container.encode(Rules(historyDepth: historyDepth, quietSKUs: quietSKUs), forKey: .rules)
    }
}
