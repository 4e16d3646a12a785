#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and validates the secrets file. Every problem is reported with the entry and
/// the field, and nothing half-valid is returned: a file either loads whole or not at all.
public enum SecretsLoader {
    /// Secrets copied from `secrets.example` start with this; they are refused so that an
    /// example file can never go to production by accident.
    public static let placeholderMarker = "REPLACE-ME"

    public static func load(path: String) throws(SecretsError) -> Secrets {
        try checkPermissions(path: path)
        let text = try readFile(path: path)
        do {
            return try parse(toml: text)
        } catch {
            throw SecretsError("\(path): \(error.message)")
        }
    }

    /// Refuses a file that anyone but its owner may read or write: it holds every key tokend has.
    /// One exception, PostgreSQL's rule for its key files: a file owned by root may also be read
    /// (not written) by its group — `root:tokend 0640`, and what Kubernetes makes of a Secret
    /// mounted into a non-root pod (root-owned, group `fsGroup`, mode 0440). And anything but a
    /// regular file is refused — a FIFO would block start-up forever.
    static func checkPermissions(path: String) throws(SecretsError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretsError("cannot read secrets file \(path): \(String(cString: strerror(errno)))")
        }
        try checkFile(info, path: path)
    }

    private static func checkFile(_ info: stat, path: String) throws(SecretsError) {
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SecretsError("secrets file \(path) is not a regular file")
        }
        let mode = info.st_mode & 0o777
        let refused: mode_t = info.st_uid == 0 ? 0o037 : 0o077
        if mode & refused != 0 {
            throw SecretsError("secrets file \(path) is open to other users or its group (mode \(String(mode, radix: 8))); run: chmod 600 \(path)"
                               + (info.st_uid == 0 ? " (a file owned by root may be 640: read by its group)" : ""))
        }
    }

    private static func readFile(path: String) throws(SecretsError) -> String {
        // O_NONBLOCK: if the path was swapped for a FIFO after the check, the open does not wait
        // for a writer; the descriptor's own type is checked again below.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw SecretsError("cannot read secrets file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw SecretsError("cannot read secrets file \(path): \(String(cString: strerror(errno)))")
        }
        try checkFile(info, path: path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SecretsError("cannot read secrets file \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > 1 << 20 { throw SecretsError("secrets file \(path) is larger than 1 MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SecretsError("secrets file \(path) is not UTF-8 text")
        }
        return text
    }

    public static func parse(toml text: String) throws(SecretsError) -> Secrets {
        let table: TOMLTable
        do {
            table = try TOMLParser.parse(text)
        } catch {
            throw SecretsError("not valid TOML: \(error)")
        }
        var root = TOMLEntry(table: table, name: "top level")
        let issuer = try root.string("issuer", required: false) ?? Secrets.defaultIssuer
        let auditKey = try root.secret("audit_key", required: false).map { HMACKey(utf8: $0) }
        let keyTables = try root.tables("signing_keys")
        let callerTables = try root.tables("callers")
        try root.rejectUnknownKeys()
        guard !keyTables.isEmpty else {
            throw SecretsError("no [[signing_keys]] entry: add one (tokend keygen signing-key prints it)")
        }
        var keys: [SigningKey] = []
        for (index, keyTable) in keyTables.enumerated() {
            keys.append(try signingKey(keyTable, index: index))
        }
        var callers: [Caller] = []
        for (index, callerTable) in callerTables.enumerated() {
            callers.append(try caller(callerTable, index: index))
        }
        return try Secrets(issuer: issuer, auditKey: auditKey, signingKeys: keys, callers: callers)
    }

    private static func signingKey(_ table: TOMLTable, index: Int) throws(SecretsError) -> SigningKey {
        var entry = TOMLEntry(table: table, name: "signing_keys[\(index)]")
        let kid = try entry.string("kid")!
        entry.name = "signing_keys[\(index)] (kid \"\(kid)\")"
        guard !kid.isEmpty, kid.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.generalCategory != .control }) else {
            throw entry.error("kid", "must be non-empty printable ASCII")
        }
        let secret = try entry.secret("secret")!
        let active = try entry.bool("active") ?? false
        let profileName = try entry.string("profile", required: false) ?? "generic"
        let accountSID = try entry.string("account_sid", required: false)
        let region = try entry.string("region", required: false)
        try entry.rejectUnknownKeys()
        let profile: TokenProfile
        switch profileName {
        case "generic":
            if accountSID != nil { throw entry.error("account_sid", "is only for profile = \"twilio\"") }
            if region != nil { throw entry.error("region", "is only for profile = \"twilio\"") }
            profile = .generic
        case "twilio":
            guard TwilioGrants.isSID(kid, prefix: "SK") else {
                throw entry.error("kid", "must be a Twilio API key SID (SK followed by 32 hex digits) for profile = \"twilio\"")
            }
            guard let accountSID else { throw entry.error("account_sid", "is required for profile = \"twilio\"") }
            guard TwilioGrants.isSID(accountSID, prefix: "AC") else {
                throw entry.error("account_sid", "must be a Twilio account SID (AC followed by 32 hex digits)")
            }
            if let region, !TokenProfile.twilioRegions.contains(region) {
                throw entry.error("region", "must be one of Twilio's regions: \(TokenProfile.twilioRegions.joined(separator: ", "))")
            }
            profile = .twilio(accountSID: accountSID, region: region)
        default:
            throw entry.error("profile", "must be \"generic\" or \"twilio\"")
        }
        return SigningKey(kid: kid, secret: secret, profile: profile, isActive: active)
    }

    /// A caller id is an RFC 9421 keyid: 1…128 printable ASCII characters, no quotes or backslashes.
    public static func isValidCallerID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.unicodeScalars.allSatisfy { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.properties.generalCategory != .control }
    }

    private static func caller(_ table: TOMLTable, index: Int) throws(SecretsError) -> Caller {
        var entry = TOMLEntry(table: table, name: "callers[\(index)]")
        let id = try entry.string("id")!
        entry.name = "callers[\(index)] (id \"\(id)\")"
        guard isValidCallerID(id) else {
            throw entry.error("id", "must be 1…128 printable ASCII characters, without quotes or backslashes (it is an RFC 9421 keyid)")
        }
        let apiKeyHash = try entry.string("api_key_sha256", required: false)
        let hmacSecret = try entry.secret("hmac_secret", required: false)
        let grants = try entry.stringArray("grants") ?? []
        let maxTTL = try entry.integer("max_ttl")
        let signingKeyID = try entry.string("signing_key", required: false)
        let rateLimit = try entry.number("rate_limit")
        let permissionNames = try entry.stringArray("permissions")
        let quota = try entry.quota("quota")
        let identityQuota = try entry.quota("identity_quota")
        try entry.rejectUnknownKeys()
        var digest: Digest?
        if let apiKeyHash {
            guard apiKeyHash.utf8.count == 64, let bytes = Hex.decode(apiKeyHash) else {
                throw entry.error("api_key_sha256", "must be 64 hex digits (tokend keygen api-key prints it)")
            }
            // A real SHA-256 has (nearly always) a dozen or more distinct hex digits; the sample
            // file's 000…0 and 111…1 do not, and no key hashes to them.
            guard Set(apiKeyHash.lowercased().utf8).count >= 8 else {
                throw entry.error("api_key_sha256", "is a placeholder, not the SHA-256 of a key (tokend keygen api-key prints one)")
            }
            digest = Digest(bytes: bytes)
        }
        if digest == nil && hmacSecret == nil {
            throw entry.error("api_key_sha256", "or hmac_secret is required: a caller needs a way to authenticate")
        }
        if let maxTTL, !(TTLPolicy.minimum...TTLPolicy.maximum).contains(maxTTL) {
            throw entry.error("max_ttl", "must be within \(TTLPolicy.minimum)…\(TTLPolicy.maximum) seconds (was \(maxTTL))")
        }
        if let rateLimit, !(rateLimit > 0 && rateLimit.isFinite) {
            throw entry.error("rate_limit", "must be a positive number of requests per second")
        }
        var permissions = Permission.defaults
        if let permissionNames {
            permissions = []
            for name in permissionNames {
                guard let permission = Permission(rawValue: name) else {
                    throw entry.error("permissions", "has \"\(name)\"; each must be one of \(Permission.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
                }
                permissions.insert(permission)
            }
        }
        return Caller(id: id, apiKeySHA256: digest, hmacKey: hmacSecret.map { HMACKey(utf8: $0) },
                      grants: Set(grants), maxTTL: maxTTL, signingKeyID: signingKeyID, rateLimit: rateLimit,
                      permissions: permissions, quota: quota, identityQuota: identityQuota)
    }

    /// `REPLACE-ME` (secrets.example), `CHANGE_ME` and friends in any case and punctuation, or a
    /// value with fewer than 8 distinct bytes (64 × `a`): not a secret anyone generated.
    static func isPlaceholder(_ secret: String) -> Bool {
        let letters = String(secret.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) })
        if ["REPLACEME", "CHANGEME", "PLACEHOLDER", "YOURSECRET"].contains(where: letters.contains) { return true }
        return Set(secret.utf8).count < 8
    }

}

