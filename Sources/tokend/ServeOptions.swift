import Logging
import TokenCore
import TokenServer

/// Every option of `tokend serve`, declared once (see `OptionSpec`). Defaults that are values
/// are `ServerSettings`' own, so the help cannot name another.
enum ServeOptions {
    private static let defaults = ServerSettings()

    static let host = OptionSpec.text("host", valueName: "host", default: defaults.host, "Address to bind")
    static let port = OptionSpec.integer("port", valueName: "port", default: defaults.port, in: 0...65535, note: "0: any free port",
                                         "Port to listen on")
    static let auditLog = OptionSpec.text("audit-log", valueName: "path", default: ServerSettings.defaultAuditLogPath,
                                          note: "none with --database unless given", "The audit log, in JSON Lines")
    static let stateFile = OptionSpec.text("state-file", valueName: "path", note: "tokend-state.jsonl beside the audit log; not used with --database",
                                           "The state journal: revocations, blocks and quota counts, synced before each answer")
    static let identityQuotaCapacity = OptionSpec.integer(
        "identity-quota-capacity", valueName: "count", default: defaults.identityQuotaCapacity, in: 1...100_000_000,
        "Per-identity quota counters held at most; when full, mints that need a new one are refused")
    static let auditSync = OptionSpec<AuditLog.SyncMode>.choice(
        "audit-sync", valueName: "mode", default: defaults.auditSync,
        "durable: fdatasync before every answer; none: write only (survives a crash of tokend, not of the machine)")
    static let auditHeadInterval = OptionSpec.seconds(
        "audit-head-interval", default: defaults.auditHeadInterval, in: 0.1...86400,
        "Seconds between \"audit head\" log lines (only when a chain moved), kept outside the chain for audit verify --head/--heads")
    static let maxSkew = OptionSpec.integer("max-skew", valueName: "seconds", default: defaults.maximumSkew, in: 1...86400,
                                            "Seconds a signature's created may differ from the server clock")
    static let publicScheme = OptionSpec<ServerSettings.Scheme>.choice(
        "public-scheme", valueName: "scheme", default: nil, note: "the listener's: https with --tls-cert, else http",
        "The scheme clients use to reach tokend, for @target-uri in signatures: https behind a TLS-terminating proxy")
    static let maxConnections = OptionSpec.integer("max-connections", valueName: "count", default: defaults.maximumConnections, in: 1...1_000_000,
                                                   "Connections held at once; more wait in the listen backlog")
    static let maxConnectionsPerIP = OptionSpec.integer(
        "max-connections-per-ip", valueName: "count", default: defaults.maximumConnectionsPerAddress, in: 1...1_000_000,
        "Connections held at once from one address; more are closed at once")
    static let headerTimeout = OptionSpec.seconds(
        "header-timeout", default: defaults.headerTimeout, in: 0.001...3600,
        "Seconds a connection may take to send a whole request head, from opening or its last answer")
    static let requestTimeout = OptionSpec.seconds(
        "request-timeout", default: defaults.requestTimeout, in: 0.001...3600,
        "Seconds a connection may take to send a whole request, head and body, from opening or its last answer; a late body is answered 408")
    static let accessLogRate = OptionSpec.integer(
        "access-log-rate", valueName: "lines", default: defaults.accessLogRate, in: 1...1_000_000,
        "Access-log lines written per second at most; the rest are counted and summarised (dropped=N)")
    static let shutdownDelay = OptionSpec.seconds(
        "shutdown-delay", default: defaults.shutdownDelay, in: 0...3600, note: "0 with --dev",
        "Seconds /readyz reports draining, still serving, before the listener closes on SIGTERM")
    static let logFormat = OptionSpec<LogFormat>.choice("log-format", valueName: "format", default: defaults.logFormat,
                                                        "text (logfmt) or json, one line per event on stderr")
    static let logLevel = OptionSpec<Logger.Level>.choice("log-level", valueName: "level", default: .info,
                                                          "How much is logged; info writes one line per request")
    static let watchSecrets = OptionSpec.seconds(
        "watch-secrets", default: .zero, in: 0...86400, note: "only on SIGHUP",
        "Seconds between checks of the secrets file: reload it when it changes, as SIGHUP does")
    static let tlsCert = OptionSpec.text("tls-cert", valueName: "pem", "PEM certificate chain: serve HTTPS directly")
    static let tlsKey = OptionSpec.text("tls-key", valueName: "pem", "PEM private key for --tls-cert")
    static let instance = OptionSpec.text("instance", valueName: "name", note: "the host name", "This replica's name in shared records")
    static let pidFile = OptionSpec.text(
        "pid-file", valueName: "path",
        "Write this process's id here once it listens (removed at exit), for signals that must reach this instance only: kill -HUP \"$(cat PATH)\"")
    static let dev = FlagSpec(flag: "dev", summary: "Ephemeral secrets and one caller, for development; binds 127.0.0.1 only.")
}
