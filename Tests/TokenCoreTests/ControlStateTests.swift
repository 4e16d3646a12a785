import Synchronization
import Foundation
import Testing
import TestSupport
@testable import TokenCore

/// Revocations, blocks and quota counts as values, and their journal on a real file.
struct ControlStateTests {
    static let now = 1_796_300_000  // 2026-12-03T10:53:20Z

    static func caller(quota: String? = nil, identityQuota: String? = nil) -> Caller {
        Caller(id: "c", apiKeySHA256: SHA256.hash("k"), grants: [], quota: quota.flatMap(Quota.init(parsing:)),
               identityQuota: identityQuota.flatMap(Quota.init(parsing:)))
    }

    @Test func quotasParseAndAlignOnUTCWindows() throws {
        #expect(Quota(parsing: "48/day") == Quota(limit: 48, window: .day))
        #expect(Quota(parsing: "1/minute")?.window == .minute)
        for bad in ["", "48", "48/week", "0/day", "-1/day", "4.5/day", "48/Day", " 48/day", "48/day/", "٤/day"] {
            #expect(Quota(parsing: bad) == nil, "\(bad)")
        }
        let day = Quota(limit: 1, window: .day)
        #expect(day.windowStart(at: Self.now) == 1_796_256_000)
        #expect(Timestamp.rfc3339(unixSeconds: day.windowEnd(at: Self.now)) == "2026-12-04T00:00:00Z")
        #expect(Quota(limit: 1, window: .hour).windowStart(at: Self.now) == 1_796_299_200)
        #expect(Quota(limit: 1, window: .minute).windowStart(at: Self.now) == 1_796_299_980)
    }

