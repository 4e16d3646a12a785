import FuzzSupport
import TokenCore

/// The request body: any bytes into the strict JSON parser; what parses must re-serialise and
/// parse back to the same value, and become a token request or a clear refusal.
runFuzzer { bytes in
    guard let value = try? JSONParser.parse(bytes) else { return }
    var writer = JSONWriter()
    writer.value(value)
    guard let again = try? JSONParser.parse(writer.bytes) else { fatalError("serialised JSON does not parse: \(writer.string)") }
    guard again == value else { fatalError("JSON changed in a round trip: \(writer.string)") }
    _ = try? TokenRequest(json: bytes)
}
