import ArgumentParser
import TokenCore

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Print a token's header and payload without verifying it.",
        discussion: """
            Prints {"header": …, "payload": …} as one JSON line (pipe it to jq). Nothing is \
            verified: use `tokend verify` to trust a token. Pass - to read the token from stdin.
            """
    )

    @Argument(help: "The token, or - to read it from stdin.")
    var token: String

    func run() throws {
        let text = token == "-" ? Console.readStandardInput().trimmingWhitespace : token
        do {
            let decoded = try DecodedJWT(text)
            Console.out(JSONValue.object(JSONObject(["header": .object(decoded.header), "payload": .object(decoded.payload)])).jsonText)
        } catch {
            throw CommandFailure.refused("cannot decode: \(error)")
        }
    }
}
