import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchImport
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Replay an order file through the rules: how do the alerts relate to later cancellations?",
        discussion: """
            Reads the file as `import orders` does (CSV with a header line, gzip or plain; the \
            same presets and column options) and replays its orders in file order, which must be \
            time order, through the order rule with a customer state in memory: no Redis. An \
            order is flagged when placing it raises an alert. With --preset online-retail, a C \
            invoice cancels the customer's latest earlier order holding one of its products. \
            Prints orders, cancelled orders, flagged, flagged and later cancelled, precision, \
            recall, base rate and lift: for all flagged orders, and for those whose nearest \
            matched order is at most 1, 7 or 30 days older. docs/EVALUATION.md reads the figures \
            of the Online Retail data.
            """)

    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("The order file to replay: CSV with a header line, .gz or plain. Required.", "csv"))
    var csv: String?

    @OptionGroup var orderFile: OrderFileOptions

    @Option(help: Settings.help("How many of the last orders the order rule checks (as the worker's; 1-1000).",
                                "history-depth", default: "5"))
    var historyDepth: Int?

    /// As the worker's, so that the replay flags what the worker would alert.
    @OptionGroup var noise: NoiseOptions

    @Flag(inversion: .prefixedNo, help: Settings.help("Print JSON for programs instead of a table.", "json", default: "off"))
    var json: Bool?

    struct Resolved {
        var path: String
        var preset: OrderFilePreset?
        var columns: OrderColumns
        var rules: RuleConfig
        var json: Bool
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        let path = try settings.required(csv, "csv")
        let (preset, columns) = try orderFile.resolved(&settings)
        let depth = try settings.value(historyDepth, "history-depth", default: 5)
        guard (1...1000).contains(depth) else { throw settings.invalid("history-depth", "must be 1...1000") }
        var rules = RuleConfig(historyDepth: depth)
        try noise.apply(to: &rules, &settings)
        return Resolved(path: path, preset: preset, columns: columns, rules: rules, json: try settings.flag(json, "json"))
    }

    func validate() throws {
        _ = try resolved()
    }

    func run() throws {
        let resolved = try resolved()
        let started = ContinuousClock.now
        var replay = OrderReplay(rules: resolved.rules)
        let progress = ProgressLine(label: "evaluate")
        do {
            let reader = try OrderFileReader(input: ImportInput(path: resolved.path), format: .csv, preset: resolved.preset,
                                             columns: resolved.columns)
            var items = 0
            while let item = try reader.next() {
                replay.replay(item)
                items += 1
                if items % 4096 == 0 {
                    progress.show(ImportProgress(rows: reader.rows, fileBytesRead: reader.input.fileBytesRead,
                                                 fileSize: reader.input.fileSize, seconds: Self.seconds(since: started)))
                }
            }
            progress.end()
        } catch let error as OrderFileError {
            progress.end()
            throw CommandFailure(error.description)
        } catch let error as ImportInput.Failure {
            progress.end()
            throw CommandFailure(error.description)
        }
        let report = replay.report()
        if resolved.json {
            JSONOutput.print(report)
        } else {
            print(EvaluationTable(report: report, path: resolved.path, seconds: Self.seconds(since: started)).rendered)
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// The report as people read it: what the file held, then one row per band.
struct EvaluationTable {
    var report: EvaluationReport
    var path: String
    var seconds: Double

    var rendered: String {
        let counts = report.counts
        let quiet = report.quietSKUs.isEmpty ? "no quiet SKUs" : "\(report.quietSKUs.count) quiet SKUs"
        let repeated = counts.repeatedOrderIDs > 0
            ? " (\(Self.count(counts.repeatedOrderIDs, "repeated order id")) ignored, as the worker ignores them)" : ""
        let cancellations = counts.cancellationInvoices > 0
            ? "\(Self.count(counts.cancellationInvoices, "cancellation invoice")), \(counts.unmatchedCancellations) matching no earlier order"
            : "no cancellation invoices"
        var lines = [
            "Replayed \(path) (history depth \(report.historyDepth), \(quiet)) in \(String(format: "%.1f", seconds)) s:",
            "  \(Self.count(counts.rows, "row")); \(Self.count(counts.orders, "order")) of \(Self.count(counts.customers, "customer"))"
                + "\(repeated); \(cancellations).",
        ]
        if counts.rejectedRows > 0 {
            let codes = counts.rejectedRowsByCode.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            lines.append("  \(counts.rejectedRows) rows rejected: " + codes.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ".")
        }
        if counts.outOfTimeOrder > 0 {
            lines.append("  Warning: \(counts.outOfTimeOrder) orders or cancellations are dated earlier than one above them: the file is not in "
                + "time order, so the rules did not see what a worker would have. Sort the file by time and run again.")
        }
        if counts.cancellationInvoices == 0 {
            lines.append("  Only --preset online-retail reads cancellation invoices (C invoices): without them nothing counts as cancelled.")
        }
        var table = TextTable("FLAGGED ORDERS", "ORDERS", "CANCELLED", "FLAGGED", "FLAGGED+CANCELLED", "PRECISION", "RECALL",
                              "BASE RATE", "LIFT")
        func add(_ name: String, _ f: EvaluationFigures) {
            table.add(name, String(f.orders), String(f.cancelled), String(f.flagged), String(f.flaggedCancelled),
                      Self.percent(f.precision), Self.percent(f.recall), Self.percent(f.baseRate),
                      f.lift.map { String(format: "%.2f", $0) } ?? "n/a")
        }
        add("all", report.overall)
        for band in report.byGap {
            add("nearest match ≤ \(band.maxGapDays) \(band.maxGapDays == 1 ? "day" : "days")", band.figures)
        }
        lines.append("")
        lines.append(table.rendered)
        return lines.joined(separator: "\n")
    }

    /// `1 order`, `2 orders`.
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

    static func percent(_ ratio: Double?) -> String {
        ratio.map { String(format: "%.2f%%", $0 * 100) } ?? "n/a"
    }
}
