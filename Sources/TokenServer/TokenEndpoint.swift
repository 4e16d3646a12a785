import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import TokenCore

/// Every authenticated endpoint, one way through: limit the body → authenticate → rate-limit →
/// record the signature in the replay ledger → check the caller's permission → the action. For a
/// mint: check the media type → validate → clamp → refuse a blocked identity → count the quota →
/// sign → audit (durable) → respond. Every refusal is answered with JSON and recorded; a token
/// exists only once its audit record (and its quota count) is durable. The other actions
/// (revoke, introspect, block, unblock) are in `ControlEndpoint`.
///
/// Runs on the connection's event loop. On the embedded state (memory and the audit file) there
/// is no task and no suspension: the rate limiter and the replay ledger answer their completion
/// forms on the spot and the audit writer completes a promise. Only PostgreSQL's, being round
/// trips, go through a task (inside their own completion forms).
struct TokenEndpoint: Sendable {
    let context: EndpointContext
    /// How signatures may name the scheme: settled at start-up, not per request.
    private let publicScheme: String
    private let alternateScheme: String?

    init(context: EndpointContext) {
        self.context = context
        publicScheme = context.settings.clientScheme.rawValue
        alternateScheme = context.settings.alternateScheme?.rawValue
    }

    /// What the request carries once its caller is known. A class: it is captured by every step's
    /// closure, and one reference costs one retain where a copy of its fields cost dozens.
    final class Attempt: Sendable {
        let request: ServerRequest
        let body: [UInt8]
        let authenticated: AuthenticatedCaller
        let configuration: LoadedSecrets
        let now: Int
        /// What a refusal records so far (who asked, how); each refusal adds its own facts to a copy.
        let denial: RefusalContext
        var caller: Caller { authenticated.caller }
        /// Who a decision's record names.
        var actor: AuditActor { AuditActor(caller: caller.id, auth: authenticated.method.rawValue) }

        init(request: ServerRequest, body: [UInt8], authenticated: AuthenticatedCaller, configuration: LoadedSecrets,
             now: Int, denial: RefusalContext) {
            self.request = request
            self.body = body
            self.authenticated = authenticated
            self.configuration = configuration
            self.now = now
            self.denial = denial
        }
    }

    /// The outcome of the shared-state checks (rate limit, replay ledger).
    private enum Admission: Sendable {
        case admitted
        case rateLimited(retryAfter: Int)
        case replayed(AuthenticationFailure)
    }

    func handle(_ request: ServerRequest, action: CallerAction, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        let now = WallClock.now()
        var denial = RefusalContext(requestID: request.requestID, remote: request.remoteAddress)

        // The body was limited by the connection: authentication needs its bytes (Content-Digest),
        // and a huge body is refused without being buffered.
        guard case .bytes(let buffer) = request.body else {
            return reject(.payloadTooLarge, denial: denial, request: request, on: eventLoop)
        }
        let body = Array(buffer.readableBytesView)
        let configuration = context.secrets.current
        let authenticated: AuthenticatedCaller
        do {
            authenticated = try configuration.authenticator.authenticate(parts(of: request, body: body), now: now)
        } catch {
            return deny(error, record: denial, on: eventLoop)
                .map { APIError.unauthenticated(error).response(requestID: request.requestID) }
        }
        denial.actor = AuditActor(caller: authenticated.caller.id, auth: authenticated.method.rawValue)
        let attempt = Attempt(request: request, body: body, authenticated: authenticated, configuration: configuration, now: now, denial: denial)

        let handoff = AdmissionHandoff<Admission>()
        admit(attempt) { handoff.complete($0) }
        return handoff.proceed(on: eventLoop, { proceed(attempt, $0, action: action, on: eventLoop) },
                               failed: { unavailable($0, attempt) })
    }

    private func unavailable(_ error: any Error, _ attempt: Attempt) -> ServerResponse {
        context.logger.error("shared state unavailable; request refused", metadata: ["error": "\(error)"])
        return APIError.sharedStateUnavailable.response(requestID: attempt.request.requestID, caller: attempt.caller.id)
    }

