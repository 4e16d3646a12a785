/// Which tokens are no longer good before they expire: revoked one by one, revoked for an
/// identity up to a time, or blocked. A plain value, kept behind `ControlState`'s lock.
///
/// An entry lives as long as a token it names could: a token revocation until that token's
/// `exp`, an identity revocation until the longest lifetime tokend issues has passed since its
/// cut-off. `purge` drops the rest.
struct RevocationSet {
    struct TokenEntry: Equatable {
        let identity: String?
        let scope: String?
        let expires: Int
    }

    struct IdentityEntry: Equatable {
        /// The revoking caller (only its tokens), or nil for every caller's.
        let scope: String?
        var issuedBefore: Int
    }

    struct Block: Equatable {
        let at: Int
        let until: Int?
    }

    private(set) var tokens: [String: [TokenEntry]] = [:]
    private(set) var identities: [String: [IdentityEntry]] = [:]
    private(set) var blocks: [String: Block] = [:]

    var tokenCount: Int { tokens.count }

    mutating func revokeToken(jti: String, identity: String?, scope: String?, expires: Int) {
        let entry = TokenEntry(identity: identity, scope: scope, expires: expires)
        if tokens[jti]?.contains(entry) != true { tokens[jti, default: []].append(entry) }
    }

    mutating func revokeIdentity(_ identity: String, issuedBefore: Int, scope: String?) {
        var entries = identities[identity] ?? []
        if let index = entries.firstIndex(where: { $0.scope == scope }) {
            entries[index].issuedBefore = max(entries[index].issuedBefore, issuedBefore)
        } else {
            entries.append(IdentityEntry(scope: scope, issuedBefore: issuedBefore))
        }
        identities[identity] = entries
    }

    mutating func block(_ identity: String, at: Int, until: Int?) {
        blocks[identity] = Block(at: at, until: until)
        revokeIdentity(identity, issuedBefore: Self.after(at), scope: nil)
    }

    mutating func unblock(_ identity: String, at: Int) {
        blocks[identity] = nil
        revokeIdentity(identity, issuedBefore: Self.after(at), scope: nil)
    }

    /// The second after `time`, saturating: times come from the journal or the shared table,
    /// which someone may have edited, and a trap would stop the service.
    private static func after(_ time: Int) -> Int { time == Int.max ? time : time + 1 }

    /// The block in force for `identity` at `now`, if any.
    func block(for identity: String, now: Int) -> Block? {
        guard let block = blocks[identity] else { return nil }
        if let until = block.until, now >= until { return nil }
        return block
    }

    /// Whether the token so described is revoked or its identity blocked. `owns(scope)` says
    /// whether the caller `scope` minted it (a scoped revocation touches only its own tokens).
    func isRevoked(jti: String, identity: String, issuedAt: Int, now: Int, owns: (String) -> Bool) -> Bool {
        if block(for: identity, now: now) != nil { return true }
        if let entries = tokens[jti], entries.contains(where: { ($0.identity == nil || $0.identity == identity) && ($0.scope.map(owns) ?? true) }) {
            return true
        }
        if let entries = identities[identity], entries.contains(where: { issuedAt < $0.issuedBefore && ($0.scope.map(owns) ?? true) }) {
            return true
        }
        return false
    }

    /// Drops what can no longer name a live token.
    mutating func purge(now: Int, maximumLifetime: Int) {
        tokens = tokens.compactMapValues { entries in
            let live = entries.filter { $0.expires > now }
            return live.isEmpty ? nil : live
        }
        identities = identities.compactMapValues { entries in
            let live = entries.filter { $0.issuedBefore > now - maximumLifetime }  // no sum to overflow
            return live.isEmpty ? nil : live
        }
        blocks = blocks.filter { _, block in block.until.map { $0 > now } ?? true }
    }
}
