import Synchronization

/// What tokens are still good for and how many more may be minted: the revocations, blocks and
/// quota counts of one instance, in memory for the request path (introspection and the block
/// check never wait on a disk or a database), made durable by the state journal (one instance)
/// or a shared store (replicas: PostgreSQL).
public final class ControlState: Sendable {
    fileprivate struct Tables {
        var revocations = RevocationSet()
        var quotas: QuotaCounters
        var lastPurge = 0
        /// The shared store's last event in force here: events apply once each, in its order.
        var sharedThrough = 0
    }

    /// Where the state is kept.
    private enum Home {
        /// Nothing survives a restart (tests; a change is refused outside them).
        case memory
        /// The embedded mode's state journal; quota counts are decided here, in memory.
        case journal(ControlJournal)
        /// Shared by every replica; quota counts are decided there, for all of them together.
        case shared(any SharedControlStore)
    }

    /// Per-identity quota counters held at most (see `QuotaCounters`).
    public static let defaultIdentityQuotaCapacity = 200_000
    /// A revoked entry is kept while a token it names could still be accepted somewhere: the
    /// longest lifetime plus the verifier's leeway for clock drift.
    public static let entryLifetime = TTLPolicy.maximum + JWTVerifier.defaultLeeway

    public typealias Completion = @Sendable (Result<Void, any Error>) -> Void

    fileprivate let tables: Mutex<Tables>
    private let home: Home

    /// Memory only (tests, `--dev` without a state file): nothing survives a restart.
    public init(identityQuotaCapacity: Int = defaultIdentityQuotaCapacity) {
        tables = Mutex(Tables(quotas: QuotaCounters(identityCapacity: identityQuotaCapacity)))
        home = .memory
    }

    /// Loads the journal at `journalPath` (creating it), drops what has expired, and keeps it.
    public init(journalPath: String, identityQuotaCapacity: Int = defaultIdentityQuotaCapacity,
                now: Int = WallClock.now()) throws(ControlJournal.Failure) {
        var loaded = Tables(quotas: QuotaCounters(identityCapacity: Int.max))
        let journal = try ControlJournal(path: journalPath, replay: { event in
            Self.apply(event, to: &loaded)
        }, compacted: {
            loaded.revocations.purge(now: now, maximumLifetime: Self.entryLifetime)
            loaded.quotas.purge(now: now)
            return Self.lines(of: loaded)
        })
        loaded.quotas = loaded.quotas.withCapacity(identityQuotaCapacity)
        loaded.lastPurge = now
        tables = Mutex(loaded)
        home = .journal(journal)
    }

    /// Kept in `store`, shared with other replicas; empty until the store applies its events
    /// (`applyShared`, before the server starts and then as they come).
    public init(shared store: any SharedControlStore) {
        tables = Mutex(Tables(quotas: QuotaCounters(identityCapacity: 0)))
        home = .shared(store)
    }

    /// Whether a change survives a restart (and, shared, reaches every replica).
    public var isDurable: Bool {
        if case .memory = home { return false }
        return true
    }

    // MARK: Mint-path checks

    /// Whether a block on `identity` is in force: no caller gets a token for it.
    public func isBlocked(_ identity: String, now: Int) -> Bool {
        tables.withLock { $0.revocations.block(for: identity, now: now) != nil }
    }

    public enum QuotaDecision: Sendable {
        /// Counted. `durability` is nil when the count is within what the journal already holds;
        /// otherwise the token waits for it (`QuotaDurability.wait`).
        case admitted(crossedWarning: Bool, durability: QuotaDurability?)
        case exceeded(Quota, resetsAt: Int)
        /// The per-identity table is full: refused rather than counted nowhere.
        case full
    }

    /// Reservations a token waits for before it may be released.
    public struct QuotaDurability: Sendable {
        fileprivate let reservations: [QuotaCounters.Reservation]
        fileprivate let state: ControlState

        /// `completion` runs once the journal holds the reservations (or failed to write them).
        public func wait(_ completion: @escaping Completion) {
            state.persist(reservations.map { .quotaCount($0.key, count: $0.upTo, exact: false) }) { [state, reservations] result in
                if case .success = result {
                    state.tables.withLock { tables in for reservation in reservations { tables.quotas.confirm(reservation) } }
                }
                completion(result)
            }
        }
    }

    /// Counts a token against the caller's quotas. In memory at once, so that concurrent mints
    /// see each other, with nothing to wait for when the count is within what the journal holds
    /// already; or, shared, by the store for every replica. `completion` runs on the calling
    /// thread before this returns, except for a shared store.
    public func countQuota(caller: Caller, identity: String, now: Int,
                           completion: @escaping @Sendable (Result<QuotaDecision, any Error>) -> Void) {
        guard case .shared(let store) = home else { return completion(.success(reserveQuota(caller: caller, identity: identity, now: now))) }
        let take = QuotaTake(caller: caller, identity: identity, now: now)
        store.count(take) { [self] outcome in
            completion(outcome.map { outcome in
                switch outcome {
                case .admitted(let callerCount):
                    guard let counter = take.caller else { return .admitted(crossedWarning: false, durability: nil) }
                    // This replica's view of the caller's use, for `/metrics`.
                    tables.withLock { $0.quotas.restore(counter.key, count: callerCount, exact: false) }
                    return .admitted(crossedWarning: callerCount == QuotaCounters.warningThreshold(counter.quota), durability: nil)
                case .callerExceeded:
                    guard let counter = take.caller else { return .full }
                    tables.withLock { $0.quotas.restore(counter.key, count: counter.quota.limit, exact: false) }
                    return .exceeded(counter.quota, resetsAt: counter.key.windowEnd)
                case .identityExceeded:
                    guard let counter = take.identity else { return .full }
                    return .exceeded(counter.quota, resetsAt: counter.key.windowEnd)
                case .full:
                    return .full
                }
            })
        }
    }

