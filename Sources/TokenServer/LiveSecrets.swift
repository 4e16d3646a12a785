import Logging
import NIOPosix
import Prometheus
import Synchronization
import TokenCore

/// What a secrets file becomes once loaded: read together, replaced together. A class, so that
/// every request's read of it is one retain.
final class LoadedSecrets: Sendable {
    let secrets: Secrets
    let issuer: TokenIssuer
    let authenticator: CallerAuthenticator
    /// Introspection answers "valid now" (no leeway); revocation reaches every token some
    /// verifier may still accept (the usual leeway).
    let introspector: TokenIntrospector
    let revocationReader: TokenIntrospector
    /// `tokend_tokens_issued_total{caller}`, made when the callers are loaded: counting a token
    /// is then a dictionary read and an atomic add, no lock.
    let issuedCounters: [String: Counter]

    init(_ secrets: Secrets, maximumSkew: Int, metrics: ServerMetrics) {
        self.secrets = secrets
        issuer = TokenIssuer(secrets: secrets)
        authenticator = CallerAuthenticator(secrets: secrets, maximumSkew: maximumSkew)
        introspector = TokenIntrospector(secrets: secrets, leeway: 0)
        revocationReader = TokenIntrospector(secrets: secrets, leeway: JWTVerifier.defaultLeeway)
        issuedCounters = Dictionary(uniqueKeysWithValues: secrets.callers.map { ($0.id, metrics.issuedCounter(caller: $0.id)) })
    }

    func issuedCounter(_ callerID: String) -> Counter? { issuedCounters[callerID] }
}

/// The loaded secrets that requests read now, and their replacement: a reload (SIGHUP,
/// `--watch-secrets`) loads the file again and swaps it in whole, or, when the file does not
/// load, reports why and keeps the running one.
final class LiveSecrets: Sendable {
    private let path: String?
    private let maximumSkew: Int
    private let metrics: ServerMetrics
    private let logger: Logger
    private let loaded: Mutex<LoadedSecrets>
    /// Reloads run here, one at a time, never on the event loops or the cooperative pool that
    /// answer requests and probes: a large or hostile file takes its time alone.
    private let reloadThread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// `path` is where a reload reads from; nil for `--dev`, which has no file.
    init(_ secrets: Secrets, path: String?, maximumSkew: Int, metrics: ServerMetrics, logger: Logger) {
        self.path = path
        self.maximumSkew = maximumSkew
        self.metrics = metrics
        self.logger = logger
        loaded = Mutex(LoadedSecrets(secrets, maximumSkew: maximumSkew, metrics: metrics))
        metrics.secretsLoaded(succeeded: true)
    }

    var current: LoadedSecrets { loaded.withLock { $0 } }

    /// `reload` on the reload thread.
    @discardableResult
    func reloadInBackground() async -> Bool {
        (try? await reloadThread.runIfActive { self.reload() }) ?? false
    }

    @discardableResult
    func reload() -> Bool {
        guard let path else {
            logger.notice("reload requested; --dev has no secrets file to reload")
            return false
        }
        do throws(SecretsError) {
            let secrets = try SecretsLoader.load(path: path)
            let replacement = LoadedSecrets(secrets, maximumSkew: maximumSkew, metrics: metrics)
            let previous = loaded.withLock { loaded in
                defer { loaded = replacement }
                return loaded
            }
            for (caller, counter) in previous.issuedCounters where replacement.issuedCounters[caller] == nil { metrics.forget(counter) }
            logger.notice("secrets reloaded", metadata: ["signing_keys": .stringConvertible(secrets.signingKeys.count), "callers": .stringConvertible(secrets.callers.count), "active_kid": "\(secrets.activeKey.kid)"])
            metrics.secretsLoaded(succeeded: true)
            return true
        } catch {
            logger.error("secrets reload failed; keeping the running configuration", metadata: ["error": "\(error.message)"])
            metrics.secretsLoaded(succeeded: false)
            return false
        }
    }
}