/// One TOML table being read: typed getters that record which keys were read, so any key left
/// over is reported as unknown (usually a typo that would otherwise be silently ignored).
struct TOMLEntry {
    let table: TOMLTable
    var name: String
    private var read: Set<String> = []

    init(table: TOMLTable, name: String) {
        self.table = table
        self.name = name
    }

    func error(_ field: String, _ problem: String) -> SecretsError {
        SecretsError("\(name): \(field) \(problem)")
    }

    private mutating func value(_ key: String, required: Bool, type: String) throws(SecretsError) -> TOMLValue? {
        read.insert(key)
        guard let value = table[key] else {
            if required { throw error(key, "is required (\(type))") }
            return nil
        }
        return value
    }

    mutating func string(_ key: String, required: Bool = true) throws(SecretsError) -> String? {
        guard let value = try value(key, required: required, type: "a string") else { return nil }
        guard case .string(let string) = value else { throw error(key, "must be a string") }
        return string
    }

    /// A secret: a string of at least 32 bytes that is not a placeholder. The message never shows it.
    mutating func secret(_ key: String, required: Bool = true) throws(SecretsError) -> String? {
        guard let secret = try string(key, required: required) else { return nil }
        if secret.utf8.count < SigningKey.minimumSecretLength {
            throw error(key, "is \(secret.utf8.count) bytes; at least \(SigningKey.minimumSecretLength) are required (tokend keygen prints one)")
        }
        if SecretsLoader.isPlaceholder(secret) {
            throw error(key, "still holds the placeholder (or a value too uniform to be a secret); put a real value there (tokend keygen prints one)")
        }
        return secret
    }

