import HTTPTypes

/// Read access to a request's header fields, whatever HTTP library parsed them: the server's
/// SwiftNIO headers are read in place, without building a second copy per request.
public protocol HeaderFields: Sendable {
    /// The first value of the field `name` (lower-case), or nil.
    func first(named name: String) -> String?
    /// Every value of the field `name` (lower-case), one per field line, in order.
    func values(named name: String) -> [String]
}

extension HTTPFields: HeaderFields {
    public func first(named name: String) -> String? {
        HTTPField.Name(name).flatMap { self[$0] }
    }

    public func values(named name: String) -> [String] {
        HTTPField.Name(name).map { self[values: $0] } ?? []
    }
}
