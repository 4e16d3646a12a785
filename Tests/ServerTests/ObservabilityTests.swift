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
            #expect(family.hasPrefix("tokend_") || family.hasPrefix("process_"), "\(family) is neither tokend's nor the standard process family")
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

    /// The standard process families; series only for what exists (no database gauge without a
    /// database, no caller's counter once a reload removed it); histogram bounds written alike;
    /// JSON log values typed.
    @Test func processFamiliesAndOnlySeriesThatExistAndTypedLogValues() async throws {
        let fixture = try await Fixture.start(["--log-format", "json"])
        _ = try await fixture.mint()
        var text = try await HTTPTestClient.send("GET", fixture.base + "/metrics").text
        for family in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                       "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
            let value = text.split(separator: "\n").first { $0.hasPrefix(family + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
            #expect((value ?? 0) > 0, "\(family): \(String(describing: value))")
        }
        #expect(!text.contains("tokend_database_operations_in_flight"))
        let bounds = text.split(separator: "\n").compactMap { line in line.range(of: #"le=""#).map { line[$0.upperBound...].prefix { $0 != "\"" } } }
        #expect(!bounds.isEmpty && bounds.allSatisfy { $0 == "+Inf" || $0.contains(".") || $0.contains("e") }, "\(Set(bounds))")
        #expect(text.contains(#"tokend_tokens_issued_total{caller="web"}"#))
        // A reload that removes the caller removes its series.
        let withoutWeb = SampleSecrets.toml.components(separatedBy: "[[callers]]").first! 
            + "[[callers]]\nid = \"other\"\napi_key_sha256 = \"\(SHA256.hash("other-key-0123456789").hex)\"\ngrants = [\"chat\"]\n"
        try withoutWeb.write(toFile: fixture.secretsPath, atomically: true, encoding: .utf8)
        chmod(fixture.secretsPath, 0o600)
        fixture.server.signal(SIGHUP)
        let gone = try await SharedControlTests.secondsUntil {
            !(try await HTTPTestClient.send("GET", fixture.base + "/metrics").text.contains(#"caller="web""#))
        }
        text = try await HTTPTestClient.send("GET", fixture.base + "/metrics").text
        #expect(gone != nil, "\(text.split(separator: "\n").filter { $0.contains("web") })")
        await fixture.server.stop()
        let lines = fixture.server.stderr.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)).objectValue }
        let listening = try #require(lines.first { $0["message"] == .string("listening") })
        #expect(listening["port"]?.integerValue == fixture.server.port)
        let reloaded = try #require(lines.first { $0["message"] == .string("secrets reloaded") })
        #expect(reloaded["callers"]?.integerValue == 1 && reloaded["signing_keys"]?.integerValue != nil, "\(reloaded)")
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
