import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization
import TokenCore

/// The running service's state: the current configuration (swapped whole on reload) and what
/// outlives a reload — the shared state (replay ledger, rate limits, audit sink, in memory and a
/// file or in PostgreSQL) and the denial coalescer.
public final class TokenService: Sendable {
    /// What a secrets file becomes once loaded: read together, replaced together. A class, so
    /// that every request's read of it is one retain.
    final class Configuration: Sendable {
        let secrets: Secrets
        let issuer: TokenIssuer
        let authenticator: CallerAuthenticator
        /// Introspection answers "valid now" (no leeway); revocation reaches every token some
        /// verifier may still accept (the usual leeway).
        let introspector: TokenIntrospector
        let revocationReader: TokenIntrospector
        /// `tokend_tokens_issued_total{caller}`, made when the callers are loaded: counting a
        /// token is then a dictionary read and an atomic add, no lock.
        let issuedCounters: [String: Counter]

        init(secrets: Secrets, issuer: TokenIssuer, authenticator: CallerAuthenticator, introspector: TokenIntrospector,
             revocationReader: TokenIntrospector, issuedCounters: [String: Counter]) {
            self.secrets = secrets
            self.issuer = issuer
            self.authenticator = authenticator
            self.introspector = introspector
            self.revocationReader = revocationReader
            self.issuedCounters = issuedCounters
        }

        func issuedCounter(_ callerID: String) -> Counter? { issuedCounters[callerID] }
    }

    public let settings: ServerSettings
    public let state: SharedState
    /// Revocations, blocks and quota counts (memory, kept durable by the state journal or shared
    /// through PostgreSQL).
    public let control: ControlState
    /// Services that run beside the server for the shared state (the PostgreSQL pool, the audit
    /// writer, the ledger purge), started before it and stopped after it.
    public let stateServices: [any Service]
    /// Why the shared state is unusable right now (for `/readyz`), beyond the audit sink's own check.
    let stateReadiness: @Sendable () async -> String?
    let coalescer = DenialCoalescer()
    /// An authenticated caller's 429s: one record per caller, reason and second, with a count.
    let throttled = DenialCoalescer(sliceSeconds: 1, groupedBy: .caller)
    let metrics: ServerMetrics
    let logger: Logger
    private let current: Mutex<Configuration>
    private let draining = Atomic<Bool>(false)
    /// Reloads run here, one at a time, never on the event loops or the cooperative pool that
    /// answer requests and probes: a large or hostile file takes its time alone.
    private let reloadThread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    public init(settings: ServerSettings, secrets: Secrets, state: SharedState, control: ControlState = ControlState(),
                stateServices: [any Service] = [], stateReadiness: @escaping @Sendable () async -> String? = { nil },
                metrics: ServerMetrics, logger: Logger) {
        self.settings = settings
        self.state = state
        self.control = control
        self.stateServices = stateServices
        self.stateReadiness = stateReadiness
        self.metrics = metrics
        self.logger = logger
        current = Mutex(Self.configuration(secrets, maximumSkew: settings.maximumSkew, metrics: metrics))
        metrics.secretsLoaded(succeeded: true)
        metrics.reportAuditHead { [state] in state.auditFile?.head.seq }
        metrics.reportQuotaUse { [weak self, control] in
            guard let callers = self?.configuration.secrets.callers else { return [] }
            let now = WallClock.now()
            return callers.compactMap { caller in
                guard let quota = caller.quota, let used = control.quotaUse(of: caller, now: now) else { return nil }
                return (caller.id, used, quota.limit)
            }
        }
    }

    private static func configuration(_ secrets: Secrets, maximumSkew: Int, metrics: ServerMetrics) -> Configuration {
        Configuration(secrets: secrets, issuer: TokenIssuer(secrets: secrets),
                      authenticator: CallerAuthenticator(secrets: secrets, maximumSkew: maximumSkew),
                      introspector: TokenIntrospector(secrets: secrets, leeway: 0),
                      revocationReader: TokenIntrospector(secrets: secrets, leeway: JWTVerifier.defaultLeeway),
                      issuedCounters: Dictionary(uniqueKeysWithValues: secrets.callers.map { ($0.id, metrics.issuedCounter(caller: $0.id)) }))
    }

