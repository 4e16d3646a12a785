import Logging
import TokenCore

/// What the authenticated endpoints (`TokenEndpoint`, `ControlEndpoint`) work with; the services
/// beside the server get only their own part of it.
struct EndpointContext: Sendable {
    let settings: ServerSettings
    let secrets: LiveSecrets
    /// Replay ledger, rate limits, audit trail.
    let state: SharedState
    /// Revocations, blocks and quota counts (memory, kept durable by the state journal or shared
    /// through PostgreSQL).
    let control: ControlState
    let denials: DenialRecorder
    let metrics: ServerMetrics
    let logger: Logger
}
