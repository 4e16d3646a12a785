import Logging
import NIOCore
import NIOHTTP1
import TokenCore

/// Revoke, introspect, block and unblock: what `TokenEndpoint` hands over once the caller is
/// authenticated, admitted and permitted. A change is durable twice before its answer — in the
/// state journal or the shared database (what tokend acts on) and then as an audit record (what
/// an auditor reads) — and is in force, in memory, from then on (on other replicas from their
/// next poll). Introspection changes nothing and is not audited: it is answered from memory, as
/// fast as `/healthz`.
struct ControlEndpoint {
    let endpoint: TokenEndpoint
    private var context: EndpointContext { endpoint.context }

    /// Longest free-text `reason` a block may carry (it goes into the audit log).
    static let maximumReasonLength = 200

    func handle(_ attempt: TokenEndpoint.Attempt, action: CallerAction, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        let contentType = attempt.request.headers.first(name: "content-type")
        let isForm = TokenEndpoint.hasMediaType(contentType, "application/x-www-form-urlencoded")
        guard isForm ? (action == .revoke || action == .introspect) : TokenEndpoint.hasMediaType(contentType, "application/json") else {
            return endpoint.reject(.unsupportedMediaType, denial: attempt.denial, request: attempt.request, on: eventLoop)
        }
        // A change held only in this process's memory, and lost at its restart, is not made at all.
        guard action == .introspect || context.control.isDurable else {
            return eventLoop.makeSucceededFuture(APIError.stateNotShared.response(requestID: attempt.request.requestID, caller: attempt.caller.id))
        }
        do {
            let body = try ControlRequest(body: attempt.body, isForm: isForm)
            switch action {
            case .introspect: return eventLoop.makeSucceededFuture(introspect(body, attempt))
            case .revoke: return try revoke(body, attempt, on: eventLoop)
            case .block: return try block(body, attempt, on: eventLoop)
            case .unblock: return try unblock(body, attempt, on: eventLoop)
            case .mint: preconditionFailure("a mint is TokenEndpoint's")
            }
        } catch let error as ControlRequest.Invalid {
            return endpoint.reject(.invalidControlRequest(error.description), denial: attempt.denial, request: attempt.request, on: eventLoop)
        } catch let error as TokenRequestError {
            return endpoint.reject(.rejected(error), denial: attempt.denial, request: attempt.request, on: eventLoop)
        } catch let error as APIError {
            return endpoint.reject(error, denial: attempt.denial, request: attempt.request, on: eventLoop)
        } catch {
            return eventLoop.makeSucceededFuture(APIError.internalError.response(requestID: attempt.request.requestID))
        }
    }

    /// RFC 7662: `{"active": false}` and nothing else unless the token is valid now.
    private func introspect(_ body: ControlRequest, _ attempt: TokenEndpoint.Attempt) -> ServerResponse {
        let introspector = attempt.configuration.introspector
        var answer = TokenIntrospector.inactive
        if let token = body["token"], let facts = introspector.facts(of: token, now: attempt.now),
           !context.control.isRevoked(jti: facts.jti, identity: facts.identity, issuedAt: facts.issuedAt, now: attempt.now,
                                      owns: { introspector.isMinted(facts, by: $0) }) {
            answer = introspector.activeJSON(facts)
        }
        return ServerResponse(headers: ServerResponse.jsonHeaders, body: ByteBuffer(bytes: answer), caller: attempt.caller.id)
    }

