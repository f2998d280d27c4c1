public import DupWatchCore

/// Which order a cancellation invoice cancels: the one definition that `dupwatch import orders`
/// and `dupwatch evaluate` both use.
extension Cancellation {
    /// Among `orders` (the customer's orders seen so far, in any order, whatever their status),
    /// the latest one placed strictly before the cancellation that holds one of its products; of
    /// orders placed at the same time, the one with the greatest order id (byte order). Nil when
    /// none holds any of them.
    ///
    /// Why these choices:
    /// - Any earlier order, not only the last `--history-depth`: a customer returns goods from an
    ///   order of months ago too, and the rules' depth is about what alerts, not about what a
    ///   cancellation can reach.
    /// - Strictly before: times have minute resolution, and an order of the same minute may be
    ///   placed after the cancellation.
    /// - Already cancelled orders stay candidates: one order can be cancelled a line at a time,
    ///   by several invoices.
    /// - Ties broken by the order id, not by file position: the store keeps no file position
    ///   for orders off the last-N list, and the import and a replay must pick the same order.
    ///   Shop invoice numbers grow with time, so this is the later invoice.
    public func target(among orders: some Sequence<StoredOrder>) -> StoredOrder? {
        let products = Set(skus)
        var best: StoredOrder?
        for order in orders where order.placedAt < time {
            if let current = best {
                guard order.placedAt > current.placedAt
                    || (order.placedAt == current.placedAt && current.orderID.utf8.lexicographicallyPrecedes(order.orderID.utf8))
                else { continue }
            }
            if order.lines.contains(where: { products.contains($0.sku) }) { best = order }
        }
        return best
    }

    /// `target(among:)` over every order `state` holds (its last-N list and its older orders).
    public func target(in state: CustomerState) -> StoredOrder? {
        target(among: state.recentOrders + state.olderOrders.values)
    }
}
