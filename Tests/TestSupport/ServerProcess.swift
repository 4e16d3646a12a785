import Foundation

/// A real `tokend serve` process on a loopback port, with everything it prints captured (for
/// the tests that check what it logs).
public final class ServerProcess: @unchecked Sendable {
    // @unchecked: the output buffers are guarded by `lock`; the rest is set once in `start`.
    public let process = Process()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()
    public private(set) var port = 0

    public var baseURL: String { "\(stdout.contains("listening on https") ? "https" : "http")://127.0.0.1:\(port)" }
    public var stdout: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    public var stderr: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Starts `tokend serve` with `arguments` (add `--port 0`) and waits until it listens.
    /// `launcher` runs it through another program (`setpriv … ` to drop privileges, say), which
    /// is given the binary and the arguments.
    public init(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
                binary: URL = Executables.tokend, launcher: [String] = []) async throws {
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [binary.path, "serve"] + arguments
        } else {
            process.executableURL = binary
            process.arguments = ["serve"] + arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TOKEND_") }
        // Tests stop servers often: no drain delay unless a test asks for one.
        env["TOKEND_SHUTDOWN_DELAY"] = "0"
        env.merge(environment) { $1 }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Each pipe is read by a thread of its own with blocking reads until end of file, not by
        // a `readabilityHandler`: those are dispatch sources, and one still armed when its
        // FileHandle goes away crashed the whole test process in libdispatch (seen under the
        // suite's load: `_dispatch_event_loop_drain`, a bad pointer).
        Self.drain(out.fileHandleForReading) { [weak self] data in self?.lock.withLock { self?.stdoutData.append(data) } }
        Self.drain(err.fileHandleForReading) { [weak self] data in self?.lock.withLock { self?.stderrData.append(data) } }
        // What the server printed is read after every wake-up, before the deadline is judged:
        // a test whose task was not scheduled for a while (the suite's blocking set-up, a
        // PostgreSQL initdb on a cold machine, can hold both cooperative threads for seconds)
        // must not fail a server that announced itself in time.
        let deadline = Date().addingTimeInterval(20)
        while true {
            let output = stdout
            if let announced = output.range(of: "listening on "),
               let range = output[announced.upperBound...].range(of: "://127.0.0.1:") {
                let digits = output[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) {
                    self.port = port
                    return
                }
            }
            if !process.isRunning || Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw StartFailure(stdout: stdout, stderr: stderr)
    }

    /// Reads `handle` until end of file (the process exited), handing each chunk to `append`.
    private static func drain(_ handle: FileHandle, _ append: @escaping @Sendable (Data) -> Void) {
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                append(Data(buffer[0..<count]))
            }
        }
        reader.stackSize = 1 << 18
        reader.start()
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public let stdout: String
        public let stderr: String
        public var description: String { "tokend serve did not start\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    /// The server's resident memory now (VmRSS), in bytes.
    public var residentBytes: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// CPU time the server has used so far (user and system), in seconds.
    public var cpuSeconds: Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // Fields after the command name (which is in parentheses and may hold spaces): utime is
        // the 14th field of the line, stime the 15th, in clock ticks.
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// SIGTERM, then waits for the process to exit; returns its status.
    @discardableResult
    public func stop() async -> Int32 {
        if process.isRunning { process.terminate() }
        return await waitForExit()
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    public func kill9() async {
        signal(SIGKILL)
        _ = await waitForExit()
    }

    public func waitForExit() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    /// Waits until `text` appears in the combined output.
    public func waitForOutput(_ text: String, timeout: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if stdout.contains(text) || stderr.contains(text) { return true }  // checked after every wake-up, as above
            if Date() >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