    /// Shutdown has begun: `/readyz` answers 503 `draining` while requests are still served.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    func startDraining() {
        draining.store(true, ordering: .relaxed)
    }

    var configuration: Configuration { current.withLock { $0 } }

    /// `audit head seq=N link=HEX` (the file log) or `audit head instance=NAME seq=N link=HEX` (a
    /// chain in PostgreSQL): where each chain ends, kept outside it so that `audit verify --head`
    /// (`--heads` for the database) can tell whether records were cut from its end. Only heads
    /// that moved since `logged` (all of them when nil); returns the heads now.
    @discardableResult
    func logAuditHeads(unless logged: [AuditChainHead]? = nil) -> [AuditChainHead] {
        let heads = state.audit.chainHeads
        for head in heads where !(logged?.contains(head) ?? false) {
            var metadata: Logger.Metadata = ["seq": .stringConvertible(head.head.seq), "link": "\(head.head.link)"]
            if let instance = head.instance { metadata["instance"] = "\(instance)" }
            logger.notice("\(head.message)", metadata: metadata)
        }
        return heads
    }

    /// `reloadSecrets` on the reload thread (SIGHUP, `--watch-secrets`).
    @discardableResult
    func reloadSecretsInBackground() async -> Bool {
        (try? await reloadThread.runIfActive { self.reloadSecrets() }) ?? false
    }

    /// Reloads the secrets file (SIGHUP). A file that fails to load is reported and changes
    /// nothing: the running configuration stays.
    @discardableResult
    public func reloadSecrets() -> Bool {
        guard let path = settings.secretsPath else {
            logger.notice("reload requested; --dev has no secrets file to reload")
            return false
        }
        do throws(SecretsError) {
            let secrets = try SecretsLoader.load(path: path)
            let configuration = Self.configuration(secrets, maximumSkew: settings.maximumSkew, metrics: metrics)
            let previous = current.withLock { current in
                defer { current = configuration }
                return current
            }
            for (caller, counter) in previous.issuedCounters where configuration.issuedCounters[caller] == nil { metrics.forget(counter) }
            logger.notice("secrets reloaded", metadata: ["signing_keys": .stringConvertible(secrets.signingKeys.count), "callers": .stringConvertible(secrets.callers.count), "active_kid": "\(secrets.activeKey.kid)"])
            metrics.secretsLoaded(succeeded: true)
            return true
        } catch {
            logger.error("secrets reload failed; keeping the running configuration", metadata: ["error": "\(error.message)"])
            metrics.secretsLoaded(succeeded: false)
            return false
        }
    }

    /// Records a denial or rejection, coalescing repeats (see `DenialCoalescer`). The answer
    /// waits for the record like any other, but is sent even if the write fails: there is no
    /// token to withhold.
    func recordDenial(_ record: AuditRecord, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        // Unauthenticated denials, which anyone with the URL can send, are coalesced by source;
        // an authenticated caller's 429s, which a throttled client sends in a loop, by caller
        // (the first of each second is written before its answer, the rest counted). Any other
        // refusal of an authenticated caller (a bad request, a permission) is written like a
        // token, never folded into a summary that a crash within the slice would lose.
        let now = WallClock.now()
        let refusal = record.refusal
        let records = refusal?.actor == nil ? coalescer.admit(record, now: now)
            : refusal?.status == 429 ? throttled.admit(record, now: now)
            : [record]
        guard !records.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        let written = records.map { record in
            let promise = eventLoop.makePromise(of: Void.self)
            state.audit.append(record) { [logger] result in
                if case .failure(let error) = result {
                    logger.error("audit write failed for a denial", metadata: ["error": "\(error)"])
                }
                promise.succeed()
            }
            return promise.futureResult
        }
        return EventLoopFuture.andAllComplete(written, on: eventLoop)
    }

    /// Writes the counts of coalesced refusals whose time slice has ended (all of them when the
    /// service is stopping).
    func flushCoalescedDenials(all: Bool = false) async {
        let now = all ? Int.max : WallClock.now()
        for record in coalescer.flush(now: now) + throttled.flush(now: now) {
            try? await state.audit.append(record)
        }
    }
}
