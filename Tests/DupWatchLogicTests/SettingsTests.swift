import ArgumentParser
import DupWatchCLI
import Testing

/// The command line, else DUPWATCH_*, else the default; environment values parsed as the
/// command line parses them, and named when malformed.
@Suite("Settings")
struct SettingsTests {
    @Test func variablesAreTheLongNamesUnderTheDupwatchPrefix() {
        #expect(Settings.variable(for: "cart-gap") == "DUPWATCH_CART_GAP")
        #expect(Settings.variable(for: "redis-url") == "DUPWATCH_REDIS_URL")
        #expect(Settings.variable(for: "log-level") == "DUPWATCH_LOG_LEVEL")
        #expect(Settings.variable(for: "batch") == "DUPWATCH_BATCH")
    }

    @Test func theCommandLineWinsThenTheEnvironmentThenTheDefault() throws {
        var settings = Settings(environment: ["DUPWATCH_BATCH": "50", "DUPWATCH_CART_GAP": "90m"])
        #expect(try settings.value(7, "batch", default: 1000) == 7)
        #expect(try settings.value(Int?.none, "batch", default: 1000) == 50)
        #expect(try settings.value(Int?.none, "history-depth", default: 5) == 5)
        #expect(try settings.value(Duration?.none, "cart-gap", default: .seconds(4 * 3600)) == .seconds(90 * 60))
        #expect(try settings.value(Duration.milliseconds(1500), "cart-gap", default: .seconds(4 * 3600)) == .milliseconds(1500))
        #expect(try settings.value(Int?.none, "partitions") == nil)
    }

    /// A variable is found under the name `variable(for:)` gives, i.e. the name the help and
    /// docs/CONFIGURATION.md print.
    @Test func theVariableThatIsReadIsTheOneNamed() throws {
        for option in ["redis-url", "cart-gap", "event-id-retention", "alert-stream-max-length", "log-format"] {
            var settings = Settings(environment: [Settings.variable(for: option): "x"])
            #expect(try settings.value(String?.none, option) == "x", "\(option)")
        }
    }

    @Test func anEmptyVariableCountsAsUnset() throws {
        var settings = Settings(environment: ["DUPWATCH_CONSUMER": "", "DUPWATCH_BATCH": ""])
        #expect(try settings.value(String?.none, "consumer") == nil)
        #expect(try settings.value(Int?.none, "batch", default: 1000) == 1000)
    }

    @Test func environmentValuesAreParsedAsTheCommandLineParsesThem() throws {
        var settings = Settings(environment: ["DUPWATCH_LOG_LEVEL": "debug", "DUPWATCH_LOG_FORMAT": "json", "DUPWATCH_LEASE_TTL": "2d"])
        #expect(try settings.value(LogLevel?.none, "log-level", default: .info) == .debug)
        #expect(try settings.value(LogFormat?.none, "log-format", default: .text) == .json)
        #expect(try settings.value(Duration?.none, "lease-ttl", default: .seconds(10)) == .seconds(2 * 86_400))
    }

    /// What goes through the InMemoryProvider (the value's `defaultValueDescription`) reads
    /// back as the same value, for every type a dupwatch option has.
    @Test func commandLineValuesReadBackExactly() throws {
        var settings = Settings(environment: [:])
        for duration in [Duration.milliseconds(1500), .seconds(4 * 3600), .seconds(400 * 86_400), .zero, .milliseconds(1)] {
            #expect(try settings.value(duration, "cart-gap") == duration)
        }
        for number in [0, 1, -3, 1_000_000, Int.max] {
            #expect(try settings.value(number, "batch") == number)
        }
        for text in ["", "redis://u:p@h:1/2,redis://h2", " spaced ", "ünï"] {
            #expect(try settings.value(text, "redis-url") == text)
        }
        for level in LogLevel.allCases {
            #expect(try settings.value(level, "log-level") == level)
        }
        for format in LogFormat.allCases {
            #expect(try settings.value(format, "log-format") == format)
        }
    }

