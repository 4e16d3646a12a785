import FuzzSupport
import TokenCore

/// The secrets file: any text through the TOML parser (toml++) and the loader's checks. A file
/// that loads has an active key and callers with usable credentials; an error is an error,
/// never an abort.
runFuzzer { bytes in
    guard let secrets = try? SecretsLoader.parse(toml: String(decoding: bytes, as: UTF8.self)) else { return }
    guard secrets.signingKeys.contains(where: \.isActive) else { fatalError("loaded without an active key") }
    for caller in secrets.callers where caller.apiKeySHA256 == nil && caller.hmacKey == nil {
        fatalError("caller \(caller.id) loaded without a credential")
    }
}