    @Test func theSecretsFileCarriesPermissionsAndQuotas() throws {
        let toml = SampleSecrets.toml + """
        [[callers]]
        id = "rs"
        api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex("tkd_another-key-for-this-test-only-0123"))"
        permissions = ["introspect"]
        quota = "100/hour"
        identity_quota = "3/minute"

        """
        let secrets = try SecretsLoader.parse(toml: toml)
        let rs = try #require(secrets.caller(id: "rs"))
        #expect(rs.permissions == [.introspect])
        #expect(rs.quota == Quota(limit: 100, window: .hour))
        #expect(rs.identityQuota == Quota(limit: 3, window: .minute))
        #expect(try #require(secrets.caller(id: "web")).permissions == [.mint, .revoke])
        for (line, bad, message) in [("permissions = [\"introspect\"]", "permissions = [\"mint\", \"admin\"]", "permissions has \"admin\""),
                                     ("quota = \"100/hour\"", "quota = \"10/week\"", "quota must be"),
                                     ("identity_quota = \"3/minute\"", "identity_quota = 5", "identity_quota must be a string")] {
            do {
                _ = try SecretsLoader.parse(toml: toml.replacingOccurrences(of: line, with: bad))
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.message.contains("callers[1] (id \"rs\")") && error.message.contains(message), "\(error.message)")
            }
        }
    }

    @Test func quotaCountersAdmitExactlyTheLimitAndWarnOnce() {
        var counters = QuotaCounters(identityCapacity: 10)
        let caller = Self.caller(quota: "5/day", identityQuota: "2/day")
        var warnings = 0
        var admitted = 0
        for index in 0..<8 {
            switch counters.reserve(caller: caller, identity: "user-\(index % 3)", now: Self.now) {
            case .admitted(_, let crossed): admitted += 1; if crossed { warnings += 1 }
            case .exceeded(let quota, let resetsAt): #expect(resetsAt == 1_796_342_400, "\(quota)")
            case .full: Issue.record("not full")
            }
        }
        #expect(admitted == 5)
        #expect(warnings == 1)
        // The next day's window starts empty; the purge drops yesterday's counters.
        let nextDay = QuotaKey(caller: "c", identity: nil, windowStart: 1_796_342_400, windowSeconds: 86400)
        let nextDayAlice = QuotaKey(caller: "c", identity: "user-0", windowStart: 1_796_342_400, windowSeconds: 86400)
        #expect(counters.reserve(caller: caller, identity: "user-0", now: Self.now + 86400) == .admitted(
            [.init(key: nextDay, upTo: 1), .init(key: nextDayAlice, upTo: 1)], crossedWarning: false))
        counters.purge(now: Self.now + 86400)
        #expect(counters.counts.count == 2 && counters.identityEntries == 1)
    }

    @Test func quotasNearIntMaxDoNotTrap() {
        var counters = QuotaCounters(identityCapacity: 10)
        let caller = Self.caller(quota: "\(Int.max)/day", identityQuota: "\(Int.max)/minute")
        if case .admitted(let reservations, _) = counters.reserve(caller: caller, identity: "a", now: Self.now) {
            #expect(reservations.allSatisfy { $0.upTo == Int.max / 100 })
        } else { Issue.record("refused") }
        #expect(QuotaCounters.warningThreshold(Quota(limit: Int.max, window: .day)) > Int.max / 10 * 8)
        #expect(QuotaCounters.warningThreshold(Quota(limit: 48, window: .day)) == 39)
        #expect(QuotaCounters.warningThreshold(Quota(limit: 10, window: .day)) == 9)
    }

    /// A large quota is made durable in steps of 1 %: one journal write per step, not per token.
    @Test func largeQuotasAreReservedInSteps() {
        var counters = QuotaCounters(identityCapacity: 10)
        let caller = Self.caller(quota: "1000/day")
        let key = QuotaKey(caller: "c", identity: nil, windowStart: 1_796_256_000, windowSeconds: 86400)
        var writes: [Int] = []
        for _ in 0..<25 {
            guard case .admitted(let reservations, _) = counters.reserve(caller: caller, identity: "a", now: Self.now) else { Issue.record("refused"); return }
            for reservation in reservations {
                writes.append(reservation.upTo)
                counters.confirm(reservation)
            }
        }
        #expect(writes == [10, 20, 30])
        #expect(counters.count(key) == 25)
        // Until the journal confirms, every token waits (and asks again: the journal keeps the highest).
        var pending = QuotaCounters(identityCapacity: 10)
        for _ in 0..<3 {
            guard case .admitted(let reservations, _) = pending.reserve(caller: caller, identity: "a", now: Self.now) else { return }
            #expect(reservations == [.init(key: key, upTo: 10)])
        }
        // Replay: a reservation is an upper bound (max); an exact count from a clean stop sets it.
        var replayed = QuotaCounters(identityCapacity: 10)
        replayed.restore(key, count: 30, exact: false)
        replayed.restore(key, count: 20, exact: false)
        #expect(replayed.count(key) == 30)
        replayed.restore(key, count: 25, exact: true)
        #expect(replayed.count(key) == 25)
    }

    @Test func aFullIdentityTableRefusesNewIdentitiesAndChangesNothing() {
        var counters = QuotaCounters(identityCapacity: 2)
        let caller = Self.caller(quota: "100/day", identityQuota: "5/day")
        _ = counters.reserve(caller: caller, identity: "a", now: Self.now)
        _ = counters.reserve(caller: caller, identity: "b", now: Self.now)
        let before = counters.counts
        #expect(counters.reserve(caller: caller, identity: "c", now: Self.now) == .full)
        #expect(counters.counts == before, "a refused mint was counted")
        if case .admitted = counters.reserve(caller: caller, identity: "a", now: Self.now) {} else { Issue.record("a known identity was refused") }
    }

    @Test func revocationsMatchByTokenJTIIdentityAndScope() {
        var set = RevocationSet()
        let mine: (String) -> Bool = { $0 == "web" }
        set.revokeToken(jti: "j1", identity: nil, scope: nil, expires: Self.now + 60)
        set.revokeToken(jti: "SK1-100", identity: "alice", scope: nil, expires: Self.now + 60)
        set.revokeToken(jti: "j2", identity: nil, scope: "other", expires: Self.now + 60)
        set.revokeIdentity("carol", issuedBefore: Self.now, scope: nil)
        #expect(set.isRevoked(jti: "j1", identity: "x", issuedAt: 0, now: Self.now, owns: mine))
        #expect(set.isRevoked(jti: "SK1-100", identity: "alice", issuedAt: 0, now: Self.now, owns: mine))
        #expect(!set.isRevoked(jti: "SK1-100", identity: "bob", issuedAt: 0, now: Self.now, owns: mine), "a Twilio jti is narrowed by identity")
        #expect(!set.isRevoked(jti: "j2", identity: "x", issuedAt: 0, now: Self.now, owns: mine), "other's revocation reached web's token")
        #expect(set.isRevoked(jti: "j2", identity: "x", issuedAt: 0, now: Self.now, owns: { $0 == "other" }))
        #expect(set.isRevoked(jti: "z", identity: "carol", issuedAt: Self.now - 1, now: Self.now, owns: mine))
        #expect(!set.isRevoked(jti: "z", identity: "carol", issuedAt: Self.now, now: Self.now, owns: mine))
        // A block ends earlier tokens and stops; its end lets new ones be.
        set.block("mallory", at: Self.now, until: Self.now + 100)
        #expect(set.block(for: "mallory", now: Self.now + 99) != nil)
        #expect(set.block(for: "mallory", now: Self.now + 100) == nil)
        #expect(set.isRevoked(jti: "z", identity: "mallory", issuedAt: Self.now, now: Self.now + 200, owns: mine))
        #expect(!set.isRevoked(jti: "z", identity: "mallory", issuedAt: Self.now + 150, now: Self.now + 200, owns: mine))
        // Entries go once no token they name can be alive.
        set.purge(now: Self.now + 61, maximumLifetime: ControlState.entryLifetime)
        #expect(set.tokenCount == 0 && set.identities.count == 2)
        set.purge(now: Self.now + 1 + ControlState.entryLifetime, maximumLifetime: ControlState.entryLifetime)
        #expect(set.identities.isEmpty && set.blocks.isEmpty)
    }

    @Test func theJournalSurvivesARestartDropsATornLineAndCompacts() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("state.jsonl").path
        let caller = Self.caller(quota: "10/day", identityQuota: "3/day")
        let first = try ControlState(journalPath: path, now: Self.now)
        for event: ControlEvent in [.revokeToken(jti: "j1", identity: nil, scope: nil, expires: Self.now + 3600),
                                    .revokeToken(jti: "gone", identity: nil, scope: nil, expires: Self.now + 1),
                                    .block(identity: "mallory", at: Self.now, until: nil)] {
            try await Self.record(event, in: first)
        }
        for _ in 0..<3 { try await Self.reserve(caller, "alice", in: first) }
        #expect(first.quotaUse(of: caller, now: Self.now) == 3)
        // A crash in the middle of a write: a torn line at the end, never acknowledged.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"e":"revoke_tok"#.utf8))
        try handle.close()

        let second = try ControlState(journalPath: path, now: Self.now + 10)
        #expect(second.isRevoked(jti: "j1", identity: "a", issuedAt: Self.now, now: Self.now + 10, owns: { _ in false }))
        #expect(second.isBlocked("mallory", now: Self.now + 10))
        #expect(second.quotaUse(of: caller, now: Self.now + 10) == 3)
        var refused = false
        if case .exceeded = try Self.decide(caller, "alice", in: second, now: Self.now + 10) { refused = true }
        #expect(refused, "the identity quota was reset by the restart")
        // Compacted: the expired revocation and the torn line are gone, the quota is one line.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(!lines.contains { $0.contains("gone") })
        #expect(lines.allSatisfy { (try? JSONParser.parse(Array($0.utf8)))?.objectValue != nil }, "the torn line was kept")
        #expect(lines.count { $0.contains(#""e":"quota""#) } == 2)
        #expect(lines.contains { $0.contains(#""count":3"#) })
    }

    @Test func aDamagedJournalStopsTheStartAndSaysWhere() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("state.jsonl", "{\"e\":\"block\",\"identity\":\"a\",\"at\":1}\nnot json\n{\"e\":\"unblock\",\"identity\":\"a\",\"at\":2}\n")
        do {
            _ = try ControlState(journalPath: path)
            Issue.record("a damaged journal was accepted")
        } catch {
            #expect(error.description.contains("line 2"), "\(error)")
        }
        // Nothing was rewritten.
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("not json"))
    }

    @Test func rfc3339ParsesWhatItFormatsAndRefusesTheRest() {
        for seconds in [0, 951_782_400, Self.now, 4_102_444_799] {
            #expect(Timestamp.parseRFC3339(Timestamp.rfc3339(unixSeconds: seconds)) == seconds)
        }
        #expect(Timestamp.parseRFC3339("2026-12-03T12:00:00.123+01:00") == Timestamp.parseRFC3339("2026-12-03T11:00:00Z"))
        #expect(Timestamp.parseRFC3339("2026-12-03t11:00:00z") == Timestamp.parseRFC3339("2026-12-03T11:00:00Z"))
        for bad in ["", "2026-12-03", "2026-02-30T00:00:00Z", "2026-12-03T24:00:00Z", "2026-12-03T11:00:00", "2026-12-03T11:00:00.Z",
                    "2026-12-03T11:00:00+1:00", "2026-13-01T00:00:00Z", "2026-12-03 11:00:00Z", "2026-12-03T11:00:60Z"] {
            #expect(Timestamp.parseRFC3339(bad) == nil, "\(bad)")
        }
    }

    @Test func controlRequestsReadJSONAndForms() throws {
        let form = try ControlRequest(body: Array("token=a.b%2Ec&token_type_hint=access_token&x=%E2%9C%93+y".utf8), isForm: true)
        #expect(form["token"] == "a.b.c" && form["x"] == "✓ y")
        for bad in ["token=%zz", "token=%4", "token=a&token=b", "t=%FF"] {
            #expect(throws: ControlRequest.Invalid.self) { try ControlRequest(body: Array(bad.utf8), isForm: true) }
        }
        let json = try ControlRequest(body: Array(#"{"identity":"alice","issued_before":"2026-12-03T00:00:00Z"}"#.utf8), isForm: false)
        #expect(try json.exactlyOne(of: ["token", "jti", "identity"]).name == "identity")
        #expect(try json.time("issued_before") == 1_796_256_000)
        #expect(throws: ControlRequest.Invalid.self) { try ControlRequest(body: Array(#"{"token":1}"#.utf8), isForm: false) }
    }

    @Test func introspectionSaysWhoMintedATwilioTokenOnlyWhenOneCallerCan() throws {
        let secrets = try SecretsLoader.parse(toml: SampleSecrets.toml.replacingOccurrences(of: "max_ttl = 28800", with: "max_ttl = 28800\nsigning_key = \"\(SampleSecrets.twilioKid)\""))
        let issued = try TokenIssuer(secrets: secrets).issue(TokenRequest(identity: "alice"), for: .caller(try #require(secrets.caller(id: "web"))), now: WallClock.now())
        let introspector = TokenIntrospector(secrets: secrets, leeway: 0)
        let facts = try #require(introspector.facts(of: issued.token, now: WallClock.now()))
        #expect(facts.clientID == nil && facts.kid == SampleSecrets.twilioKid)
        #expect(introspector.isMinted(facts, by: "web") && introspector.mintingCaller(facts) == "web")
        #expect(!introspector.isMinted(facts, by: "nobody"))
    }

    private static func record(_ event: ControlEvent, in state: ControlState) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.record(event) { continuation.resume(with: $0.mapError { $0 }) }
        }
    }

    /// A shared store that only remembers what it was asked: the ordering rules of the shared
    /// mode, without a database (the database itself is in `SharedControlTests`).
    final class RecordingStore: SharedControlStore {
        let recorded = Mutex<[ControlEvent]>([])
        let outcome: QuotaTake.Outcome

        init(outcome: QuotaTake.Outcome = .admitted(callerCount: 1)) { self.outcome = outcome }

        func record(_ events: [ControlEvent], completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
            recorded.withLock { $0 += events }
            completion(.success(()))
        }

        func count(_ take: QuotaTake, completion: @escaping @Sendable (Result<QuotaTake.Outcome, any Error>) -> Void) {
            completion(.success(outcome))
        }
    }

    @Test func sharedEventsApplyOnceEachInTheStoresOrder() throws {
        let store = RecordingStore()
        let state = ControlState(shared: store)
        // A change is the store's to apply: recording it changes nothing here until it comes back.
        state.record(.block(identity: "m", at: Self.now, until: nil)) { _ in }
        #expect(store.recorded.withLock { $0 } == [.block(identity: "m", at: Self.now, until: nil)])
        #expect(!state.isBlocked("m", now: Self.now))
        state.applyShared([(1, .block(identity: "m", at: Self.now, until: nil)), (2, .unblock(identity: "m", at: Self.now + 1))], now: Self.now + 1)
        #expect(!state.isBlocked("m", now: Self.now + 2) && state.sharedThrough == 2)
        // Read again (a poll and a read-back that overlapped): already applied, so the block
        // does not come back after its unblock.
        state.applyShared([(1, .block(identity: "m", at: Self.now, until: nil))], now: Self.now + 2)
        #expect(!state.isBlocked("m", now: Self.now + 2) && state.sharedThrough == 2)
        // A row that is not an event is passed over, the next one applies.
        state.applyShared([(3, nil), (4, .block(identity: "n", at: Self.now, until: nil))], now: Self.now + 2)
        #expect(state.isBlocked("n", now: Self.now + 2) && state.sharedThrough == 4)
    }

    /// Rows of the shared table (or journal lines) edited to extreme numbers are applied and
    /// purged without trapping: a crash there would be one an editor of the table could cause.
    @Test func extremeNumbersFromTheStoreDoNotTrap() {
        let state = ControlState(shared: RecordingStore())
        state.applyShared([
            (1, .block(identity: "x", at: Int.max, until: Int.max)),
            (2, .unblock(identity: "x", at: Int.max)),
            (3, .revokeIdentity(identity: "y", issuedBefore: Int.max, scope: nil)),
            (4, .revokeToken(jti: "j", identity: nil, scope: nil, expires: Int.max)),
            (5, .quotaCount(QuotaKey(caller: "c", identity: "i", windowStart: Int.max, windowSeconds: Int.max), count: Int.max, exact: true)),
            (6, .quotaCount(QuotaKey(caller: "c", identity: nil, windowStart: Int.min, windowSeconds: -1), count: Int.min, exact: false)),
        ], now: Self.now)
        #expect(state.isRevoked(jti: "z", identity: "y", issuedAt: Self.now, now: Self.now, owns: { _ in true }))
        state.applyShared([(7, .block(identity: "w", at: Self.now, until: nil))], now: Self.now + 3600)  // purges again
        #expect(state.sharedThrough == 7 && state.isBlocked("w", now: Self.now + 3600))
    }

    @Test func sharedQuotaDecisionsComeFromTheStore() throws {
        let caller = Self.caller(quota: "10/day", identityQuota: "2/day")
        let admitted = ControlState(shared: RecordingStore(outcome: .admitted(callerCount: 9)))
        guard case .admitted(let crossed, let durability) = try Self.decide(caller, "a", in: admitted, now: Self.now) else { throw MissingQuota() }
        #expect(crossed && durability == nil, "9 of 10 passes 80 %; nothing is reserved ahead")
        #expect(admitted.quotaUse(of: caller, now: Self.now) == 9)
        let refused = ControlState(shared: RecordingStore(outcome: .identityExceeded))
        guard case .exceeded(let quota, let resetsAt) = try Self.decide(caller, "a", in: refused, now: Self.now) else { throw MissingQuota() }
        #expect(quota == Quota(limit: 2, window: .day) && resetsAt == 1_796_342_400)
        guard case .full = try Self.decide(caller, "a", in: ControlState(shared: RecordingStore(outcome: .full)), now: Self.now) else { throw MissingQuota() }
    }

    /// The embedded state decides a quota on the spot: its completion has run when this returns.
    private static func decide(_ caller: Caller, _ identity: String, in state: ControlState, now: Int) throws -> ControlState.QuotaDecision {
        let decision = Mutex<Result<ControlState.QuotaDecision, any Error>?>(nil)
        state.countQuota(caller: caller, identity: identity, now: now) { result in decision.withLock { $0 = result } }
        guard let result = decision.withLock({ $0 }) else { throw MissingQuota() }
        return try result.get()
    }

    private static func reserve(_ caller: Caller, _ identity: String, in state: ControlState) async throws {
        guard case .admitted(_, let durability) = try decide(caller, identity, in: state, now: now) else { throw MissingQuota() }
        guard let durability else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            durability.wait { continuation.resume(with: $0.mapError { $0 }) }
        }
    }

    struct MissingQuota: Error {}
}
