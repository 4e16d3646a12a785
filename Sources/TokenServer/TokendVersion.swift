/// The version `tokend --version` prints and `/metrics` reports as `tokend_build_info`.
public enum TokendVersion {
    public static let current = "0.9.0"
}
