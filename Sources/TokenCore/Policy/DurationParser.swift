/// Durations as operators write them: `3600` (seconds), `45s`, `90m`, `2h`, `1d`.
public enum DurationParser {
    public struct InvalidDuration: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "invalid duration '\(text)': use seconds (3600) or a number with s, m, h or d (90m, 2h, 1d)"
        }
    }

    public static func seconds(_ text: String) throws(InvalidDuration) -> Int {
        let trimmed = text.trimmingWhitespace
        var digits = Substring(trimmed)
        var unit = 1
        if let last = trimmed.last, !last.isNumber {
            switch last {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: throw InvalidDuration(text: text)
            }
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else {
            throw InvalidDuration(text: text)
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw InvalidDuration(text: text) }
        return product
    }
}
