import Logging
import ServiceLifecycle
import TokenCore
import TokenPostgres
import TokenServer

/// The shared state `serve` runs with, chosen once at start-up: memory and the audit file (one
/// instance), or PostgreSQL (many), with the services that keep it running.
struct SharedStateSetup {
    let state: SharedState
    /// Revocations, blocks and quota counts when they are shared (nil: the embedded state journal).
    var control: ControlState?
    var services: [any Service] = []
    var readiness: @Sendable () async -> String? = { nil }

    static func postgres(_ url: DatabaseURL, instance: String, timeout: Duration, wait: Duration, settings: ServerSettings,
                         secrets: Secrets, auditLog: AuditLog?, metrics: ServerMetrics, logger: Logger) async throws -> SharedStateSetup {
        try await migrate(url, instance: instance, timeout: timeout, wait: wait, logger: logger)
        let store: PostgresStore
        do {
            store = try PostgresStore(url: url, applicationName: "tokend/\(instance)", timeout: timeout, observer: metrics, logger: logger)
        } catch {
            throw CommandFailure.usage(error.description)
        }
        let ledger = PostgresReplayLedger(store: store, maximumSkew: settings.maximumSkew)
        let auditChain = PostgresAuditSink(store: store, instance: instance, key: secrets.auditKey, logger: logger) { seconds, records, succeeded in
            metrics.auditCommitted(seconds: seconds, records: records, succeeded: succeeded)
        }
        let audit: any AuditSink = auditLog.map { MirroredAuditSink($0, auditChain) } ?? auditChain
        let rateLimiter = PostgresRateLimiter(store: store)
        let controlStore = PostgresControlStore(store: store, identityCapacity: settings.identityQuotaCapacity, logger: logger)
        let control = ControlState(shared: controlStore)
        let probe = DatabaseProbe(store: store, instance: instance, observer: metrics) { auditChain.chainHeads.first?.head }
        try await prepare(control, from: controlStore, probe: probe, url: url, instance: instance, timeout: timeout, logger: logger)
        return SharedStateSetup(
            state: SharedState(replayLedger: ledger, rateLimiter: rateLimiter, audit: audit, auditFile: auditLog),
            control: control,
            // The pool first, so it is the last to stop: the audit writer drains into it.
            services: [store, auditChain, ledger, rateLimiter, controlStore, ReplayLedgerPurge(ledger: ledger, logger: logger),
                       probe],
            readiness: { store.readinessProblem() })
    }

    /// Before the first request: every revocation and block in force (a replica that starts must
    /// not issue a token for an identity another one blocked) and a first write probe (so the
    /// first `/readyz` knows). With a pool of its own: the serving pool starts with the services.
    private static func prepare(_ control: ControlState, from controlStore: PostgresControlStore, probe: DatabaseProbe, url: DatabaseURL,
                                instance: String, timeout: Duration, logger: Logger) async throws {
        do {
            try await PostgresStore.withTemporaryClient(url: url, applicationName: "tokend/\(instance)", timeout: timeout, logger: logger) { store in
                try await controlStore.load(into: control, using: store)
                await probe.probe(through: store)
            }
        } catch {
            throw CommandFailure.usage("cannot read the revocations and blocks from \(url): \(PostgresStore.describe(error))")
        }
    }

    /// Creates or upgrades the schema (under the advisory lock), retrying while the database is
    /// not reachable yet — it may be starting beside tokend — for up to `wait`; an error that
    /// waiting cannot mend stops at once.
    private static func migrate(_ url: DatabaseURL, instance: String, timeout: Duration, wait: Duration, logger: Logger) async throws {
        let deadline = ContinuousClock.now + wait
        var lastError = ""
        repeat {
            do {
                let outcome = try await PostgresStore.withTemporaryClient(url: url, applicationName: "tokend/\(instance)", timeout: timeout,
                                                                          logger: logger) { store in
                    try await SchemaMigrator.migrate(store)
                }
                logger.notice("shared state in PostgreSQL", metadata: [
                    "database": "\(url)", "instance": "\(instance)", "schema_version": .stringConvertible(outcome.to),
                    "migrated_from": "\(outcome.from)"])
                return
            } catch let error as SchemaMigrator.NewerSchema {
                throw CommandFailure.usage("\(url): \(error)")
            } catch let error as DatabaseURL.Invalid {
                throw CommandFailure.usage(error.description)
            } catch {
                lastError = PostgresStore.describe(error)
                // The server answered, and the answer will not change by waiting (no rights, no
                // such database, a wrong password): stop now rather than retry for --database-wait.
                guard PostgresStore.meansUnavailable(error) else {
                    throw CommandFailure.usage("cannot prepare the database \(url): \(lastError)")
                }
                guard ContinuousClock.now < deadline else { break }
                logger.warning("database not ready; retrying", metadata: ["database": "\(url)", "error": "\(lastError)"])
                try await Task.sleep(for: .seconds(1))
            }
        } while ContinuousClock.now < deadline
        throw CommandFailure.usage("cannot prepare the database \(url) (waited \(wait)): \(lastError)")
    }
}
