#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain writes to stdout and stderr. Tokens go to stdout only, so `$(tokend mint …)` captures
/// exactly the token; warnings and errors go to stderr.
enum Console {
    static func out(_ line: String) {
        write(descriptor: 1, line + "\n")
    }

    static func error(_ line: String) {
        write(descriptor: 2, line + "\n")
    }

    /// Raw bytes to stdout, as they are (`audit export` prints records byte for byte).
    static func write(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write(descriptor: 1, $0) }
    }

    private static func write(descriptor: Int32, _ text: String) {
        var text = text
        text.withUTF8 { write(descriptor: descriptor, $0) }
    }

    private static func write(descriptor: Int32, _ buffer: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }

    /// Reads all of standard input (for `TOKEN` given as `-`, which keeps tokens out of `ps`).
    static func readStandardInput() -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