    /// The shared-state checks, in their one order: the rate limit first, then the replay
    /// ledger, so a refused request leaves no ledger entry and a throttled caller cannot fill it.
    private func admit(_ attempt: Attempt, completion: @escaping @Sendable (Result<Admission, any Error>) -> Void) {
        let state = context.state
        let share = share(attempt)
        let claim = attempt.authenticated.replayClaim
        let callerID = attempt.caller.id
        let now = attempt.now
        let recordClaim: @Sendable () -> Void = {
            guard let claim else { return completion(.success(.admitted)) }
            state.replayLedger.record(claim, share: share, now: now) { outcome in
                completion(outcome.map { Self.admission($0, keyID: callerID) })
            }
        }
        guard let rate = attempt.caller.rateLimit else { return recordClaim() }
        state.rateLimiter.acquire(callerID: callerID, rate: rate) { decision in
            switch decision {
            case .success(let retryAfter?): completion(.success(.rateLimited(retryAfter: retryAfter)))
            case .success(nil): recordClaim()
            case .failure(let error): completion(.failure(error))
            }
        }
    }

    private func share(_ attempt: Attempt) -> Int {
        ReplayShare.entries(rateLimit: attempt.caller.rateLimit, maximumSkew: attempt.configuration.authenticator.maximumSkew)
    }

    private func proceed(_ attempt: Attempt, _ admission: Admission, action: CallerAction, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        switch admission {
        case .admitted:
            guard action.isPermitted(for: attempt.caller) else {
                return reject(.permissionDenied(action.permission), denial: attempt.denial, request: attempt.request, on: eventLoop)
            }
            if action == .mint { return issue(attempt, on: eventLoop) }
            return ControlEndpoint(endpoint: self).handle(attempt, action: action, on: eventLoop)
        case .rateLimited(let retryAfter):
            return reject(.rateLimited(retryAfter: retryAfter), denial: attempt.denial, request: attempt.request, on: eventLoop)
        case .replayed(let failure):
            // Refused: recorded like any authentication denial, as from nobody known.
            return deny(failure, record: attempt.denial, on: eventLoop)
                .map { APIError.unauthenticated(failure).response(requestID: attempt.request.requestID) }
        }
    }

    private func issue(_ attempt: Attempt, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        var denial = attempt.denial
        guard Self.hasMediaType(attempt.request.headers.first(name: "content-type"), "application/json") else {
            return reject(.unsupportedMediaType, denial: denial, request: attempt.request, on: eventLoop)
        }
        let issued: IssuedToken
        do {
            let tokenRequest = try TokenRequest(json: attempt.body)
            denial.identity = tokenRequest.identity
            denial.ttlRequested = tokenRequest.ttl
            issued = try attempt.configuration.issuer.issue(tokenRequest, for: .caller(attempt.caller), now: attempt.now)
        } catch {
            return reject(.rejected(error), denial: denial, request: attempt.request, on: eventLoop)
        }
        let control = context.control
        if control.isBlocked(issued.identity, now: attempt.now) {
            return reject(.identityBlocked, denial: denial, request: attempt.request, on: eventLoop)
        }
        guard attempt.caller.quota != nil || attempt.caller.identityQuota != nil else {
            return release(issued, attempt, quotaCounted: nil, on: eventLoop)
        }
        // Counted only now, once nothing else can refuse it: a refused request uses no quota.
        let refusal = denial
        let handoff = AdmissionHandoff<ControlState.QuotaDecision>()
        control.countQuota(caller: attempt.caller, identity: issued.identity, now: attempt.now) { handoff.complete($0) }
        return handoff.proceed(on: eventLoop, { counted($0, issued, attempt, denial: refusal, on: eventLoop) },
                               failed: { unavailable($0, attempt) })
    }

    /// A mint's quota decision: refused, or released once what it counted is durable.
    private func counted(_ decision: ControlState.QuotaDecision, _ issued: IssuedToken, _ attempt: Attempt, denial: RefusalContext,
                         on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        switch decision {
        case .admitted(let crossedWarning, let durability):
            if crossedWarning, let quota = attempt.caller.quota {
                context.logger.warning("caller passed 80 % of its quota", metadata: ["caller": "\(attempt.caller.id)", "quota": "\(quota)"])
            }
            guard let durability else { return release(issued, attempt, quotaCounted: nil, on: eventLoop) }
            let counted = eventLoop.makePromise(of: Void.self)
            durability.wait { counted.completeWith($0) }
            return release(issued, attempt, quotaCounted: counted.futureResult, on: eventLoop)
        case .exceeded(let quota, let resetsAt):
            return reject(.quotaExceeded(quota, resetsAt: resetsAt, now: attempt.now), denial: denial, request: attempt.request, on: eventLoop)
        case .full:
            context.logger.error("per-identity quota table full; mint refused", metadata: ["caller": "\(attempt.caller.id)"])
            return eventLoop.makeSucceededFuture(APIError.quotaTableFull.response(requestID: attempt.request.requestID, caller: attempt.caller.id))
        }
    }