    mutating func bool(_ key: String) throws(SecretsError) -> Bool? {
        guard let value = try value(key, required: false, type: "true or false") else { return nil }
        guard case .bool(let flag) = value else { throw error(key, "must be true or false") }
        return flag
    }

    mutating func integer(_ key: String) throws(SecretsError) -> Int? {
        guard let value = try value(key, required: false, type: "an integer") else { return nil }
        guard case .integer(let number) = value else { throw error(key, "must be an integer") }
        return number
    }

    mutating func number(_ key: String) throws(SecretsError) -> Double? {
        guard let value = try value(key, required: false, type: "a number") else { return nil }
        switch value {
        case .integer(let number): return Double(number)
        case .float(let number): return number
        default: throw error(key, "must be a number")
        }
    }

    /// `"N/minute"`, `"N/hour"` or `"N/day"`, N a positive integer.
    mutating func quota(_ key: String) throws(SecretsError) -> Quota? {
        guard let text = try string(key, required: false) else { return nil }
        guard let quota = Quota(parsing: text) else {
            throw error(key, "must be \"N/minute\", \"N/hour\" or \"N/day\" with N a positive integer (was \"\(text)\")")
        }
        return quota
    }

    mutating func stringArray(_ key: String) throws(SecretsError) -> [String]? {
        guard let value = try value(key, required: false, type: "an array of strings") else { return nil }
        guard case .array(let array) = value else { throw error(key, "must be an array of strings") }
        var strings: [String] = []
        for element in array {
            guard case .string(let string) = element else { throw error(key, "must be an array of strings") }
            strings.append(string)
        }
        return strings
    }

    /// The tables of an array of tables (`[[name]]`); none when absent.
    mutating func tables(_ key: String) throws(SecretsError) -> [TOMLTable] {
        guard let value = try value(key, required: false, type: "an array of tables") else { return [] }
        guard case .tables(let tables) = value else { throw error(key, "must be written as [[\(key)]] tables") }
        return tables
    }

    func rejectUnknownKeys() throws(SecretsError) {
        if let unknown = table.keys.sorted().first(where: { !read.contains($0) }) {
            throw SecretsError("\(name): unknown key \"\(unknown)\"")
        }
    }
}
