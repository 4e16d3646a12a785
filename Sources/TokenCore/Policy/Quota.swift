/// `quota = "N/window"`: how many tokens may be minted in each fixed UTC window (a minute, an
/// hour, a day), all replicas together.
public struct Quota: Sendable, Hashable, CustomStringConvertible {
    public enum Window: String, Sendable, CaseIterable {
        case minute, hour, day

        public var seconds: Int {
            switch self {
            case .minute: 60
            case .hour: 3600
            case .day: 86400
            }
        }
    }

    public let limit: Int
    public let window: Window

    public init(limit: Int, window: Window) {
        self.limit = limit
        self.window = window
    }

    /// Parses `"48/day"`; nil for anything else (the loader names the field).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].allSatisfy(\.isASCII), let limit = Int(parts[0]), limit > 0,
              let window = Window(rawValue: String(parts[1])) else { return nil }
        self.init(limit: limit, window: window)
    }

    /// The start of the window that holds `now` (Unix seconds; UTC windows align on the epoch).
    public func windowStart(at now: Int) -> Int {
        now - ((now % window.seconds) + window.seconds) % window.seconds
    }

    public func windowEnd(at now: Int) -> Int { windowStart(at: now) + window.seconds }

    public var description: String { "\(limit)/\(window.rawValue)" }
}
