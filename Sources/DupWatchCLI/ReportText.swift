public import DupWatchStore
import DupWatchCore
import Foundation

/// `dupwatch report` for people: the totals with their shares, the busy periods, the top SKUs.
public enum ReportText {
    public static func render(_ report: StatsReport, top: Int) -> String {
        let totals = report.totals
        var out = "DupWatch analytics \(EventTime.iso8601(milliseconds: report.since)) .. \(EventTime.iso8601(milliseconds: report.until))"
            + " (UTC, event time; \(report.partitions) partition\(report.partitions == 1 ? "" : "s"))\n\n"
        var summary = TextTable("FIGURE", "COUNT", "SHARE")
        summary.add("events applied", String(totals[.events]), "")
        summary.add("alerts", String(report.alerts),
                    "cart→cart \(totals[.alertsCartCart]), cart→order \(totals[.alertsCartOrder]), order→order \(totals[.alertsOrderOrder])")
        summary.add("orders placed", String(totals[.ordersPlaced]), "")
        summary.add("  flagged at placement", String(totals[.ordersFlagged]), percent(report.flaggedShareOfOrders, of: "orders placed"))
        summary.add("orders cancelled", String(totals[.ordersCancelled]), "")
        summary.add("  flagged at placement", String(totals[.cancelledFlagged]), percent(report.flaggedShareOfCancelled, of: "cancelled"))
        summary.add("cart events alerted", String(totals[.cartFlagged]), "")
        summary.add("  item then removed", String(totals[.cartFlaggedRemoved]), percent(report.removedShareOfCartFlagged, of: "cart alerts"))
        summary.add("feedback: kept both", String(totals[.feedbackKeptBoth]), "")
        summary.add("feedback: removed item", String(totals[.feedbackRemovedItem]), "")
        summary.add("feedback: cancelled order", String(totals[.feedbackCancelledOrder]), "")
        summary.add("feedback: dismissed", String(totals[.feedbackDismissed]), "")
        out += summary.rendered + "\n\n"

        let busy = report.series.filter { !$0.counts.isZero }
        if busy.isEmpty {
            out += "No activity in this range.\n"
        } else {
            var series = TextTable(report.period.rawValue.uppercased(), "EVENTS", "ALERTS", "ORDERS", "FLAGGED", "CANCELLED",
                                   "CANCELLED FLAGGED", "CART ALERTED", "REMOVED")
            for point in busy {
                let c = point.counts
                series.add(point.start, String(c[.events]), String(c[.alertsCartCart] + c[.alertsCartOrder] + c[.alertsOrderOrder]),
                           String(c[.ordersPlaced]), String(c[.ordersFlagged]), String(c[.ordersCancelled]),
                           String(c[.cancelledFlagged]), String(c[.cartFlagged]), String(c[.cartFlaggedRemoved]))
            }
            out += "By \(report.period.rawValue) (\(busy.count) of \(report.series.count) with activity):\n" + series.rendered + "\n"
        }
        if top > 0, !report.topSKUs.isEmpty {
            var skus = TextTable("RANK", "SKU", "ALERTS")
            for (index, ranked) in report.topSKUs.prefix(top).enumerated() {
                skus.add(String(index + 1), ranked.sku, String(ranked.alerts))
            }
            out += "\nMost duplicated SKUs (the days of the range):\n" + skus.rendered + "\n"
        }
        return out.hasSuffix("\n") ? String(out.dropLast()) : out
    }

    private static func percent(_ share: Double?, of whole: String) -> String {
        guard let share else { return "" }
        return String(format: "%.1f%% of %@", share * 100, whole)
    }
}
