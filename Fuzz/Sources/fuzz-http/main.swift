import FuzzSupport
import NIOCore
import NIOEmbedded
@_spi(Fuzzing) import TokenServer

/// Random bytes into tokend's HTTP/1.1 pipeline over an `EmbeddedChannel`, split at random points
/// (the input's first eight bytes seed the splits and the clock), with time moving now and then
/// so that deadlines fire. Properties: nothing traps; the connection never holds more than two
/// bodies' worth of request bytes; every byte written back is a sequence of well-formed HTTP/1.1
/// responses, each final one with Content-Length and X-Request-Id, and nothing after one that
/// says `Connection: close`.
runFuzzer { bytes in
    guard bytes.count > 8 else { return }
    var random = SplitMix(seed: bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
    let input = bytes.dropFirst(8)
    let channel = EmbeddedChannel()
    let probe = try! HTTPPipelineProbe.install(on: channel.pipeline.syncOperations)
    try! channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    var output: [UInt8] = []
    var offset = input.startIndex
    while offset < input.endIndex, channel.isActive {
        let end = min(input.endIndex, offset + 1 + random.next(upTo: 256))
        _ = try? channel.writeInbound(ByteBuffer(bytes: input[offset..<end]))
        offset = end
        if random.next(upTo: 8) == 0 { channel.embeddedEventLoop.advanceTime(by: .seconds(Int64(random.next(upTo: 40)))) }
        channel.embeddedEventLoop.run()
        if probe.bufferedBytes > 2 * HTTPPipelineProbe.maximumBodySize {
            fatalError("the connection holds \(probe.bufferedBytes) bytes of requests")
        }
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { output += buffer.readableBytesView }
    }
    channel.embeddedEventLoop.advanceTime(by: .seconds(60))
    while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { output += buffer.readableBytesView }
    if let problem = ResponseStream.problem(in: output, heads: probe.answeredHEAD) {
        fatalError("\(problem) in: \(String(decoding: output.prefix(2000), as: UTF8.self).debugDescription)")
    }
    _ = try? channel.close().wait()
}

/// Checks a byte stream of HTTP/1.1 responses as tokend writes them.
enum ResponseStream {
    static let statuses: Set<Int> = [100, 200, 400, 401, 403, 404, 405, 408, 413, 415, 417, 429, 431, 500, 501, 503]

    /// `heads`: whether each final response answers a HEAD (and so has no body), in order.
    static func problem(in bytes: [UInt8], heads: [Bool]) -> String? {
        var rest = bytes[...]
        var closed = false
        var answered = 0
        while !rest.isEmpty {
            if closed { return "bytes after a Connection: close response" }
            guard let headEnd = find([13, 10, 13, 10], in: rest) else { return "a response head without its end" }
            let lines = String(decoding: rest[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
            rest = rest[(headEnd + 4)...]
            let statusLine = lines[0].split(separator: " ", maxSplits: 2)
            guard statusLine.count == 3, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]), statuses.contains(status) else {
                return "a malformed status line \(lines[0].debugDescription)"
            }
            var headers: [String: [String]] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { return "a malformed header line \(line.debugDescription)" }
                headers[line[..<colon].lowercased(), default: []].append(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            if status < 200 {
                guard headers.isEmpty else { return "headers on a 1xx" }
                continue
            }
            guard let lengths = headers["content-length"], lengths.count == 1, let length = Int(lengths[0]) else {
                return "a response without exactly one Content-Length"
            }
            guard headers["x-request-id"]?.count == 1 else { return "a response without one X-Request-Id" }
            guard answered < heads.count else { return "more responses than answers recorded" }
            // A HEAD answer carries the length of the body it leaves out.
            if !heads[answered] {
                guard rest.count >= length else { return "a body shorter than its Content-Length" }
                rest = rest.dropFirst(length)
            }
            answered += 1
            closed = headers["connection"]?.contains { $0.lowercased() == "close" } ?? false
        }
        return answered == heads.count ? nil : "\(heads.count) answers recorded, \(answered) written"
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// Deterministic splits from the input itself, so a crash replays from its input alone.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(upTo bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
    }
}
