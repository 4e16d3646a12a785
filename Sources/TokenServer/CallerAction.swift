import TokenCore

/// What an authenticated request asks for, and the permission it needs.
enum CallerAction: Sendable {
    case mint, revoke, introspect, block, unblock

    /// Whether `caller` may do this at all (revoking another caller's tokens is checked later,
    /// once the token's minter is known).
    func isPermitted(for caller: Caller) -> Bool {
        switch self {
        case .mint: caller.may(.mint)
        case .revoke: caller.may(.revoke) || caller.may(.revokeAny)
        case .introspect: caller.may(.introspect)
        case .block, .unblock: caller.may(.block)
        }
    }

    /// The permission a refusal names.
    var permission: Permission {
        switch self {
        case .mint: .mint
        case .revoke: .revoke
        case .introspect: .introspect
        case .block, .unblock: .block
        }
    }
}