    /// The token is signed and counted: writes its audit record and answers with it once the
    /// record (and `quotaCounted`, when the count must become durable too) is on disk.
    private func release(_ issued: IssuedToken, _ attempt: Attempt, quotaCounted: EventLoopFuture<Void>?,
                         on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        let request = attempt.request
        let record = AuditRecord.issued(issued, requestID: request.requestID, by: attempt.actor, remote: request.remoteAddress)
        let success = ServerResponse(headers: ServerResponse.jsonHeaders, body: ByteBuffer(bytes: issued.responseJSON()), caller: attempt.caller.id)
        let counter = attempt.configuration.issuedCounter(attempt.caller.id)
        let promise = eventLoop.makePromise(of: ServerResponse.self)
        let logger = context.logger
        let countsOnAudit = quotaCounted == nil
        context.state.audit.append(record) { result in
            switch result {
            case .success:
                if countsOnAudit { counter?.increment() }
                promise.succeed(success)
            case .failure(let error):
                // Fail closed: the token was never released, so it does not exist.
                logger.error("audit write failed; token withheld", metadata: ["request_id": "\(request.requestID)", "error": "\(error)"])
                promise.succeed(APIError.auditUnavailable.response(requestID: request.requestID, caller: success.caller))
            }
        }
        guard let quotaCounted else { return promise.futureResult }
        return promise.futureResult.and(quotaCounted).map { response, _ in
            if response.status == .ok { counter?.increment() }
            return response
        }.flatMapErrorThrowing { error in
            logger.error("state journal write failed; token withheld", metadata: ["request_id": "\(request.requestID)", "error": "\(error)"])
            return APIError.stateUnavailable.response(requestID: request.requestID, caller: success.caller)
        }
    }

    /// Answers `error`, recording the refusal first (except a 503, whose cause is logged).
    func reject(_ error: APIError, denial: RefusalContext, request: ServerRequest, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        let response = error.response(requestID: request.requestID, caller: denial.actor?.caller)
        guard error.status != .serviceUnavailable else { return eventLoop.makeSucceededFuture(response) }
        return context.denials.record(denial.rejected(status: Int(error.status.code), reason: error.code), on: eventLoop).map { response }
    }

    /// Counts and records an authentication failure (the key id in it is only claimed).
    private func deny(_ failure: AuthenticationFailure, record: RefusalContext, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        context.metrics.authenticationFailed(failure.reason)
        return context.denials.record(record.denied(failure), on: eventLoop)
    }

    private static func admission(_ outcome: ReplayOutcome, keyID: String) -> Admission {
        switch outcome {
        case .fresh:
            return .admitted
        case .replayed:
            return .replayed(AuthenticationFailure(.replay, "this signature (or nonce) was already used; sign every request anew", claimedKeyID: keyID))
        case .shareExhausted:
            return .replayed(AuthenticationFailure(.replay, "replay protection holds as many of this caller's signatures as it may; retry shortly", claimedKeyID: keyID))
        }
    }

    private func parts(of request: ServerRequest, body: [UInt8]) -> RequestParts {
        RequestParts(method: request.method.rawValue, scheme: publicScheme,
                     authority: request.authority, path: String(request.path),
                     query: request.query.map(String.init), headers: request.headers, body: body,
                     alternateScheme: alternateScheme)
    }

    /// `expected` (`application/json`), with any parameters (`; charset=utf-8`), in any letter
    /// case. Compared on bytes: this runs on every request.
    static func hasMediaType(_ contentType: String?, _ expected: StaticString) -> Bool {
        guard let contentType else { return false }
        let expected = UnsafeBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount)
        var utf8 = contentType.utf8[...]
        while let first = utf8.first, first == 0x20 || first == 0x09 { utf8 = utf8.dropFirst() }
        guard utf8.count >= expected.count,
              zip(utf8, expected).allSatisfy({ ASCII.lowercase($0) == $1 }) else { return false }
        let rest = utf8.dropFirst(expected.count)
        return rest.allSatisfy { $0 == 0x20 || $0 == 0x09 } || rest.drop { $0 == 0x20 || $0 == 0x09 }.first == UInt8(ascii: ";")
    }
}

extension HTTPHeaders: HeaderFields {
    public func first(named name: String) -> String? { first(name: name) }
    public func values(named name: String) -> [String] { self[name] }
}
