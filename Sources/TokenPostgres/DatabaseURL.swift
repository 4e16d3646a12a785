import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:password@host:5432/database?sslmode=verify-full&sslrootcert=/path/ca.pem`,
/// parsed once. Its description never contains the password, and neither do its errors.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    /// libpq's `sslmode` values, with libpq's meaning.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public let host: String
    public let port: Int
    public let username: String
    let password: String?
    public let database: String
    public let sslMode: SSLMode
    public let rootCertificatePath: String?
    public let connectTimeout: Duration

    public init(_ text: String) throws(Invalid) {
        func invalid(_ why: String) -> Invalid { Invalid(description: "--database: \(why)") }
        guard let components = URLComponents(string: text) else {
            throw invalid("not a URL of the form postgres://user:password@host:5432/database (percent-encode special characters in the password)")
        }
        guard let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("no host") }
        guard let username = components.user, !username.isEmpty else { throw invalid("no user name") }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw invalid("the port must be 1…65535") }
        self.username = username
        self.password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? username : path
        var sslMode = SSLMode.prefer  // libpq's default
        var rootCertificatePath: String?
        var connectTimeout = Duration.seconds(5)
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
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
                throw invalid("unknown parameter \"\(item.name.prefix(40))\" (known: sslmode, sslrootcert, connect_timeout)")
            }
        }
        if rootCertificatePath != nil && [.disable, .allow, .prefer].contains(sslMode) {
            throw invalid("sslrootcert needs sslmode=require, verify-ca or verify-full")
        }
        self.sslMode = sslMode
        self.rootCertificatePath = rootCertificatePath
        self.connectTimeout = connectTimeout
    }

    /// The URL with the password replaced, for logs and errors.
    public var description: String {
        let authority = password == nil ? username : "\(username):***"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(authority)@\(hostPart):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// postgres-nio's configuration: TLS as `sslmode` asks, and the instance's name in
    /// `application_name` so that `pg_stat_activity` shows which replica holds a connection.
    public func clientConfiguration(applicationName: String, maximumConnections: Int) throws(Invalid) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch try tlsPolicy() {
        case .disable: .disable
        case .prefer(let configuration): .prefer(configuration)
        case .require(let configuration): .require(configuration)
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                                         database: database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = [("application_name", String(applicationName.prefix(63)))]
        return configuration
    }

    /// One direct connection's configuration, the same as the pool's: to learn why the pool
    /// cannot connect (it reports only that it could not).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch try tlsPolicy() {
        case .disable: .disable
        case .prefer(let configuration): .prefer(try NIOSSLContext(configuration: configuration))
        case .require(let configuration): .require(try NIOSSLContext(configuration: configuration))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password,
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
                throw Invalid(description: "--database: sslrootcert \(rootCertificatePath) cannot be read")
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