    /// RFC 7009: by token, by `jti`, or every token of an identity issued before a time.
    private func revoke(_ body: ControlRequest, _ attempt: TokenEndpoint.Attempt, on eventLoop: any EventLoop) throws -> EventLoopFuture<ServerResponse> {
        let caller = attempt.caller
        let scope = caller.may(.revokeAny) ? nil : caller.id
        var record = AuditEvent.TokenRevoked(actor: attempt.actor)
        let event: ControlEvent?
        switch try body.exactlyOne(of: ["token", "jti", "identity"]) {
        case ("token", let token):
            record.tokenSHA256 = SHA256.hash(token).hex
            let reader = attempt.configuration.revocationReader
            if let facts = reader.facts(of: token, now: attempt.now) {
                if scope != nil, !reader.isMinted(facts, by: caller.id) {
                    throw APIError.permissionDenied(.revokeAny)
                }
                record.jti = facts.jti
                record.identity = facts.identity
                event = .revokeToken(jti: facts.jti, identity: facts.identity, scope: nil, expires: facts.expires > Int.max - JWTVerifier.defaultLeeway ? Int.max : facts.expires + JWTVerifier.defaultLeeway)
            } else {
                // RFC 7009 §2.2: an invalid token is answered as revoked; there is nothing to keep.
                record.reason = "not_a_valid_token"
                event = nil
            }
        case ("jti", let jti):
            guard !jti.isEmpty, jti.utf8.count <= 256 else { throw ControlRequest.Invalid(description: "jti must be 1…256 bytes") }
            record.jti = jti
            event = .revokeToken(jti: jti, identity: nil, scope: scope, expires: attempt.now + ControlState.entryLifetime)
        case (_, let identity):
            try IdentityRule.validate(identity)
            let cutOff = try body.time("issued_before") ?? attempt.now + 1
            guard cutOff <= attempt.now + 1 else {
                throw ControlRequest.Invalid(description: "issued_before is in the future; to stop tokens not yet minted, block the identity")
            }
            record.identity = identity
            record.issuedBefore = cutOff
            event = .revokeIdentity(identity: identity, issuedBefore: cutOff, scope: scope)
        }
        return commit(event, record: .tokenRevoked(record), answer: #"{"revoked":true}"#, attempt, on: eventLoop)
    }

    private func block(_ body: ControlRequest, _ attempt: TokenEndpoint.Attempt, on eventLoop: any EventLoop) throws -> EventLoopFuture<ServerResponse> {
        guard let identity = body["identity"] else { throw ControlRequest.Invalid(description: "identity is required") }
        try IdentityRule.validate(identity)
        let until = try body.time("until")
        if let until, until <= attempt.now { throw ControlRequest.Invalid(description: "until is not in the future") }
        let reason = body["reason"]
        if let reason {
            guard reason.count <= Self.maximumReasonLength, !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw ControlRequest.Invalid(description: "reason must be at most \(Self.maximumReasonLength) characters, without control characters")
            }
        }
        let record = AuditEvent.IdentityBlocked(actor: attempt.actor, identity: identity, until: until, reason: reason)
        var answer = JSONWriter(capacity: 96)
        answer.raw("{\"blocked\":true,\"identity\":"); answer.string(identity)
        answer.raw(",\"until\":")
        if let until { answer.string(Timestamp.rfc3339(unixSeconds: until)) } else { answer.raw("null") }
        answer.raw("}")
        return commit(.block(identity: identity, at: attempt.now, until: until), record: .identityBlocked(record), answer: answer.string, attempt, on: eventLoop)
    }

    private func unblock(_ body: ControlRequest, _ attempt: TokenEndpoint.Attempt, on eventLoop: any EventLoop) throws -> EventLoopFuture<ServerResponse> {
        guard let identity = body["identity"] else { throw ControlRequest.Invalid(description: "identity is required") }
        try IdentityRule.validate(identity)
        return commit(.unblock(identity: identity, at: attempt.now), record: .identityUnblocked(.init(actor: attempt.actor, identity: identity)),
                      answer: #"{"unblocked":true}"#, attempt, on: eventLoop)
    }

    /// The journal first (the change is then in force), then the audit record, then the answer.
    /// A journal that fails changes nothing; an audit write that fails after it leaves the change
    /// in force (the safe side) and answers 503, logged.
    private func commit(_ event: ControlEvent?, record change: AuditEvent, answer: String, _ attempt: TokenEndpoint.Attempt,
                        on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        let requestID = attempt.request.requestID
        let record = AuditRecord(requestID: requestID, remote: attempt.request.remoteAddress, event: change)
        let caller = attempt.caller.id
        let logger = context.logger
        let audit = context.state.audit
        let promise = eventLoop.makePromise(of: ServerResponse.self)
        let writeAudit: @Sendable () -> Void = {
            audit.append(record) { result in
                switch result {
                case .success:
                    promise.succeed(ServerResponse(headers: ServerResponse.jsonHeaders, body: ByteBuffer(string: answer), caller: caller))
                case .failure(let error):
                    logger.error("audit write failed after a state change", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
                    promise.succeed(APIError.auditUnavailable.response(requestID: requestID, caller: caller))
                }
            }
        }
        guard let event else {
            writeAudit()
            return promise.futureResult
        }
        context.control.record(event) { result in
            switch result {
            case .success:
                writeAudit()
            case .failure(let error):
                logger.error("state change not stored; nothing changed", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
                promise.succeed(APIError.stateUnavailable.response(requestID: requestID, caller: caller))
            }
        }
        return promise.futureResult
    }
}
