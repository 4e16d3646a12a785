import Logging

/// swift-log's handler for `serve`: each message one line, in the `--log-format`, through the
/// buffered `LogOutput`. Warnings and errors are written at once.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let format: LogFormat
    private let output: LogOutput

    public init(format: LogFormat, output: LogOutput = .standardError) {
        self.format = format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = LogLine(format: format, level: event.level.rawValue, message: event.message.description)
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            // A number or a flag given as such (`.stringConvertible(count)`) stays one in JSON.
            if case .stringConvertible(let typed) = value, typed is any BinaryInteger || typed is Double || typed is Bool {
                line.field(named: key, raw: "\(typed)")
            } else {
                line.field(named: key, "\(value)")
            }
        }
        line.finish { output.write($0, urgent: event.level >= .warning) }
    }
}
