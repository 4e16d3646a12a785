import Foundation
import Testing
import TestSupport
import TokenCore

@Suite(.serialized)
struct TokenEndpointTests {
    @Test func issuesATokenWithTheDocumentedResponse() async throws {
        let fixture = try await Fixture.start()
        let result = try await fixture.mint(#"{"identity":"alice","ttl":60,"grants":{"data_sync":{"service_sid":"IS1"}}}"#,
                                            headers: [("X-Request-Id", "trace-123")])
        #expect(result.status == 200)
        #expect(result.header("Cache-Control") == "no-store")
        #expect(result.header("Pragma") == "no-cache")
        #expect(result.header("X-Request-Id") == "trace-123")
        #expect(result.header("Content-Type") == "application/json")
        let json = try #require(result.json)
        #expect(json.keys == ["token", "identity", "ttl", "expires_at", "jti", "kid", "warnings"])
        #expect(json["ttl"]?.integerValue == 1800)
        #expect(json["warnings"] == .array([.string("ttl 60 raised to the minimum of 1800")]))
        let secrets = try SecretsLoader.load(path: fixture.secretsPath)
        let verified = try JWTVerifier(secrets: secrets).verify(try #require(result.token), now: WallClock.now())
        #expect(verified.payload["grants"]?.jsonText == #"{"identity":"alice","data_sync":{"service_sid":"IS1"}}"#)
        // The caller's max_ttl (28800) applies.
        let long = try await fixture.mint(#"{"identity":"alice","ttl":86400}"#)
        #expect(long.json?["ttl"]?.integerValue == 28800)
        #expect(long.json?["warnings"] == .array([.string("ttl 86400 lowered to the caller's maximum of 28800")]))
        await fixture.server.stop()
    }

    @Test func everyErrorIsJSONWithItsCode() async throws {
        let fixture = try await Fixture.start()
        let cases: [(String, String, Int, String)] = [
            (#"{"identity": "alice""#, "application/json", 400, "invalid_json"),
            (#"{"identity":"alice","identity":"root"}"#, "application/json", 400, "invalid_json"),
            (#"{"identity":"alice","tll":60}"#, "application/json", 400, "invalid_request"),
            (#"{"identity":""}"#, "application/json", 400, "invalid_request"),
            (#"{"identity":"a\nb"}"#, "application/json", 400, "invalid_request"),
            (#"{"identity":"alice","ttl":0}"#, "application/json", 400, "invalid_request"),
            (#"{"identity":"alice","grants":{"chat":"yes"}}"#, "application/json", 400, "invalid_request"),
            (#"{"identity":"alice","grants":{"video":{}}}"#, "application/json", 403, "grant_not_allowed"),
            (#"{"identity":"alice"}"#, "text/plain", 415, "unsupported_media_type"),
            (#"{"identity":"alice"}"#, "application/json; charset=utf-8", 200, ""),
        ]
        for (body, contentType, status, code) in cases {
            let result = try await fixture.mint(body, contentType: contentType)
            #expect(result.status == status, "\(body)")
            if status != 200 {
                #expect(result.errorCode == code, "\(body): \(result.text)")
                #expect(result.json?["request_id"]?.stringValue == result.header("X-Request-Id"))
                #expect(result.header("Content-Type") == "application/json")
            }
        }
        await fixture.server.stop()
    }

    @Test func oversizedBodiesGetA413() async throws {
        let fixture = try await Fixture.start()
        let huge = #"{"identity":"alice","grants":{"chat":{"x":""# + String(repeating: "a", count: 70_000) + #""}}}"#
        let declared = try await fixture.mint(huge)
        #expect(declared.status == 413)
        #expect(declared.errorCode == "payload_too_large")
        // Without a Content-Length (chunked): the limit is enforced while reading.
        let chunked = try await HTTPTestClient.sendStreaming(fixture.base + "/v1/tokens", apiKey: SampleSecrets.apiKey,
                                                             chunks: Array(repeating: Array(repeating: UInt8(ascii: "a"), count: 8192), count: 10))
        #expect(chunked.status == 413)
        #expect(chunked.errorCode == "payload_too_large")
        // The server is still fine.
        #expect(try await fixture.mint().status == 200)
        await fixture.server.stop()
    }

    /// Header limits: a 40 KB header is refused (or the connection dropped), and the server
    /// goes on serving everyone else.
    @Test func hugeHeadersAreRefused() async throws {
        let fixture = try await Fixture.start()
        let huge = String(repeating: "x", count: 40_000)
        let status = (try? await HTTPTestClient.send("GET", fixture.base + "/healthz", headers: [("X-Big", huge)]))?.status
        #expect(status == nil || (400..<500).contains(status!), "\(String(describing: status))")
        #expect(try await fixture.mint().status == 200)
        await fixture.server.stop()
    }

    @Test func requestIDsAreEchoedOnlyWhenSane() async throws {
        let fixture = try await Fixture.start()
        let sane = try await HTTPTestClient.send("GET", fixture.base + "/healthz", headers: [("X-Request-Id", "abc-123_x.y:z")])
        #expect(sane.header("X-Request-Id") == "abc-123_x.y:z")
        let insane = try await HTTPTestClient.send("GET", fixture.base + "/healthz", headers: [("X-Request-Id", "evil\"value with spaces")])
        let replaced = try #require(insane.header("X-Request-Id"))
        #expect(replaced != "evil\"value with spaces" && !replaced.isEmpty)
        let missing = try await HTTPTestClient.send("GET", fixture.base + "/nope")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        #expect(missing.header("X-Request-Id") != nil)
        await fixture.server.stop()
    }

    @Test func healthReadinessAndMetrics() async throws {
        let fixture = try await Fixture.start()
        let health = try await HTTPTestClient.send("GET", fixture.base + "/healthz")
        #expect(health.status == 200 && health.text == #"{"status":"ok"}"#)
        let ready = try await HTTPTestClient.send("GET", fixture.base + "/readyz")
        #expect(ready.status == 200)
        #expect(ready.json?["status"] == .string("ready"))
        _ = try await fixture.mint()
        _ = try await fixture.mint(apiKey: "wrong")
        let metrics = try await HTTPTestClient.send("GET", fixture.base + "/metrics")
        #expect(metrics.status == 200)
        for series in ["tokend_tokens_issued_total{caller=\"web\"} 1", "tokend_auth_failures_total{reason=\"invalid\"} 1",
                       "tokend_http_requests_total{route=\"/v1/tokens\",status=\"200\"} 1",
                       "tokend_http_requests_total{route=\"/v1/tokens\",status=\"401\"} 1",
                       "tokend_http_request_duration_seconds_bucket{route=\"/v1/tokens\",le=\"+Inf\"} 2",
                       "tokend_audit_commit_duration_seconds_bucket", "tokend_build_info{version=\""] {
            #expect(metrics.text.contains(series), "\(series)")
        }
        let openAPI = try await HTTPTestClient.send("GET", fixture.base + "/openapi.yaml")
        #expect(openAPI.status == 200)
        #expect(openAPI.text.hasPrefix("openapi: 3.0.3"))
        #expect(openAPI.text.contains("/v1/tokens:"))
        await fixture.server.stop()
    }
}
