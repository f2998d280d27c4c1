import Foundation
import TestSupport
import Testing

/// docs/CONFIGURATION.md has one table of every option of every command and its variable. The
/// commands and their options come from the built binary (`dupwatch --experimental-dump-help`),
/// so a new command or option fails here until it has its row.
@Suite("docs/CONFIGURATION.md")
struct ConfigurationDocTests {
    /// An option of a command as `--help` describes it.
    struct Option: CustomStringConvertible {
        var command: String
        var name: String
        /// The option a `--no-` flag turns off (`drain` for `no-drain`), else `name`: whose
        /// variable it is.
        var base: String
        var abstract: String
        var description: String { "\(command) --\(name)" }
    }

    /// A row of the table.
    struct Row: CustomStringConvertible {
        var commands: [String]
        /// The first name in the Option cell; `names`: all of them (`drain`, `no-drain`).
        var option: String
        var names: [String]
        var variable: String
        var defaultValue: String
        var description: String { "\(commands.joined(separator: ", ")) --\(option)" }

        func covers(_ command: String) -> Bool { commands == ["all"] || commands.contains(command) }
    }

    /// Every option of every (sub)command, from the binary's help dump.
    private func options() async throws -> [Option] {
        let dump = try await DupwatchProcess(["--experimental-dump-help"]).wait(timeout: 30)
        #expect(dump.exitedZero, "\(dump)")
        let tool = try #require(try parseJSON(dump.stdout) as? [String: Any])
        var found: [Option] = []
        func walk(_ command: [String: Any], path: [String]) {
            let name = command["commandName"] as? String ?? ""
            let here = path + [name]
            if here.count > 1 { // the root command itself has no options of its own
                for argument in command["arguments"] as? [[String: Any]] ?? [] {
                    // `--drain/--no-drain` is two arguments here, `drain` and `no-drain`.
                    let names = argument["names"] as? [[String: Any]] ?? []
                    guard argument["kind"] as? String != "positional", argument["shouldDisplay"] as? Bool != false,
                          let long = names.first(where: { $0["kind"] as? String == "long" })?["name"] as? String,
                          long != "help", long != "version" else { continue }
                    let command = here.dropFirst().joined(separator: " ")
                    let inverted = long.hasPrefix("no-") && found.last.map { $0.command == command && $0.name == long.dropFirst(3) } == true
                    found.append(Option(command: command, name: long, base: inverted ? String(long.dropFirst(3)) : long,
                                        abstract: argument["abstract"] as? String ?? ""))
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub, path: here) }
        }
        walk(try #require(tool["command"] as? [String: Any]), path: [])
        return found
    }

    /// The rows of the table whose header starts with `| Command(s) | Option | Variable |`.
    private func rows() throws -> [Row] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/CONFIGURATION.md")
        let lines = try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.firstIndex { $0.hasPrefix("| Command(s) | Option | Variable | Default | Meaning |") },
                                  "docs/CONFIGURATION.md has no table of options")
        func plain(_ cell: Substring) -> String { cell.replacingOccurrences(of: "`", with: "").trimmingCharacters(in: .whitespaces) }
        var rows: [Row] = []
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().map(plain)
            try #require(cells.count >= 5, "a row with fewer than five cells: \(line)")
            let names = cells[1].split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces).dropFirst(2)) }
            let option = try #require(names.first, "a row without an option: \(line)")
            rows.append(Row(commands: cells[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                            option: option, names: names, variable: cells[2], defaultValue: cells[3]))
        }
        return rows
    }

    /// `DUPWATCH_` and the long name in capitals, `-` as `_` (what `Settings` reads).
    private func variable(_ option: String) -> String {
        "DUPWATCH_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    @Test func everyOptionOfEveryCommandHasItsRowAndEveryRowAnOption() async throws {
        let options = try await options()
        let rows = try rows()
        #expect(Set(options.map(\.command)).isSuperset(of: ["worker", "route", "cart", "history", "check", "status",
                                                            "deadletter list", "deadletter replay", "deadletter drop", "partition"]),
                "the help dump lacks commands: \(Set(options.map(\.command)).sorted())")
        options.forEach { option in
            let matching = rows.filter { $0.names.contains(option.name) && $0.option == option.base && $0.covers(option.command) }
            #expect(matching.count == 1, "\(option): \(matching.count) rows in docs/CONFIGURATION.md, want exactly 1")
        }
        for row in rows {
            #expect(row.variable == variable(row.option), "\(row): the variable is \(variable(row.option)), not \(row.variable)")
            for name in row.names {
                if row.commands == ["all"] {
                    #expect(options.contains { $0.name == name }, "\(row): no command has --\(name)")
                } else {
                    for command in row.commands {
                        #expect(options.contains { $0.command == command && $0.name == name }, "\(row): `\(command)` has no --\(name)")
                    }
                }
            }
        }
    }

    /// `--help` says each option's variable and, where it has one, the default the table says.
    @Test func theHelpNamesEachVariableAndTheTablesDefault() async throws {
        let rows = try rows()
        try await options().forEach { option in
            #expect(option.abstract.contains("env: \(variable(option.base))"), "\(option): its help does not name its variable: \(option.abstract)")
            guard let start = option.abstract.range(of: "(default: ", options: .backwards),
                  let end = option.abstract.range(of: "; env: ", range: start.upperBound..<option.abstract.endIndex) else { return }
            let helpDefault = String(option.abstract[start.upperBound..<end.lowerBound])
            for row in rows where row.option == option.base && row.covers(option.command) {
                #expect(row.defaultValue == helpDefault, "\(option): the table says \(row.defaultValue), --help says \(helpDefault)")
            }
        }
    }
}
