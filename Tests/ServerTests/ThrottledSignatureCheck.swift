import Foundation
import Testing
import TestSupport
import TokenCore

/// A signed request that the rate limit refuses leaves nothing in the replay ledger: once the
/// bucket has refilled, the very same request (same signature, same nonce) is accepted — and only
/// then is it spent. Expects the caller "web" at `rate_limit = 0.5`: a bucket of one request that
/// refills in 2 s, so that a machine busy with the rest of the suite cannot refill it between
/// the mint that empties it and the signed request.
func expectThrottledSignatureIsNotSpent(base: String) async throws {
    let url = base + "/v1/tokens"
    let body = Array(#"{"identity":"alice"}"#.utf8)
    var headers: [(String, String)] = []
    var throttled: HTTPResult?
    // The bucket emptied, then a signed request at once. On a machine busy with the rest of the
    // suite, the two can be more than the bucket's 2 s apart, and the request then finds it
    // refilled (a 200, which spends that signature): empty it again and sign anew.
    for _ in 0..<3 where throttled?.status != 429 {
        var emptied = false
        for _ in 0..<3 where !emptied {
            emptied = try await HTTPTestClient.mint(base, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 429
        }
        #expect(emptied)
        let parts = RequestParts(method: "POST", url: url, body: body)!
        let signature = try MessageSigner(keyID: "web", secret: SampleSecrets.hmacSecret).sign(parts, created: WallClock.now())
        headers = [("Content-Type", "application/json")] + signature.map { ($0.name, $0.value) }
        throttled = try await HTTPTestClient.send("POST", url, headers: headers, body: body)
    }
    #expect(throttled?.status == 429, "\(throttled?.text ?? "")")
    try await Task.sleep(for: .milliseconds(2100))
    let accepted = try await HTTPTestClient.send("POST", url, headers: headers, body: body)
    #expect(accepted.status == 200, "\(accepted.text)")
    try await Task.sleep(for: .milliseconds(2100))
    let replayed = try await HTTPTestClient.send("POST", url, headers: headers, body: body)
    #expect(replayed.status == 401 && replayed.errorMessage?.contains("already used") == true, "\(replayed.text)")
}
