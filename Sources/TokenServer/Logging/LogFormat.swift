/// `--log-format`: `text` (logfmt: `key=value`, a value quoted and escaped when it is not a
/// plain token, so every line stays machine-parseable) or `json` (one object per line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}
