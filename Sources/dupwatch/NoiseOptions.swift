import ArgumentParser
import DupWatchCLI
import DupWatchCore
import Foundation

/// The noise controls that `worker`, `serve` and `check` share: quiet SKUs and
/// `repeat_count`. All three read them alike, so that a check answers what the worker alerts.
/// Each is off by default.
struct NoiseOptions: ParsableArguments {
    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("""
        SKUs that never raise an alert (postage, fees, carrier bags), comma-separated, exact and \
        case-sensitive; they are still stored in carts and orders.
        """, "quiet-skus", default: "none"))
    var quietSkus: String?

    @Option(help: Settings.help("A file of quiet SKUs, one per line (# comment lines); adds to --quiet-skus.",
                                "quiet-skus-file", default: "none"))
    var quietSkusFile: String?

    @Flag(inversion: .prefixedNo, help: Settings.help("""
        Add repeat_count to every alert: in how many of the last --history-depth orders the SKU is \
        (the matched one included; cancelled and returned ones not counted).
        """, "repeat-count", default: "off"))
    var repeatCount: Bool?

    init() {}

    /// The rules' quiet SKUs and `repeatCount` set from these options (the command line, else
    /// the DUPWATCH_* variables): the list and the file's lines together. A SKU that is not a
    /// valid `sku`, or a file that cannot be read, is a usage error.
    func apply(to rules: inout RuleConfig, _ settings: inout Settings) throws {
        var quiet: Set<String> = []
        if let list = try settings.value(quietSkus, "quiet-skus") {
            do {
                quiet.formUnion(try QuietSKUs.parse(list: list))
            } catch {
                throw settings.invalid("quiet-skus", "holds an invalid SKU: \(error)")
            }
        }
        if let path = try settings.value(quietSkusFile, "quiet-skus-file") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the quiet SKU file \(path): it does not exist or is not readable by this user")
            }
            do {
                quiet.formUnion(try QuietSKUs.parse(file: String(decoding: data, as: UTF8.self)))
            } catch {
                throw ValidationError("the quiet SKU file \(path), \(error)")
            }
        }
        rules.quietSKUs = quiet
        rules.repeatCount = try settings.flag(repeatCount, "repeat-count")
    }
}
