import ArgumentParser
import HTTPTypes
import TokenCore

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print RFC 9421 signature headers for a request, for curl.",
        discussion: """
            Signs with hmac-sha256, covering @method, @target-uri and (with a body) \
            content-digest, with created, keyid, alg and a random nonce. Prints one \
            "Name: value" line per header, or curl -H arguments with --curl. A signature is \
            accepted once and for --max-skew (300 s) around its creation: sign every request.

            The request's URL: --url, the whole URL; or TOKEND_URL (tokend's base URL, as for \
            every command) and --path (default /v1/tokens).

            Example:
              BODY='{"identity":"alice"}'
              tokend sign --key-id web --hmac-secret "$S" --method POST \\
                  --url http://127.0.0.1:8080/v1/tokens --data "$BODY" --curl \\
                | xargs curl -s -X POST http://127.0.0.1:8080/v1/tokens \\
                    -H 'Content-Type: application/json' -d "$BODY"
            """
    )

    @Option(ClientOptions.keyID) var keyID: String?
    @Option(ClientOptions.hmacSecret) var hmacSecret: String?

    @Option(help: "The request method.")
    var method = "POST"

    @Option(help: ArgumentHelp("The full URL the request goes to (without it: TOKEND_URL, the base URL, and --path).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("With TOKEND_URL instead of --url: the request's path (default /v1/tokens).", valueName: "path"))
    var path: String?

    @Option(help: ArgumentHelp("The request body, exactly as it will be sent.", valueName: "body"))
    var data: String?

    @Flag(help: "Print -H '…' arguments for curl instead of header lines.")
    var curl = false

    func run() throws {
        let keyID = try ClientOptions.keyID.value(keyID)
        let secret = try ClientOptions.hmacSecret.value(hmacSecret)
        if url != nil, path != nil { throw CommandFailure.usage("--url is the whole URL: give --url or --path, not both") }
        let urlText = try url ?? (Environment.baseURL(nil) + (path ?? "/v1/tokens"))
        guard let request = RequestParts(method: method, url: urlText, body: Array((data ?? "").utf8)) else {
            throw CommandFailure.usage("--url must be an absolute http:// or https:// URL")
        }
        let headers: [(name: String, value: String)]
        do {
            headers = try MessageSigner(keyID: keyID, secret: secret).sign(request, created: WallClock.now())
        } catch {
            throw CommandFailure.usage(error.message)
        }
        for header in headers {
            Console.out(curl ? "-H '\(header.name): \(header.value)'" : "\(header.name): \(header.value)")
        }
    }
}
