import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TokenCore

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, else a fresh one),
/// echoes it on every response, and writes one access-log line per request: id, method, path,
/// status, caller, duration. Never a header value, body, key, signature or token.
struct RequestObserver: RouterMiddleware {
    typealias Context = TokenRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        var context = context
        context.requestID = Self.requestID(from: request.headers[.xRequestID])
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = APIError.notFound.response(requestID: context.requestID)
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            response = APIError.methodNotAllowed.response(requestID: context.requestID)
        } catch {
            response = APIError(status: .internalServerError, code: "internal_error", message: "internal error")
                .response(requestID: context.requestID)
        }
        response.headers[.xRequestID] = context.requestID
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        logger.info("request", metadata: [
            "request_id": "\(context.requestID)",
            "method": "\(request.method.rawValue)",
            "path": "\(request.uri.path.prefix(200))",
            "status": "\(response.status.code)",
            "caller": "\(context.notes.caller ?? "-")",
            "remote": "\(context.remoteAddress ?? "-")",
            "duration_ms": "\((milliseconds * 100).rounded() / 100)",
        ])
        return response
    }

    /// 1…128 characters of `[A-Za-z0-9._:-]`: enough for UUIDs and trace ids, nothing that
    /// could break a log line or a header.
    static func requestID(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count),
           header.utf8.allSatisfy({ $0 < 0x80 && (Character(Unicode.Scalar($0)).isLetter || Character(Unicode.Scalar($0)).isNumber || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A || $0 == 0x2D) }) {
            return header
        }
        return SecureRandom.identifier()
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
