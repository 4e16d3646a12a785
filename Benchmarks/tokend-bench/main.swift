// Mints per second on one core against raw HMAC-SHA256s per second over the same bytes, in one
// run, so the ratio says what minting costs beyond the MAC itself; and the HMAC tokend uses (two
// SHA-256 states keyed once, copied per message) beside OpenSSL's alternatives, so the choice can
// be made again with this one command.
//
//   swift run -c release tokend-bench [seconds-per-measurement]
import COpenSSL
import TokenCore

#if canImport(Glibc)
import Glibc
#endif

func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Runs `body` in batches until `seconds` have passed; returns operations per second.
func measure(seconds: Double, _ body: () -> Int) -> Double {
    for _ in 0..<1000 { _ = body() }  // warm-up
    var operations = 0
    var sink = 0
    let start = monotonicSeconds()
    var elapsed = 0.0
    repeat {
        for _ in 0..<1000 { sink &+= body() }
        operations += 1000
        elapsed = monotonicSeconds() - start
    } while elapsed < seconds
    if sink == 42 { print("") }  // keeps the optimiser from dropping the work
    return Double(operations) / elapsed
}

func rounded(_ value: Double) -> String {
    String(Double(Int(value * 100)) / 100)
}

func runBenchmark(seconds: Double) {
    let secret = KeyMaterial.secret()
    let key = SigningKey(kid: "2026-11", secret: secret, profile: .generic, isActive: true)
    let hmacKey = HMACKey(utf8: secret)
    let grants = JSONObject(["data_sync": .object(JSONObject(["service_sid": .string("IS00000000000000000000000000000000")]))])
    let now = WallClock.now()

    let mint = {
        TokenMinter.mint(identity: "alice@example.com", grants: grants, ttl: 3600, now: now, key: key, issuer: "tokend").token.utf8.count
    }
    // The raw HMAC runs over a real token's signing input, so both figures hash the same bytes.
    let sample = TokenMinter.mint(identity: "alice@example.com", grants: grants, ttl: 3600, now: now, key: key, issuer: "tokend").token
    let signingInput = Array(sample.utf8[..<sample.utf8.lastIndex(of: UInt8(ascii: "."))!])
    let output = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
    defer { output.deallocate() }
    let hmac = {
        signingInput.withUnsafeBytes { hmacKey.authenticate($0, into: output) }
        return Int(output[0])
    }

    // The alternatives over the same bytes and key.
    let keyBytes = Array(secret.utf8)
    guard let evpContext = keyBytes.withUnsafeBufferPointer({ tokend_bench_evp_hmac_new($0.baseAddress, $0.count) }) else {
        fatalError("EVP_MAC HMAC-SHA256 is not available")
    }
    defer { EVP_MAC_CTX_free(evpContext) }
    let evp = {
        _ = signingInput.withUnsafeBufferPointer { tokend_bench_evp_hmac(evpContext, $0.baseAddress, $0.count, output) }
        return Int(output[0])
    }
    let oneShot = {
        _ = keyBytes.withUnsafeBufferPointer { key in
            signingInput.withUnsafeBufferPointer { tokend_bench_one_shot_hmac(key.baseAddress, Int32(key.count), $0.baseAddress, $0.count, output) }
        }
        return Int(output[0])
    }
    // The three compute one MAC: checked before they are timed.
    var expected = [UInt8](repeating: 0, count: 32)
    signingInput.withUnsafeBytes { hmacKey.authenticate($0, into: &expected) }
    for (name, alternative) in [("EVP_MAC", evp), ("HMAC()", oneShot)] {
        _ = alternative()
        precondition(Array(UnsafeBufferPointer(start: output, count: 32)) == expected, "\(name) computes another MAC")
    }

    let candidates: [(name: String, body: () -> Int)] = [("hmac", hmac), ("mint", mint), ("evp", evp), ("oneShot", oneShot)]
    var rates: [String: [Double]] = [:]
    // Alternate them so that drift in machine load hits all alike; report the medians.
    for _ in 0..<3 {
        for candidate in candidates { rates[candidate.name, default: []].append(measure(seconds: seconds, candidate.body)) }
    }
    func median(_ name: String) -> Double { rates[name]!.sorted()[1] }
    let (hmacRate, mintRate) = (median("hmac"), median("mint"))
    print("signing input: \(signingInput.count) bytes; token: \(sample.utf8.count) bytes")
    print("hmac-sha256 (pre-keyed): \(Int(hmacRate)) /s  (\(rounded(1e9 / hmacRate)) ns each)")
    print("mint (claims+sign+encode): \(Int(mintRate)) /s  (\(rounded(1e9 / mintRate)) ns each)")
    print("mint cost / hmac cost: \(rounded(hmacRate / mintRate))x  (goal: <= 2x)")
    for (label, name) in [("EVP_MAC, one context re-initialised", "evp"), ("HMAC() one-shot, keyed per call", "oneShot")] {
        print("alternative \(label): \(Int(median(name))) /s  (\(rounded(1e9 / median(name))) ns each; \(rounded(hmacRate / median(name)))x the pre-keyed cost)")
    }
}

runBenchmark(seconds: CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 3 : 3)
