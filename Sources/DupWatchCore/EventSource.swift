/// The input streams DupWatch consumes. Stream names live in the store's `KeySchema`;
/// the core only needs to know which kind of entry it is looking at.
public enum EventSource: String, Sendable, CaseIterable, Hashable {
    case cart
    case orderPlaced
    case orderStatus

    /// Tie-break between entries with equal ids in different streams.
    public var rank: Int {
        switch self {
        case .cart: 0
        case .orderPlaced: 1
        case .orderStatus: 2
        }
    }
}
