import Foundation
import Testing
import TestSupport
@testable import TokenCore

/// Findings of the second security review that live below the HTTP layer, each with the input
/// that showed it.
struct SecondReviewTests {
    /// `[[table]]` headers used to copy every earlier table (1 MiB of headers: 47 s to refuse).
    /// Linear now: four times the headers cost about four times the time, not sixteen. A ratio
    /// within one run, not a wall-clock bound.
    @Test func tomlArraysOfTablesParseInLinearTime() throws {
        func seconds(_ count: Int) throws -> Double {
            let text = String(repeating: "[[signing_keys]]\nkid = \"k\"\n", count: count)
            let start = DispatchTime.now().uptimeNanoseconds
            let table = try TOMLParser.parse(text)
            guard case .tables(let tables)? = table["signing_keys"] else { throw MissingTables() }
            #expect(tables.count == count)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        _ = try seconds(1000)  // warm-up
        let small = try seconds(10_000)
        let large = try seconds(40_000)
        #expect(large / small < 9, "10k headers: \(small) s, 40k: \(large) s")
    }

    struct MissingTables: Error {}

    /// A value that does not parse is named by line and column only: an unquoted secret must not
    /// reach stderr or the reload log line.
    @Test func tomlErrorsNeverQuoteAValue() {
        for text in ["secret = 44170933851723095000000000000\n", "secret = 4417093385.17.23095\n", "secret = \"ab\\qcd\"\n",
                     "s3cr3tvalue4417093385\n", "x = 1e99999\n"] {
            #expect {
                try TOMLParser.parse(text)
            } throws: { error in
                let description = "\(error)"
                return !description.contains("4417093385") && !description.contains("s3cr3t") && !description.contains("ab")
                    && description.contains("line 1")
            }
        }
    }

    @Test func identitiesWithNoVisibleCharacterOrWithVariationSelectorsAreRefused() {
        for identity in ["\u{3164}", "\u{2800}", "\u{3164}\u{3164}", "a\u{FE0F}", "\u{FE0F}", "\u{115F}\u{1160}", "\u{0301}", " \u{FFA0} ",
                         "a\u{E0100}", "b\u{180B}"] {
            #expect(throws: TokenRequestError.self, "\(identity.unicodeScalars.map { String($0.value, radix: 16) })") {
                try IdentityRule.validate(identity)
            }
        }
        for identity in ["alice", "Zoë", "李小龙", "a b", "e\u{0301}", "user@example.com", "😀"] {
            #expect(throws: Never.self) { try IdentityRule.validate(identity) }
        }
    }

    /// A token signed by a key of the file but naming another issuer was not minted by this
    /// configuration.
    @Test func verificationChecksTheIssuer() throws {
        let key = SigningKey(kid: "k", secret: String(repeating: "s", count: 40), profile: .generic, isActive: true)
        let now = 1_800_000_000
        let ours = TokenMinter.mint(identity: "a", grants: JSONObject(), ttl: 3600, now: now, key: key, issuer: "tokend-test").token
        let theirs = TokenMinter.mint(identity: "a", grants: JSONObject(), ttl: 3600, now: now, key: key, issuer: "someone-else").token
        let verifier = JWTVerifier(keys: [key], issuer: "tokend-test")
        #expect(throws: Never.self) { try verifier.verify(ours, now: now) }
        #expect(throws: JWTError.self) { try verifier.verify(theirs, now: now) }
        // A bare key (`verify --secret`) knows no issuer: the signature decides.
        #expect(throws: Never.self) { try JWTVerifier(keys: [key], issuer: nil).verify(theirs, now: now) }
        // A Twilio token's iss is its key's SID.
        let twilio = SigningKey(kid: "SK" + String(repeating: "0", count: 31) + "1", secret: String(repeating: "t", count: 40),
                                profile: .twilio(accountSID: "AC" + String(repeating: "0", count: 32)), isActive: true)
        let twilioToken = TokenMinter.mint(identity: "a", grants: JSONObject(), ttl: 3600, now: now, key: twilio, issuer: "ignored").token
        #expect(throws: Never.self) { try JWTVerifier(keys: [twilio], issuer: "tokend-test").verify(twilioToken, now: now) }
    }
}
