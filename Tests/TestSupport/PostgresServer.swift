import Foundation
import Synchronization

/// A throwaway PostgreSQL server for the tests: its own data directory under /tmp, loopback only,
/// password (SCRAM) authentication and TLS with a self-signed certificate, so that the tests see
/// what an operator's server would do. PostgreSQL refuses to run as root, so as root it runs as
/// the `postgres` user (`runuser`).
///
/// The tests that need it always run: without PostgreSQL's server binaries (Debian's
/// `postgresql`, part of this project's machine image; `.ci/run` installs it when missing) they
/// fail with that message, on a developer's machine as in CI.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked: `process` is replaced only by start/stop, which the tests call in sequence.
    public static let user = "tokend"
    /// With characters that must be percent-encoded in a URL, to test that path too.
    public static let password = "pg-p@ss/word-\(UUID().uuidString.prefix(8))"

    public let directory: String
    public let port: Int
    public let binDirectory: String
    private var process: Process?

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// One server per test process, started on first use.
    public static let shared: Result<PostgresServer, Unavailable> = {
        do { return .success(try PostgresServer()) } catch let error as Unavailable { return .failure(error) } catch {
            return .failure(Unavailable(description: "\(error)"))
        }
    }()

    /// A new cluster (initdb), started. Tests that stop, promote or replicate a server make one
    /// of their own; the rest share `shared`.
    public init() throws {
        (binDirectory, directory, port) = try Self.prepareDirectory()
        try runAsPostgres(binDirectory + "/initdb", ["-D", directory + "/data", "-U", Self.user, "--pwfile=\(directory)/pwfile",
                                                      "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--locale=C"])
        // Replication too, for `init(standbyOf:)`: the tokend user is the cluster's superuser.
        try "hostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\nlocal all all scram-sha-256\nhost replication all 127.0.0.1/32 scram-sha-256\n"
            .write(toFile: directory + "/data/pg_hba.conf", atomically: true, encoding: .utf8)
        try chownToPostgres()
        try start()
        Self.removeAtExit(self)
    }

    /// A streaming standby of `primary` on a port of its own: a base backup (`pg_basebackup -R`,
    /// which writes the standby's connection to the primary), started in recovery. It follows
    /// the primary asynchronously until `primary.waitForSynchronousStandby()`.
    public init(standbyOf primary: PostgresServer) throws {
        (binDirectory, directory, port) = try Self.prepareDirectory()
        try FileManager.default.removeItem(atPath: directory + "/data")
        let backup = ["/usr/bin/env", "PGPASSWORD=\(Self.password)", binDirectory + "/pg_basebackup", "-h", "127.0.0.1", "-p", "\(primary.port)",
                      "-U", Self.user, "-D", directory + "/data", "-R", "-X", "stream", "--no-sync"]
        try runAsPostgres(backup[0], Array(backup.dropFirst()))
        try chownToPostgres()
        try start()
        Self.removeAtExit(self)
    }

    /// Makes every commit wait for a standby's flush (`synchronous_standby_names = '*'`), and
    /// returns once one is streaming synchronously.
    public func waitForSynchronousStandby() throws {
        try psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        try psql("SELECT pg_reload_conf()")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if try psql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'").trimmingCharacters(in: .whitespacesAndNewlines) == "1" { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Unavailable(description: "no synchronous standby within 30 s")
    }

    /// A standby becomes a primary (`pg_promote`, waiting until it accepts writes).
    public func promote() throws {
        let promoted = try psql("SELECT pg_promote(true, 60)").trimmingCharacters(in: .whitespacesAndNewlines)
        guard promoted == "t" else { throw Unavailable(description: "pg_promote answered \(promoted)") }
    }

    /// A URL naming several servers, in order, as libpq writes it: `host1:port1,host2:port2`.
    public static func url(hosts servers: [PostgresServer], database: String, query: String) -> String {
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        let hosts = servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        return "postgres://\(user):\(encoded)@\(hosts)/\(database)" + (query.isEmpty ? "" : "?\(query)")
    }

    private static func prepareDirectory() throws -> (bin: String, directory: String, port: Int) {
        guard let bin = findBinDirectory() else {
            throw Unavailable(description: "PostgreSQL is not installed (apt-get install postgresql)")
        }
        let directory = "/tmp/tokend-pg-\(UUID().uuidString.prefix(8))"
        let port = try freePort()
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        try Data(password.utf8).write(to: URL(fileURLWithPath: directory + "/pwfile"))
        try makeCertificate(in: directory)
        try chownToPostgres(directory)
        return (bin, directory, port)
    }

    /// Every server a test process started is stopped and removed when it exits.
    private static let started = Mutex<[PostgresServer]>([])
    private static func removeAtExit(_ server: PostgresServer) {
        let first = started.withLock { servers in
            servers.append(server)
            return servers.count == 1
        }
        if first { atexit { for server in PostgresServer.started.withLock({ $0 }) { server.stopNow() } } }
    }

    /// A URL for a fresh, empty database with the given query parameters.
    public func makeDatabase(query: String = "sslmode=disable") throws -> String {
        let name = "t_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try psql("CREATE DATABASE \(name)")
        return url(database: name, query: query)
    }

    public func url(database: String, query: String = "sslmode=disable") -> String {
        let encoded = Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? Self.password
        return "postgres://\(Self.user):\(encoded)@127.0.0.1:\(port)/\(database)" + (query.isEmpty ? "" : "?\(query)")
    }

    public var logPath: String { directory + "/server.log" }
    public var certificatePath: String { directory + "/server.crt" }

    /// Runs SQL through psql and returns what it printed (unaligned, tuples only): as the
    /// superuser, or as `role` (name, password); throws with psql's error.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres", as role: (name: String, password: String)? = nil) throws -> String {
        let result = try Self.run("/usr/bin/env", ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)",
                                                   "-U", role?.name ?? Self.user, "-d", database, "-c", sql],
                                  environment: ["PGPASSWORD": role?.password ?? Self.password, "PGSSLMODE": "disable"])
        guard result.status == 0 else { throw Unavailable(description: "psql failed: \(result.stderr)") }
        return result.stdout
    }

    /// Runs SQL through psql without waiting for it (a session that holds a lock, say); the
    /// caller waits for or terminates the process.
    public func psqlInBackground(_ sql: String, database: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", database, "-c", sql]
        process.environment = ProcessInfo.processInfo.environment.merging(["PGPASSWORD": Self.password, "PGSSLMODE": "disable"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts (or restarts, after `stop`) the server on the same port and data.
    public func start() throws {
        let process = Process()
        let postgres = binDirectory + "/postgres"
        let arguments = ["-D", directory + "/data", "-p", "\(port)", "-k", directory, "-c", "listen_addresses=127.0.0.1",
                         "-c", "ssl=on", "-c", "ssl_cert_file=\(directory)/server.crt", "-c", "ssl_key_file=\(directory)/server.key",
                         "-c", "max_connections=200", "-c", "shared_buffers=64MB"]
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", postgres] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: postgres)
            process.arguments = arguments
        }
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = FileManager.default.createFile(atPath: directory + "/server.log", contents: nil) ? FileHandle(forWritingAtPath: directory + "/server.log") : nil
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? Self.run(binDirectory + "/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-q"]))?.status == 0 { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let logText = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
        throw Unavailable(description: "PostgreSQL did not start: \(logText.suffix(2000))")
    }

    /// Fast shutdown (SIGINT to the postmaster itself: `runuser` does not pass it on), as in an
    /// outage: connections are cut; or, `immediately`, as a crash. Waits until the server is gone, by polling rather than
    /// `Process.waitUntilExit`, which cannot be used from an exit handler.
    public func stop(immediately: Bool = false) {
        guard let pid = postmasterPID() else { return }
        // SIGQUIT: immediate shutdown, as a crash would be (no checkpoint; recovery at the next start).
        kill(pid, immediately ? SIGQUIT : SIGINT)
        let deadline = Date().addingTimeInterval(20)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(20_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        process = nil
    }

    private func postmasterPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
              let line = text.split(separator: "\n").first, let pid = pid_t(line), kill(pid, 0) == 0 else { return nil }
        return pid
    }

    private func stopNow() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func makeCertificate(in directory: String) throws {
        let result = try run("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                              "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                              "-keyout", directory + "/server.key", "-out", directory + "/server.crt"])
        guard result.status == 0 else { throw Unavailable(description: "openssl failed: \(result.stderr)") }
        chmod(directory + "/server.key", 0o600)
    }

    private func chownToPostgres() throws {
        try Self.chownToPostgres(directory)
    }

    private static func chownToPostgres(_ directory: String) throws {
        guard getuid() == 0 else { return }
        let result = try run("/bin/chown", ["-R", "postgres:postgres", directory])
        guard result.status == 0 else { throw Unavailable(description: "chown failed: \(result.stderr)") }
        chmod(directory, 0o755)
    }

    private func runAsPostgres(_ executable: String, _ arguments: [String]) throws {
        let result = getuid() == 0 ? try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
                                   : try Self.run(executable, arguments)
        guard result.status == 0 else { throw Unavailable(description: "\(executable) failed: \(result.stderr)") }
    }

    private static func findBinDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Unavailable(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try Executables.run(URL(fileURLWithPath: executable), arguments, environment: environment)
    }
}
