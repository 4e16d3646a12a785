/// The Prometheus text exposition format (0.0.4) for the request families, which `HTTPMetrics`
/// keeps in a lock-free table of its own (the registry's histograms take a lock per observation and
/// write every series they hold; these are recorded on every request and written only once
/// counted). Every other family is the registry's. Label values here come from fixed tables — the
/// routes and the status codes — so none needs escaping: writing one that does is a programming
/// error, caught here, not a second escaping path.
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

    private mutating func appendLabels(_ labels: [(String, String)]) {
        guard !labels.isEmpty else { return }
        append("{")
        for (index, (name, value)) in labels.enumerated() {
            if index > 0 { append(",") }
            precondition(!value.utf8.contains { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == 0x0A },
                         "a label value of the request families needs no escaping")
            append("\(name)=\"\(value)\"")
        }
        append("}")
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
