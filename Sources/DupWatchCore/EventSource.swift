/// The input streams DupWatch consumes. Stream names live in the store's `KeySchema`;
/// the core only needs to know which kind of entry it is looking at.
public enum EventSource: String, Sendable, CaseIterable, Hashable {
    case cart
    case orderPlaced
    case orderStatus
}
