import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient

/// `dupwatch report`: the analytics the workers keep, summed over the partitions.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show the duplicate analytics: events, alerts, orders, cancellations, outcomes, top SKUs.",
        discussion: """
            The workers count, in each commit, per UTC hour of event time (a day is the sum of its hours). --since and \
            --until take a date (2026-12-01), a time (2026-12-01T10:00:00Z or epoch ms) or a span \
            back from now (7d, 36h). The default is the last 7 days.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: Settings.help("Start of the range (inclusive).", "since", default: "7 days before --until"))
    var since: String?

    @Option(help: Settings.help("End of the range (exclusive).", "until", default: "now"))
    var until: String?

    @Option(help: Settings.help("Granularity of the series: hour or day.", "by", default: "hour up to 2 days, else day"))
    var by: String?

    @Option(help: Settings.help("How many of the top duplicated SKUs to print (JSON always has up to 100).", "top", default: "10"))
    var top: Int?

    @Flag(inversion: .prefixedNo, help: Settings.help("Print JSON for programs (the same document as GET /v1/stats).", "json", default: "off"))
    var json: Bool?

    struct Resolved {
        var range: StatsRange
        var top: Int
        var json: Bool
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let (since, until, by) = (try settings.value(since, "since"), try settings.value(until, "until"), try settings.value(by, "by"))
        let range: StatsRange
        do {
            range = try StatsRange.parse(since: since, until: until, period: by, now: now)
        } catch {
            throw ValidationError(error.message)
        }
        let top = try settings.value(self.top, "top", default: 10)
        guard (0...StatsReader.topSKUCount).contains(top) else { throw settings.invalid("top", "must be 0...\(StatsReader.topSKUCount)") }
        return Resolved(range: range, top: top, json: try settings.flag(json, "json"))
    }

    func validate() throws {
        _ = try resolved()
    }

    func run() throws {
        let options = try resolved()
        let range = options.range
        let report = try connection.deployment().stats(since: range.since, until: range.until, period: range.period)
        if options.json {
            JSONOutput.print(report)
        } else {
            print(ReportText.render(report, top: options.top))
        }
    }
}
