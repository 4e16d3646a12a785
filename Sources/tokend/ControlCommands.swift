import ArgumentParser
import TokenCore

/// `tokend revoke`: ends tokens before they expire (POST /v1/tokens/revoke).
struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a token, a jti, or an identity's tokens, on a running service.",
        discussion: """
            Exactly one of --token, --jti or --identity. A caller revokes the tokens it minted; \
            with the revoke_any permission, anyone's. An unknown or invalid token is answered as \
            revoked (nothing to do). Every replica refuses the revoked tokens at introspection.

            Examples:
              tokend revoke --url http://127.0.0.1:8080 --api-key "$KEY" --token "$TOKEN"
              tokend revoke --url http://127.0.0.1:8080 --api-key "$KEY" --identity alice
              tokend revoke --url … --api-key "$KEY" --identity alice --issued-before 2026-12-03T12:00:00Z
            """
    )

    @OptionGroup var call: CallerCallOptions

    @Option(ClientOptions.token) var token: String?

    @Option(help: ArgumentHelp("Revoke by token id (the jti claim, or the mint response's jti).", valueName: "jti"))
    var jti: String?

    @Option(help: ArgumentHelp("Revoke every token issued for this identity until now.", valueName: "id"))
    var identity: String?

    @Option(name: .customLong("issued-before"), help: ArgumentHelp(
        "With --identity: only tokens issued before this RFC 3339 time.", valueName: "time"))
    var issuedBefore: String?

    func run() async throws {
        var fields: [(String, String)] = []
        if let token = try ClientOptions.token.given(token) { fields.append(("token", token)) }
        if let jti { fields.append(("jti", jti)) }
        if let identity { fields.append(("identity", identity)) }
        guard fields.count == 1 else { throw CommandFailure.usage("give exactly one of --token, --jti or --identity") }
        if let issuedBefore {
            guard identity != nil else { throw CommandFailure.usage("--issued-before goes with --identity") }
            fields.append(("issued_before", issuedBefore))
        }
        try await ControlCall.send(fields, to: "/v1/tokens/revoke", with: call)
    }
}

/// `tokend introspect`: asks a running service whether a token is good now (RFC 7662).
struct IntrospectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "introspect",
        abstract: "Ask a running service whether a token is active, and what it carries.",
        discussion: """
            Prints the service's answer: {"active": true, …claims…} or {"active": false}. Exits 0 \
            when the token is active and 1 when it is not. The caller needs the introspect permission.

            Example:
              tokend introspect --url http://127.0.0.1:8080 --api-key "$KEY" "$TOKEN"
            """
    )

    @OptionGroup var call: CallerCallOptions

    @Argument(help: ArgumentHelp("The token (or TOKEND_TOKEN).", valueName: "token"))
    var token: String?

    func run() async throws {
        guard let token = try ClientOptions.token.given(token) else { throw CommandFailure.usage("give the token to introspect") }
        let answer = try await ControlCall.send([("token", token)], to: "/v1/tokens/introspect", with: call)
        guard case .object(let object)? = try? JSONParser.parse(answer), object["active"] == .bool(true) else {
            throw CommandFailure(status: .refused, message: "the token is not active")
        }
    }
}

/// `tokend block`: no caller gets a token for an identity, and its tokens stop being active.
struct BlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Block an identity on a running service: no caller gets a token for it.",
        discussion: """
            Its tokens issued so far stop being active at introspection. Needs the block permission. \
            A Twilio-profile token is verified by Twilio, not by tokend: docs/revocation-and-quotas.md says how to end those.

            Example:
              tokend block --url http://127.0.0.1:8080 --api-key "$KEY" --identity mallory --until 2026-12-04T00:00:00Z --reason "card testing"
            """
    )

    @OptionGroup var call: CallerCallOptions

    @Option(help: ArgumentHelp("The identity to block.", valueName: "id"))
    var identity: String

    @Option(help: ArgumentHelp("When the block ends by itself (RFC 3339); without it, until unblocked.", valueName: "time"))
    var until: String?

    @Option(help: ArgumentHelp("Why, for the audit log (at most 200 characters).", valueName: "text"))
    var reason: String?

    func run() async throws {
        var fields = [("identity", identity)]
        if let until { fields.append(("until", until)) }
        if let reason { fields.append(("reason", reason)) }
        try await ControlCall.send(fields, to: "/v1/identities/block", with: call)
    }
}

/// `tokend unblock`: lifts a block (tokens issued before stay revoked).
struct UnblockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unblock",
        abstract: "Lift an identity's block on a running service; its older tokens stay revoked.")

    @OptionGroup var call: CallerCallOptions

    @Option(help: ArgumentHelp("The identity to unblock.", valueName: "id"))
    var identity: String

    func run() async throws {
        try await ControlCall.send([("identity", identity)], to: "/v1/identities/unblock", with: call)
    }
}

/// The request and answer the four commands share: a JSON object of strings out, the service's
/// JSON answer printed on stdout, an error answer as the command's failure.
enum ControlCall {
    @discardableResult
    static func send(_ fields: [(String, String)], to path: String, with call: CallerCallOptions) async throws -> [UInt8] {
        var writer = JSONWriter()
        writer.raw("{")
        for (index, (name, value)) in fields.enumerated() {
            if index > 0 { writer.append(byte: UInt8(ascii: ",")) }
            writer.key(name); writer.string(value)
        }
        writer.raw("}")
        let answer = try await call.post(writer.bytes, to: path)
        guard answer.status == 200 else { throw CommandFailure.refused(HTTPCall.errorMessage(answer)) }
        Console.out(String(decoding: answer.body, as: UTF8.self))
        return answer.body
    }
}
