import DupWatchCore

/// The facts of an alert's match, read out for assertions.
extension Alert {
    var orderPlacedAt: Int64? {
        if case .order(_, let placedAt, _) = match { return placedAt }
        return nil
    }

    var orderStatus: OrderStatus? {
        if case .order(_, _, let status) = match { return status }
        return nil
    }

    var addedAt: Int64? {
        if case .cart(let addedAt) = match { return addedAt }
        return nil
    }
}
