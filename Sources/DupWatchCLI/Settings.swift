public import ArgumentParser
import Configuration
import Foundation

/// Where a `dupwatch` option's value comes from: the command line, else its `DUPWATCH_*`
/// environment variable, else the command's default. Every option of every subcommand is read
/// through this type, so that a systemd `EnvironmentFile` can configure any command.
///
/// It follows swift-configuration's guide "Integrating with swift-argument-parser": the value
/// parsed from the command line goes into an `InMemoryProvider` at the front of a
/// `ConfigReader`, then an `EnvironmentVariablesProvider`, then the default. The variable of an
/// option is derived from its long name: `--cart-gap` reads `DUPWATCH_CART_GAP` (the provider's
/// mapping of the key `dupwatch.cart-gap`; `Settings.variable(for:)` spells it).
///
/// How a command uses it:
///
///     // 1. Declare the option optional, without an ArgumentParser default (a default would
///     //    hide the environment), and say its default and variable in the help:
///     @Option(help: Settings.help("Entries read per stream per batch.", "batch", default: "1000"))
///     var batch: Int?
///     @Flag(inversion: .prefixedNo, help: Settings.help("Process everything available, then exit 0.", "drain", default: "off"))
///     var drain: Bool?            // --drain / --no-drain; DUPWATCH_DRAIN=1|true|yes|0|false|no
///
///     // 2. Resolve, in validate() (so that a bad value is a usage error before run()) and in run():
///     var settings = Settings()
///     let batch = try settings.value(self.batch, "batch", default: 1000)
///     let drain = try settings.flag(self.drain, "drain")
///     let partitions = try settings.value(self.partitions, "partitions")          // Int?: no default
///     let items = try settings.required(self.items, "items")                      // must be given one way
///     guard (1...100_000).contains(batch) else { throw settings.invalid("batch", "must be 1...100000") }
///
/// Values from the environment are parsed exactly as on the command line (the type's
/// `ExpressibleByArgument.init(argument:)`); a malformed one is a `ValidationError` (a usage
/// error, exit 64) that names the variable: `DUPWATCH_BATCH=abc: not an integer`. Flags read
/// `1`, `true`, `yes` and `0`, `false`, `no` (any case). An empty variable counts as unset, so
/// that `DUPWATCH_CONSUMER=` in an environment file means "the default". `invalid(_:_:)` words
/// a failed check on a resolved value after where it came from: `--batch must be 1...100000`,
/// or `DUPWATCH_BATCH=0: must be 1...100000`.
///
/// A value given on the command line is handed to the `InMemoryProvider` as its
/// `defaultValueDescription` and read back with `init(argument:)`: integers, strings, `String`
/// enums and `Duration` (whose description is `4h`, `1500ms`) read back exactly (tested).
///
/// docs/CONFIGURATION.md lists every option and its variable; a test keeps it complete.
public struct Settings: Sendable {
    /// The first component of every key, hence the variables' prefix (`DUPWATCH_`).
    public static let namespace = "dupwatch"

    private let environment: EnvironmentVariablesProvider
    /// The options whose value came from the environment, with the text it had.
    private var fromEnvironment: [String: String] = [:]

    /// Reads the process's environment.
    public init() {
        self.init(environment: ProcessInfo.processInfo.environment)
    }

    /// Reads `environment` instead of the process's (tests).
    public init(environment: [String: String]) {
        // An empty variable counts as unset.
        self.environment = EnvironmentVariablesProvider(environmentVariables: environment.filter { !$0.value.isEmpty })
    }

    /// The environment variable of the long option `option` (without dashes): `cart-gap` →
    /// `DUPWATCH_CART_GAP`.
    public static func variable(for option: String) -> String {
        (namespace + "_" + option).uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// A help text that ends with the default and the variable: "Entries read per stream per
    /// batch. (default: 1000; env: DUPWATCH_BATCH)". `default` is what to show (a value, or
    /// words such as "the stored count, else 1"); nil shows none.
    public static func help(_ abstract: String, _ option: String, default: String? = nil) -> ArgumentHelp {
        ArgumentHelp("\(abstract) (\(`default`.map { "default: \($0); " } ?? "")env: \(variable(for: option)))")
    }

    /// `option`'s value: `parsed` (from the command line) when given, else its variable's,
    /// else nil. Throws a `ValidationError` naming the variable when its value is malformed.
    public mutating func value<Value: ExpressibleByArgument>(_ parsed: Value?, _ option: String) throws -> Value? {
        guard let text = lookUp(parsed.map(\.defaultValueDescription), option) else { return nil }
        if let value = Value(argument: text) { return value }
        // The command line's value always reads back (see above); should one not, it still wins.
        if let parsed { return parsed }
        throw ValidationError("\(Self.variable(for: option))=\(text): \(Self.expectation(of: Value.self))")
    }

    /// `option`'s value: the command line, else its variable, else `default`.
    public mutating func value<Value: ExpressibleByArgument>(_ parsed: Value?, _ option: String, default: Value) throws -> Value {
        try value(parsed, option) ?? `default`
    }

    /// An option that must be given on the command line or in its variable: a usage error
    /// saying both when it is neither.
    public mutating func required<Value: ExpressibleByArgument>(_ parsed: Value?, _ option: String) throws -> Value {
        guard let value = try value(parsed, option) else {
            throw ValidationError("Missing expected argument '--\(option)' (or \(Self.variable(for: option)))")
        }
        return value
    }

    /// A flag (`--drain` / `--no-drain`, declared `Bool?` with `inversion: .prefixedNo`): the
    /// command line, else its variable (`1`, `true`, `yes`, `0`, `false`, `no`), else `default`.
    public mutating func flag(_ parsed: Bool?, _ option: String, default: Bool = false) throws -> Bool {
        guard let text = lookUp(parsed.map { $0 ? "true" : "false" }, option) else { return `default` }
        switch text.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw ValidationError("\(Self.variable(for: option))=\(text): not a flag value (1, true, yes, 0, false or no)")
        }
    }

    /// A usage error for a resolved value that fails a check, worded after where the value came
    /// from: "--batch must be 1...100000", or "DUPWATCH_BATCH=0: must be 1...100000".
    public func invalid(_ option: String, _ problem: String) -> ValidationError {
        if let text = fromEnvironment[option] {
            return ValidationError("\(Self.variable(for: option))=\(text): \(problem)")
        }
        return ValidationError("--\(option) \(problem)")
    }

    /// The text of `option`: the command line's (`argument`), else the environment's; the
    /// providers in the order that decides.
    private mutating func lookUp(_ argument: String?, _ option: String) -> String? {
        let key = AbsoluteConfigKey([Self.namespace, option])
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "arguments", values: argument.map { [key: ConfigValue(.string($0), isSecret: false)] } ?? [:]),
            environment,
        ])
        let text = reader.string(forKey: ConfigKey([Self.namespace, option]))
        fromEnvironment[option] = argument == nil ? text : nil
        return text
    }

    /// What a malformed value of `Value` should have been.
    private static func expectation<Value: ExpressibleByArgument>(of type: Value.Type) -> String {
        if type is any BinaryInteger.Type { return "not an integer" }
        if type is Duration.Type { return "not a duration (4h, 90m, 30s, 1500ms, 2d, or a number of milliseconds)" }
        if !type.allValueStrings.isEmpty { return "not one of \(type.allValueStrings.joined(separator: ", "))" }
        return "not a valid value"
    }
}
