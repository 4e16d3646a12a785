import TokenCore

/// How `tokend serve` runs: where it listens, where its secrets and audit log live.
///
/// Every field has its default here, and only here: the command line's help and
/// `serve --print-config` read them from a default value.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The secrets file; nil in `--dev` mode, which makes ephemeral secrets instead.
    public var secretsPath: String?
    /// The audit log file; nil when the audit goes to PostgreSQL alone.
    public var auditLogPath: String? = ServerSettings.defaultAuditLogPath
    public static let defaultAuditLogPath = "tokend-audit.jsonl"
    public var auditSync = AuditLog.SyncMode.durable
    /// The state journal (revocations, blocks, quota counts) of the embedded mode; nil with
    /// `--database`. By default beside the audit log.
    public var statePath: String?
    /// How often the audit chains' heads are logged when they moved (`--audit-head-interval`).
    public var auditHeadInterval: Duration = .seconds(60)
    /// Per-identity quota counters held at most (`--identity-quota-capacity`).
    public var identityQuotaCapacity = ControlState.defaultIdentityQuotaCapacity
    public var maximumSkew = CallerAuthenticator.defaultMaximumSkew

    public enum Scheme: String, Sendable, CaseIterable {
        case http, https
    }

    /// The scheme of tokend's own listener.
    public var listenerScheme: Scheme { tls == nil ? .http : .https }
    /// The scheme clients use to reach the service (`@target-uri` in RFC 9421 signatures), when
    /// it is not the listener's: `https` behind a TLS-terminating proxy (`--public-scheme`).
    public var publicScheme: Scheme?
    /// The scheme signatures are checked against first.
    public var clientScheme: Scheme { publicScheme ?? listenerScheme }
    /// The listener's scheme when clients use another: signatures over either verify, so callers
    /// through a TLS ingress and callers inside the cluster (plain HTTP to the Service) both sign
    /// the URL they call.
    public var alternateScheme: Scheme? { listenerScheme == clientScheme ? nil : listenerScheme }
    /// Connections held open at once; beyond it, new ones wait in the listen backlog, so a flood
    /// of idle connections cannot exhaust file descriptors.
    public var maximumConnections = 4096
    /// Connections held at once from one address (`--max-connections-per-ip`); more are closed
    /// at once, so one client cannot take every slot.
    public var maximumConnectionsPerAddress = 256
    /// A connection that has not sent a whole request head this long after opening (or after
    /// its last answer) is closed (`--header-timeout`).
    public var headerTimeout: Duration = .seconds(10)
    /// The whole request, head and body, is due this long after the connection opens or its
    /// last answer is written; a late body is answered 408 (`--request-timeout`). 30 s lets a
    /// slow mobile link send a 64 KiB body.
    public var requestTimeout: Duration = .seconds(30)
    /// Access-log lines written per second at most (`--access-log-rate`); the rest are counted,
    /// summarised in one line and in a metric, so a flood of requests cannot fill the disk.
    public var accessLogRate = 1000
    /// After SIGTERM, how long `/readyz` says `draining` while requests are still served, so load
    /// balancers stop sending before the listener closes (`--shutdown-delay`).
    public var shutdownDelay: Duration = .seconds(5)
    public var logFormat: LogFormat = .text
    /// How often to look for a changed secrets file and reload it (`--watch-secrets`); nil: only
    /// on SIGHUP.
    public var secretsWatchInterval: Duration?
    /// PEM files to serve HTTPS directly; nil serves plain HTTP (TLS at an ingress or proxy).
    public var tls: TLSFiles?

    public struct TLSFiles: Sendable {
        public let certificateChainPath: String
        public let privateKeyPath: String

        public init(certificateChainPath: String, privateKeyPath: String) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
        }
    }

    public static let maximumBodySize = 64 * 1024

    public init() {}
}
