import Foundation
import Testing
import TestSupport
import TokenCore

/// `/metrics` names and the access log formats.
struct ObservabilityTests {
    @Test func everyMetricFamilyFollowsPrometheusPractice() async throws {
        let fixture = try await Fixture.start()
        _ = try await fixture.mint()
        _ = try await fixture.mint(apiKey: "wrong")
        _ = try await HTTPTestClient.send("GET", fixture.base + "/nope")
        let text = try await HTTPTestClient.send("GET", fixture.base + "/metrics").text
        var helped = Set<String>()
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 3)
            if line.hasPrefix("# HELP ") { helped.insert(String(words[2])) }
            if line.hasPrefix("# TYPE ") { types[String(words[2])] = String(words[3]) }
        }
        #expect(!types.isEmpty)
        for (family, type) in types {
            #expect(helped.contains(family), "\(family) has no HELP")
            #expect(family.hasPrefix("tokend_"), "\(family) is not tokend's")
            if type == "counter" { #expect(family.hasSuffix("_total"), "\(family)") }
            if family.contains("duration") { #expect(family.hasSuffix("_seconds"), "\(family)") }
        }
        // Every sample belongs to a described family.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                types[name] == nil && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
            }
            #expect(types[family] != nil, "\(name) has no TYPE")
        }
        #expect(text.contains(#"tokend_http_requests_total{route="other",status="404"} 1"#))
        await fixture.server.stop()
    }

    @Test func jsonAccessLogHasTheDocumentedFields() async throws {
        let fixture = try await Fixture.start(["--log-format", "json"])
        _ = try await fixture.mint(headers: [("X-Request-Id", "trace-42")])
        _ = try await fixture.mint(apiKey: "wrong")
        await fixture.server.stop()
        let lines = fixture.server.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        var requests: [JSONObject] = []
        for line in lines {
            let object = try #require(try? JSONParser.parse(Array(line.utf8)).objectValue, "not a JSON object: \(line)")
            for key in ["time", "level", "message"] { #expect(object[key] != nil, "\(key) missing: \(line)") }
            if object["message"] == .string("request") { requests.append(object) }
        }
        let issued = try #require(requests.first { $0["request_id"] == .string("trace-42") })
        #expect(issued["method"] == .string("POST") && issued["path"] == .string("/v1/tokens"))
        #expect(issued["status"]?.integerValue == 200 && issued["caller"] == .string("web"))
        #expect(issued["duration_ms"] != nil)
        #expect(requests.contains { $0["status"]?.integerValue == 401 })
    }

    @Test func textLogLinesAreKeyValuePairsWithQuotedValues() async throws {
        let fixture = try await Fixture.start()
        _ = try await HTTPTestClient.send("GET", fixture.base + "/healthz", headers: [("X-Request-Id", "r-1")])
        await fixture.server.stop()
        let line = try #require(fixture.server.stderr.split(separator: "\n").first { $0.contains("request_id=r-1") })
        #expect(line.hasPrefix("time=") && line.contains(" level=info message=request "))
        #expect(line.contains("method=GET path=/healthz status=200"))
        // A value with spaces is quoted, so the line still splits into pairs.
        #expect(fixture.server.stderr.contains(#"message="closing the listener; finishing requests in flight""#))
    }

    @Test func logLevelWarningDropsTheAccessLog() async throws {
        let fixture = try await Fixture.start(["--log-level", "warning"])
        _ = try await HTTPTestClient.send("GET", fixture.base + "/healthz")
        await fixture.server.stop()
        #expect(!fixture.server.stderr.contains("message=request"))
    }
}
