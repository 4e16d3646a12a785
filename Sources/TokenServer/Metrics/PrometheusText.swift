/// Builds the Prometheus text exposition format (0.0.4) for the families tokend records itself.
struct PrometheusText {
    private(set) var bytes: [UInt8] = []

    mutating func family(_ name: String, type: String, help: String) {
        append("# HELP \(name) \(help)\n# TYPE \(name) \(type)\n")
    }

    mutating func sample(_ name: String, labels: [(String, String)], value: Double) {
        append(name)
        appendLabels(labels)
        append(" \(Self.format(value))\n")
    }

    mutating func histogram(_ name: String, labels: [(String, String)], bounds: [Double], cumulative: [Int], sum: Double) {
        for (index, count) in cumulative.enumerated() {
            // As swift-prometheus writes its bounds ("1.0", "0.005"), so that every histogram reads alike.
            let bound = index < bounds.count ? "\(bounds[index])" : "+Inf"
            sample(name + "_bucket", labels: labels + [("le", bound)], value: Double(count))
        }
        sample(name + "_sum", labels: labels, value: sum)
        sample(name + "_count", labels: labels, value: Double(cumulative.last ?? 0))
    }

    mutating func append(_ text: String) {
        bytes += text.utf8
    }

    mutating func append(_ other: [UInt8]) {
        bytes += other
    }

    private mutating func appendLabels(_ labels: [(String, String)]) {
        guard !labels.isEmpty else { return }
        append("{")
        for (index, (name, value)) in labels.enumerated() {
            if index > 0 { append(",") }
            append("\(name)=\"\(Self.escape(value))\"")
        }
        append("}")
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    /// Label values escape backslash, double quote and line feed.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
