/// A request target's path and query (RFC 3986 §3.4: the query starts at the first `?`), for the
/// server's request targets and the command line's URLs alike.
public enum PathAndQuery {
    /// `/v1/tokens?a=1` → (`/v1/tokens`, `a=1`); without a `?`, the query is nil.
    public static func split(_ target: Substring) -> (path: Substring, query: Substring?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (target[..<mark], target[target.index(after: mark)...])
    }
}
