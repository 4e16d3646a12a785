/// What a caller may do besides authenticating. A caller without `mint` cannot mint; a resource
/// server that only checks tokens is a caller with `introspect` alone.
public enum Permission: String, Sendable, CaseIterable, Hashable {
    case mint
    /// Revoke the tokens this caller minted.
    case revoke
    /// Revoke any caller's tokens.
    case revokeAny = "revoke_any"
    case introspect
    /// Block and unblock identities, for every caller.
    case block

    /// What a caller may do when its entry does not say.
    public static let defaults: Set<Permission> = [.mint, .revoke]
}
