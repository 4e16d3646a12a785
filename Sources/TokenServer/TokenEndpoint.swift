import HTTPTypes
import Logging
import Hummingbird
import NIOCore
import TokenCore

/// `POST /v1/tokens`. One way through: limit the body → authenticate → rate-limit → check the
/// media type → validate → clamp → sign → audit (durable) → respond. Every refusal is answered
/// with JSON and recorded; a token exists only once its audit record is on disk.
struct TokenEndpoint: Sendable {
    let service: TokenService

    func handle(_ request: Request, context: TokenRequestContext) async -> Response {
        do {
            return try await issue(request, context: context)
        } catch let error as APIError {
            return error.response(requestID: context.requestID)
        } catch {
            return APIError(status: .internalServerError, code: "internal_error", message: "internal error")
                .response(requestID: context.requestID)
        }
    }

    private func issue(_ request: Request, context: TokenRequestContext) async throws -> Response {
        let now = WallClock.now()
        var denial = AuditRecord(event: .requestRejected, requestID: context.requestID, remote: context.remoteAddress, status: 0)

        // The body first: authentication needs its bytes (Content-Digest), and a huge body must
        // be refused without buffering it.
        let body: [UInt8]
        do {
            body = try await readBody(request)
        } catch let error as APIError {
            denial.status = Int(error.status.code)
            denial.reason = error.code
            await service.recordDenial(denial)
            throw error
        }

        let configuration = service.configuration
        let authenticated: AuthenticatedCaller
        do {
            authenticated = try configuration.authenticator.authenticate(parts(of: request, body: body), now: now)
        } catch {
            await deny(error, record: denial)
            throw APIError.unauthenticated(error)
        }
        let caller = authenticated.caller
        context.notes.caller = caller.id
        denial.caller = caller.id
        denial.auth = authenticated.method.rawValue

        do {
            // Rate limit first, then the replay ledger: a refused request leaves no entry, so a
            // throttled caller cannot fill the ledger.
            if let rate = caller.rateLimit,
               let retryAfter = try await shared { try await service.state.rateLimiter.acquire(callerID: caller.id, rate: rate) } {
                throw APIError.rateLimited(retryAfter: retryAfter)
            }
            if let claim = authenticated.replayClaim {
                let share = ReplayShare.entries(rateLimit: caller.rateLimit, maximumSkew: configuration.authenticator.maximumSkew)
                let outcome = try await shared { try await service.state.replayLedger.record(claim, share: share, now: now) }
                if let failure = Self.replayFailure(outcome, keyID: caller.id) {
                    var replayDenial = denial
                    replayDenial.auth = nil  // refused: recorded like any authentication denial
                    await deny(failure, record: replayDenial)
                    throw APIError.unauthenticated(failure)
                }
            }
            guard isJSON(request.headers[.contentType]) else { throw APIError.unsupportedMediaType }
            let tokenRequest: TokenRequest
            let issued: IssuedToken
            do {
                tokenRequest = try TokenRequest(json: body)
                denial.identity = tokenRequest.identity
                denial.ttlRequested = tokenRequest.ttl
                issued = try configuration.issuer.issue(tokenRequest, for: .caller(caller), now: now)
            } catch {
                throw APIError.rejected(error)
            }
            let record = AuditRecord.issued(issued, requestID: context.requestID, caller: caller.id,
                                            auth: authenticated.method.rawValue, remote: context.remoteAddress)
            do {
                try await service.state.audit.append(record)
            } catch {
                // Fail closed: the token was never released, so it does not exist.
                service.logger.error("audit write failed; token withheld", metadata: ["request_id": "\(context.requestID)", "error": "\(error)"])
                throw APIError.auditUnavailable
            }
            service.metrics.tokenIssued(caller: caller.id)
            return Response.json(issued.responseJSON())
        } catch let error as APIError {
            if error.status != .serviceUnavailable && error.status != .unauthorized {
                denial.status = Int(error.status.code)
                denial.reason = error.code
                if let identity = denial.identity, (try? IdentityRule.validate(identity)) == nil {
                    denial.identity = nil  // never write an invalid (possibly forged) identity
                }
                await service.recordDenial(denial)
            }
            throw error
        }
    }

    /// Counts and records an authentication failure (the key id in it is only claimed).
    private func deny(_ failure: AuthenticationFailure, record: AuditRecord) async {
        service.metrics.authenticationFailed(failure.reason)
        var denial = record
        denial.event = .authDenied
        denial.status = 401
        denial.reason = failure.reason.rawValue
        denial.caller = failure.claimedKeyID
        await service.recordDenial(denial)
    }

    private static func replayFailure(_ outcome: ReplayOutcome, keyID: String) -> AuthenticationFailure? {
        switch outcome {
        case .fresh:
            return nil
        case .replayed:
            return AuthenticationFailure(.replay, "this signature (or nonce) was already used; sign every request anew", claimedKeyID: keyID)
        case .shareExhausted:
            return AuthenticationFailure(.replay, "replay protection holds as many of this caller's signatures as it may; retry shortly", claimedKeyID: keyID)
        }
    }

    /// A shared-state call: when the state cannot answer (PostgreSQL down or too slow), the
    /// request is a 503 and nothing is issued.
    private func shared<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SharedStateUnavailable {
            service.logger.error("shared state unavailable; request refused", metadata: ["error": "\(error)"])
            throw APIError.sharedStateUnavailable
        }
    }

    private func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = ServerSettings.maximumBodySize
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.payloadTooLarge
        }
        var request = request
        do {
            var buffer = try await request.collectBody(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge
        }
    }

    private func parts(of request: Request, body: [UInt8]) -> RequestParts {
        RequestParts(method: request.method.rawValue, scheme: service.settings.publicScheme,
                     authority: request.head.authority ?? "", path: request.uri.path, query: request.uri.query,
                     headers: request.headers, body: body)
    }

    /// `application/json`, with any parameters (`; charset=utf-8`), in any letter case.
    /// Compared on bytes: this runs on every request.
    private func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let expected = "application/json".utf8
        var utf8 = contentType.utf8[...]
        while let first = utf8.first, first == 0x20 || first == 0x09 { utf8 = utf8.dropFirst() }
        guard utf8.count >= expected.count,
              zip(utf8, expected).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { return false }
        let rest = utf8.dropFirst(expected.count)
        return rest.allSatisfy { $0 == 0x20 || $0 == 0x09 } || rest.drop { $0 == 0x20 || $0 == 0x09 }.first == UInt8(ascii: ";")
    }
}