    @Test(arguments: [
        ("DUPWATCH_BATCH", "abc", "DUPWATCH_BATCH=abc: not an integer"),
        ("DUPWATCH_CART_GAP", "4 hours", "DUPWATCH_CART_GAP=4 hours: not a duration"),
        ("DUPWATCH_LOG_LEVEL", "verbose", "DUPWATCH_LOG_LEVEL=verbose: not one of trace, debug, info, notice, warning, error, critical"),
    ])
    func aMalformedVariableIsAUsageErrorNamingIt(variable: String, value: String, message: String) throws {
        var settings = Settings(environment: [variable: value])
        let error = #expect(throws: ValidationError.self) {
            switch variable {
            case "DUPWATCH_BATCH": _ = try settings.value(Int?.none, "batch", default: 1000)
            case "DUPWATCH_CART_GAP": _ = try settings.value(Duration?.none, "cart-gap", default: .seconds(1))
            default: _ = try settings.value(LogLevel?.none, "log-level", default: .info)
            }
        }
        #expect(error?.message.hasPrefix(message) == true, "\(String(describing: error?.message))")
    }

    @Test func aMalformedVariableDoesNotMatterWhenTheCommandLineGivesTheOption() throws {
        var settings = Settings(environment: ["DUPWATCH_BATCH": "abc"])
        #expect(try settings.value(5, "batch", default: 1000) == 5)
    }

    @Test func flagsReadOneTrueYesAndZeroFalseNo() throws {
        for (text, expected) in [("1", true), ("true", true), ("YES", true), ("0", false), ("False", false), ("no", false)] {
            var settings = Settings(environment: ["DUPWATCH_DRAIN": text])
            #expect(try settings.flag(nil, "drain") == expected, "\(text)")
            #expect(try settings.flag(!expected, "drain") == !expected, "the command line wins over \(text)")
        }
        var unset = Settings(environment: [:])
        #expect(try unset.flag(nil, "drain") == false)
        #expect(try unset.flag(nil, "copy-alerts", default: true) == true)
        var bad = Settings(environment: ["DUPWATCH_DRAIN": "maybe"])
        let error = #expect(throws: ValidationError.self) { try bad.flag(nil, "drain") }
        #expect(error?.message == "DUPWATCH_DRAIN=maybe: not a flag value (1, true, yes, 0, false or no)")
    }

    @Test func aRequiredOptionNamesBothWaysToGiveIt() throws {
        var settings = Settings(environment: [:])
        let error = #expect(throws: ValidationError.self) { try settings.required(Int?.none, "partitions") }
        #expect(error?.message == "Missing expected argument '--partitions' (or DUPWATCH_PARTITIONS)")
        var given = Settings(environment: ["DUPWATCH_PARTITIONS": "8"])
        #expect(try given.required(Int?.none, "partitions") == 8)
    }

    @Test func aFailedCheckIsWordedAfterWhereTheValueCameFrom() throws {
        var settings = Settings(environment: ["DUPWATCH_BATCH": "0", "DUPWATCH_HISTORY_DEPTH": "0"])
        _ = try settings.value(Int?.none, "batch", default: 1000)
        _ = try settings.value(3000, "history-depth", default: 5)
        #expect(settings.invalid("batch", "must be 1...100000").message == "DUPWATCH_BATCH=0: must be 1...100000")
        #expect(settings.invalid("history-depth", "must be 1...1000").message == "--history-depth must be 1...1000")
    }

    @Test func helpSaysTheDefaultAndTheVariable() {
        #expect(Settings.help("Entries read per stream per batch.", "batch", default: "1000").abstract
            == "Entries read per stream per batch. (default: 1000; env: DUPWATCH_BATCH)")
        #expect(Settings.help("The dead-letter stream.", "stream").abstract == "The dead-letter stream. (env: DUPWATCH_STREAM)")
    }
}
