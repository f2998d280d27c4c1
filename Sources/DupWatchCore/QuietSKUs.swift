/// Reads the quiet SKUs of `--quiet-skus` (a comma-separated list) and `--quiet-skus-file` (one
/// SKU per line). Pure: the caller reads the file.
///
/// Each SKU is trimmed of spaces and tabs at both ends (inner spaces stay: `BANK CHARGES`) and
/// must be a valid `sku` (1-128 bytes of UTF-8 without control characters); it matches exactly,
/// case included. Empty items and blank lines are skipped; in a file, a line whose first
/// non-blank character is `#` is a comment (a `#` later in a line is part of the SKU).
public enum QuietSKUs {
    /// A SKU that is not a valid `sku`, and where it was.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based, in a file; nil in a list.
        public var line: Int?
        public var message: String
        public var description: String { line.map { "line \($0): \(message)" } ?? message }
    }

    /// `POST, DOT,BANK CHARGES` → `["POST", "DOT", "BANK CHARGES"]`.
    public static func parse(list: String) throws(ParseError) -> Set<String> {
        var out: Set<String> = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            if let sku = try sku(item, line: nil) { out.insert(sku) }
        }
        return out
    }

    /// One SKU per line (LF or CRLF); `#` comment lines and blank lines skipped.
    public static func parse(file text: String) throws(ParseError) -> Set<String> {
        var out: Set<String> = []
        // "\r\n" is one Character in Swift: both end a line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, line) in lines.enumerated() {
            if trimmed(line).hasPrefix("#") { continue }
            if let sku = try sku(line, line: index + 1) { out.insert(sku) }
        }
        return out
    }

    private static func sku(_ raw: Substring, line: Int?) throws(ParseError) -> String? {
        let text = trimmed(raw)
        guard !text.isEmpty else { return nil }
        do {
            return try FieldValidation.identifier(Array(text.utf8), field: "quiet SKU")
        } catch {
            throw ParseError(line: line, message: error.message)
        }
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return text[first...last]
    }
}
