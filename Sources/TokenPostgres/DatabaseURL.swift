import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:password@host:5432/database?sslmode=verify-full&sslrootcert=/path/ca.pem`,
/// parsed once; several hosts as libpq writes them, `host1:5432,host2:5432`, with
/// `target_session_attrs` saying which of them to use. Its description never contains the
/// password, and neither do its errors.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    /// libpq's `sslmode` values, with libpq's meaning.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// libpq's `target_session_attrs`, the values that make sense for a service that writes on
    /// every request: which of several hosts to use.
    public enum TargetSession: String, Sendable, CaseIterable {
        /// The first host that answers, whatever it is (libpq's default).
        case any
        /// A host that accepts writes: not in recovery, and not read-only by default.
        case readWrite = "read-write"
        /// A host that is not in recovery (a primary, even one set read-only by default).
        case primary
    }

    public struct Host: Sendable, Equatable, CustomStringConvertible {
        public let name: String
        public let port: Int

        public init(name: String, port: Int) {
            self.name = name
            self.port = port
        }

        public var description: String { name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)" }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// In the order written; a single host for most deployments.
    public let hosts: [Host]
    public let username: String
    let password: String?
    public let database: String
    public let sslMode: SSLMode
    public let rootCertificatePath: String?
    public let connectTimeout: Duration
    /// With several hosts, `read-write` unless the URL says otherwise: tokend writes on every
    /// request, and a standby can answer none of them (libpq's default, `any`, is for readers).
    public let targetSession: TargetSession

    public init(_ text: String) throws(Invalid) {
        func invalid(_ why: String) -> Invalid { Invalid(description: "--database (or TOKEND_DATABASE_URL): \(why)") }
        let form = "not a URL of the form postgres://user:password@host:5432/database (percent-encode special characters in the password)"
        // The host list is read here; URLComponents, which knows one host, reads the rest with
        // the list replaced by its first entry.
        let (hostList, oneHostText) = try Self.splitHosts(text, invalid: invalid)
        var hosts: [Host] = []
        for text in hostList { hosts.append(try Self.host(text, invalid: invalid)) }
        self.hosts = hosts
        guard let components = URLComponents(string: oneHostText) else { throw invalid(form) }
        guard let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard let username = components.user, !username.isEmpty else { throw invalid("no user name") }
        self.username = username
        self.password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? username : path
        var sslMode = SSLMode.prefer  // libpq's default
        var rootCertificatePath: String?
        var connectTimeout = Duration.seconds(5)
        var targetSession: TargetSession?
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "target_session_attrs":
                guard let target = TargetSession(rawValue: value) else {
                    throw invalid("target_session_attrs must be one of \(TargetSession.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                targetSession = target
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw invalid("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                rootCertificatePath = value
            case "connect_timeout":
                guard let seconds = Int(value), (1...300).contains(seconds) else { throw invalid("connect_timeout must be 1…300 seconds") }
                connectTimeout = .seconds(seconds)
            default:
                throw invalid("unknown parameter \"\(item.name.prefix(40))\" (known: sslmode, sslrootcert, connect_timeout, target_session_attrs)")
            }
        }
        if rootCertificatePath != nil && [.disable, .allow, .prefer].contains(sslMode) {
            throw invalid("sslrootcert needs sslmode=require, verify-ca or verify-full")
        }
        self.sslMode = sslMode
        self.rootCertificatePath = rootCertificatePath
        self.connectTimeout = connectTimeout
        self.targetSession = targetSession ?? (hosts.count > 1 ? .readWrite : .any)
    }

    /// The text's host list (`h1:5432,[::1]:5433`) and the text with only its first host, for
    /// URLComponents. The authority ends at the first `/`, `?` or `#`; the user information, at
    /// its last `@` (a password's own `@` must be percent-encoded, as URLComponents requires).
    private static func splitHosts(_ text: String, invalid: (String) -> Invalid) throws(Invalid) -> (hosts: [Substring], oneHost: String) {
        guard let schemeEnd = text.range(of: "://") else {
            throw invalid("not a URL of the form postgres://user:password@host:5432/database")
        }
        let authorityEnd = text[schemeEnd.upperBound...].firstIndex { "/?#".contains($0) } ?? text.endIndex
        let authority = text[schemeEnd.upperBound..<authorityEnd]
        let hostStart = authority.lastIndex(of: "@").map(authority.index(after:)) ?? authority.startIndex
        let list = authority[hostStart...]
        let hosts = list.split(separator: ",", omittingEmptySubsequences: false)
        guard !list.isEmpty, hosts.allSatisfy({ !$0.isEmpty }) else { throw invalid("no host") }
        guard hosts.count <= 16 else { throw invalid("at most 16 hosts") }
        return (hosts, String(text[..<hostStart]) + hosts[0] + text[authorityEnd...])
    }

    /// `name`, `name:port`, `[v6]` or `[v6]:port`.
    private static func host(_ text: Substring, invalid: (String) -> Invalid) throws(Invalid) -> Host {
        var name = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("an IPv6 host needs its closing ]") }
            name = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw invalid("after an IPv6 host's ], only :port") }
                portText = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            name = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !name.isEmpty else { throw invalid("no host") }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-._:%".contains($0) }), name.allSatisfy(\.isASCII) else {
            throw invalid("a host is a name or an IP address")
        }
        var port = 5432
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else { throw invalid("the port must be 1…65535") }
            port = parsed
        }
        return Host(name: String(name), port: port)
    }

    /// The URL with the password replaced, for logs and errors.
    public var description: String {
        let authority = password == nil ? username : "\(username):***"
        let target = hosts.count > 1 || targetSession != .any ? "&target_session_attrs=\(targetSession.rawValue)" : ""
        return "postgres://\(authority)@\(hosts.map(\.description).joined(separator: ","))/\(database)?sslmode=\(sslMode.rawValue)\(target)"
    }

    /// postgres-nio's configuration for one of the hosts: TLS as `sslmode` asks, and the
    /// instance's name in `application_name` so that `pg_stat_activity` shows which replica
    /// holds a connection.
    public func clientConfiguration(for host: Host, applicationName: String, maximumConnections: Int) throws(Invalid) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch try tlsPolicy() {
        case .disable: .disable
        case .prefer(let configuration): .prefer(configuration)
        case .require(let configuration): .require(configuration)
        }
        var configuration = PostgresClient.Configuration(host: host.name, port: host.port, username: username, password: password,
                                                         database: database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = [("application_name", String(applicationName.prefix(63)))]
        return configuration
    }

    /// One direct connection's configuration, the same as the pool's: to learn why the pool
    /// cannot connect (it reports only that it could not), and which host is the primary.
    func connectionConfiguration(for host: Host) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch try tlsPolicy() {
        case .disable: .disable
        case .prefer(let configuration): .prefer(try NIOSSLContext(configuration: configuration))
        case .require(let configuration): .require(try NIOSSLContext(configuration: configuration))
        }
        var configuration = PostgresConnection.Configuration(host: host.name, port: host.port, username: username, password: password,
                                                             database: database, tls: tls)
        configuration.options.connectTimeout = .init(connectTimeout)
        return configuration
    }

    private enum TLSPolicy {
        case disable
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    private func tlsPolicy() throws(Invalid) -> TLSPolicy {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificatePath {
            guard FileManager.default.isReadableFile(atPath: rootCertificatePath) else {
                throw Invalid(description: "--database (or TOKEND_DATABASE_URL): sslrootcert \(rootCertificatePath) cannot be read")
            }
            tls.trustRoots = .file(rootCertificatePath)
        }
        switch sslMode {
        case .disable:
            return .disable
        case .allow, .prefer:
            // As libpq: encrypt when the server offers it, without checking who it is.
            tls.certificateVerification = .none
            return .prefer(tls)
        case .require:
            // As libpq: with a root certificate, require behaves as verify-ca.
            tls.certificateVerification = rootCertificatePath == nil ? .none : .noHostnameVerification
            return .require(tls)
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return .require(tls)
        }
    }
}