    private func reserveQuota(caller: Caller, identity: String, now: Int) -> QuotaDecision {
        let decision = tables.withLock { tables in
            Self.purgeIfDue(&tables, now: now)
            return tables.quotas.reserve(caller: caller, identity: identity, now: now)
        }
        switch decision {
        case .admitted(let reservations, let crossed):
            guard case .journal = home, !reservations.isEmpty else { return .admitted(crossedWarning: crossed, durability: nil) }
            return .admitted(crossedWarning: crossed, durability: QuotaDurability(reservations: reservations, state: self))
        case .exceeded(let quota, let resetsAt):
            return .exceeded(quota, resetsAt: resetsAt)
        case .full:
            return .full
        }
    }

    /// The tokens counted in the caller's current quota window.
    public func quotaUse(of caller: Caller, now: Int) -> Int? {
        guard let quota = caller.quota else { return nil }
        let key = QuotaKey(caller: caller.id, identity: nil, quota: quota, at: now)
        return tables.withLock { $0.quotas.count(key) }
    }

    // MARK: Introspection

    /// Whether a token that verified is nonetheless no longer good. `owns(callerID)` says whether
    /// that caller minted it.
    public func isRevoked(jti: String, identity: String, issuedAt: Int, now: Int, owns: (String) -> Bool) -> Bool {
        tables.withLock { $0.revocations.isRevoked(jti: jti, identity: identity, issuedAt: issuedAt, now: now, owns: owns) }
    }

    // MARK: Changes

    /// Makes `event` durable, then applies it; `completion` runs after both (or on failure,
    /// with nothing applied here).
    public func record(_ event: ControlEvent, completion: @escaping Completion) {
        if case .shared(let store) = home {
            // The store applies it, in its order: applying it here as well could undo a later
            // event another replica recorded meanwhile (an unblock after this block).
            return store.record([event], completion: completion)
        }
        persist([event]) { [self] result in
            if case .success = result {
                tables.withLock { Self.apply(event, to: &$0) }
            }
            completion(result)
        }
    }

    fileprivate func persist(_ events: [ControlEvent], completion: @escaping Completion) {
        guard case .journal(let journal) = home else { return completion(.success(())) }
        journal.append(events) { completion($0.mapError { $0 }) }
    }

    /// The shared store's events after `sharedThrough`, numbered in its order: each one is
    /// applied once, in that order, whoever fetched it (the poll, or a replica's own change). A
    /// nil event (a row that is not one) is passed over.
    public func applyShared(_ events: [(number: Int, event: ControlEvent?)], now: Int) {
        tables.withLock { tables in
            for (number, event) in events where number > tables.sharedThrough {
                if let event { Self.apply(event, to: &tables) }
                tables.sharedThrough = number
            }
            Self.purgeIfDue(&tables, now: now)
        }
    }

    /// The number of the shared store's last event in force here (0: none yet).
    public var sharedThrough: Int { tables.withLock { $0.sharedThrough } }

    /// A clean stop: the exact counts, so that the next start does not count the unused part of
    /// a reservation.
    public func writeExactCounts() throws(ControlJournal.Failure) {
        guard case .journal(let journal) = home else { return }
        let counts = tables.withLock { $0.quotas.counts }
        guard !counts.isEmpty else { return }
        try journal.appendNow(counts.map { .quotaCount($0.key, count: $0.value, exact: true) })
    }

    private static func apply(_ event: ControlEvent, to tables: inout Tables) {
        switch event {
        case .revokeToken(let jti, let identity, let scope, let expires):
            tables.revocations.revokeToken(jti: jti, identity: identity, scope: scope, expires: expires)
        case .revokeIdentity(let identity, let issuedBefore, let scope):
            tables.revocations.revokeIdentity(identity, issuedBefore: issuedBefore, scope: scope)
        case .block(let identity, let at, let until):
            tables.revocations.block(identity, at: at, until: until)
        case .unblock(let identity, let at):
            tables.revocations.unblock(identity, at: at)
        case .quotaCount(let key, let count, let exact):
            tables.quotas.restore(key, count: count, exact: exact)
        }
    }

    /// Expired entries go at most once a minute, on the request path's lock: the cost is one
    /// pass over the tables (measured in docs/benchmarks.md), the alternative unbounded growth.
    private static func purgeIfDue(_ tables: inout Tables, now: Int) {
        guard now - tables.lastPurge >= 60 else { return }
        tables.lastPurge = now
        tables.revocations.purge(now: now, maximumLifetime: entryLifetime)
        tables.quotas.purge(now: now)
    }

    /// Everything still in force, as journal lines (a compacted journal).
    private static func lines(of tables: Tables) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for (jti, entries) in tables.revocations.tokens {
            for entry in entries {
                lines.append(ControlEvent.revokeToken(jti: jti, identity: entry.identity, scope: entry.scope, expires: entry.expires).line())
            }
        }
        for (identity, entries) in tables.revocations.identities {
            for entry in entries {
                lines.append(ControlEvent.revokeIdentity(identity: identity, issuedBefore: entry.issuedBefore, scope: entry.scope).line())
            }
        }
        for (identity, block) in tables.revocations.blocks {
            lines.append(ControlEvent.block(identity: identity, at: block.at, until: block.until).line())
        }
        for (key, count) in tables.quotas.counts {
            lines.append(ControlEvent.quotaCount(key, count: count, exact: true).line())
        }
        return lines
    }
}
