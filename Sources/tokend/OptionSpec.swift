import ArgumentParser

/// One command-line option that the environment can set too (`--max-connections` or
/// `TOKEND_MAX_CONNECTIONS`, which is how containers and systemd units configure a program),
/// declared once: its flag, its variable, how a value is read and checked, its default and its
/// help. The parser's name and help text (`@Option(spec)`), the environment fallback, the check
/// and the typed value all come from here, so they cannot disagree; a flag on the command line
/// wins over the variable. Both are read as text and go through the same `parse`, so a bad value
/// gets one message whichever way it came.
struct OptionSpec<Value: Sendable>: Sendable {
    let flag: String
    let environment: String
    let valueName: String
    let summary: String
    /// What applies when neither the flag nor the variable is given; nil: nothing (or what
    /// `defaultNote` says).
    let defaultValue: Value?
    /// Said after the default in the help: "0 with --dev"; alone when there is no default value:
    /// "the host name".
    let defaultNote: String?
    /// What a value must be, for the error: "a whole number within 1…65535".
    let expectation: String
    let parse: @Sendable (String) -> Value?
    /// A value as the help and `serve --print-config` write it.
    let show: @Sendable (Value) -> String

    /// The variable is the flag's name in capitals after `TOKEND_` unless given.
    init(_ flag: String, environment: String? = nil, valueName: String, default defaultValue: Value?, note defaultNote: String? = nil,
         expectation: String, _ summary: String, parse: @escaping @Sendable (String) -> Value?, show: @escaping @Sendable (Value) -> String) {
        self.flag = flag
        self.environment = environment ?? Environment.name(forFlag: flag)
        self.valueName = valueName
        self.summary = summary
        self.defaultValue = defaultValue
        self.defaultNote = defaultNote
        self.expectation = expectation
        self.parse = parse
        self.show = show
    }

    var option: String { "--" + flag }

    var help: ArgumentHelp {
        let shown: String
        switch (defaultValue.map(show), defaultNote) {
        case (let value?, let note?): shown = " (default \(value); \(note))"
        case (let value?, nil): shown = " (default \(value))"
        case (nil, let note?): shown = " (default: \(note))"
        case (nil, nil): shown = ""
        }
        return ArgumentHelp("\(summary)\(shown). Env: \(environment).", valueName: valueName)
    }

    /// The flag's value, else the variable's, checked; nil when neither is given.
    func given(_ flagValue: String?) throws(CommandFailure) -> Value? {
        guard let text = flagValue ?? Environment.value(environment) else { return nil }
        guard let value = parse(text) else {
            throw .usage("\(option) (or \(environment)) must be \(expectation)")
        }
        return value
    }

    /// `given`, else the default.
    func value(_ flagValue: String?) throws(CommandFailure) -> Value {
        guard let value = try given(flagValue) ?? defaultValue else {
            throw .usage("missing \(option) (or the environment variable \(environment))")
        }
        return value
    }

    /// Where a value came from, for `serve --print-config`.
    func source(_ flagValue: String?) -> String {
        flagValue != nil ? "flag" : Environment.value(environment) != nil ? environment : "default"
    }
}

extension OptionSpec where Value == String {
    /// Free text: a path, a host, a name.
    static func text(_ flag: String, environment: String? = nil, valueName: String, default defaultValue: String? = nil,
                     note: String? = nil, _ summary: String) -> Self {
        Self(flag, environment: environment, valueName: valueName, default: defaultValue, note: note, expectation: "text",
             summary, parse: { $0 }, show: { $0 })
    }
}

extension OptionSpec where Value == Int {
    static func integer(_ flag: String, valueName: String, default defaultValue: Int?, in range: ClosedRange<Int>,
                        note: String? = nil, _ summary: String) -> Self {
        Self(flag, valueName: valueName, default: defaultValue, note: note,
             expectation: "a whole number within \(range.lowerBound)…\(range.upperBound)", summary,
             parse: { Int($0).flatMap { range.contains($0) ? $0 : nil } }, show: { String($0) })
    }
}

extension OptionSpec where Value == Duration {
    /// A number of seconds, fractions allowed (to the millisecond).
    static func seconds(_ flag: String, default defaultValue: Duration?, in range: ClosedRange<Double>, note: String? = nil,
                        _ summary: String) -> Self {
        Self(flag, valueName: "seconds", default: defaultValue, note: note,
             expectation: "a number of seconds within \(range.lowerBound.plain)…\(range.upperBound.plain)", summary,
             parse: { text in Double(text).flatMap { range.contains($0) ? .milliseconds(Int64(($0 * 1000).rounded())) : nil } },
             show: { duration in (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18).plain })
    }
}

extension OptionSpec where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    /// One of a fixed set of words.
    static func choice(_ flag: String, valueName: String, default defaultValue: Value?, note: String? = nil, _ summary: String) -> Self {
        let words = Value.allCases.map(\.rawValue)
        let listed = words.count == 2 ? "\(words[0]) or \(words[1])" : "one of " + words.joined(separator: ", ")
        return Self(flag, valueName: valueName, default: defaultValue, note: note, expectation: listed, summary,
                    parse: { Value(rawValue: $0.lowercased()) }, show: { $0.rawValue })
    }
}

/// A switch that the environment can turn on too (`--dev` or `TOKEND_DEV=1`).
struct FlagSpec: Sendable {
    let flag: String
    let summary: String

    var environment: String { Environment.name(forFlag: flag) }
    var help: ArgumentHelp { ArgumentHelp("\(summary) Env: \(environment)=1.") }

    /// On when given, or when the variable is 1, true or yes.
    func isOn(_ flagValue: Bool) -> Bool {
        flagValue || ["1", "true", "yes"].contains(Environment.value(environment)?.lowercased() ?? "")
    }
}

extension Option where Value == String? {
    /// An option declared by its spec: the name and the help come from there.
    init<Spec>(_ spec: OptionSpec<Spec>) {
        self.init(name: .customLong(spec.flag), help: spec.help)
    }
}

extension Flag where Value == Bool {
    init(_ spec: FlagSpec) {
        self.init(wrappedValue: false, name: .customLong(spec.flag), help: spec.help)
    }
}

extension Environment {
    /// `max-connections` → `TOKEND_MAX_CONNECTIONS`.
    static func name(forFlag flag: String) -> String {
        "TOKEND_" + String(flag.uppercased().map { $0 == "-" ? "_" : $0 })
    }
}

extension Double {
    /// `10`, not `10.0`, in help and messages.
    var plain: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}

/// What each option resolved to and where it came from, in the order resolved: the lines of
/// `serve --print-config` (`--port 8080 (default)`, `--port 9000 (TOKEND_PORT)`).
struct ResolvedOptions {
    private(set) var lines: [String] = []

    /// `spec.value`, recorded.
    mutating func value<Value>(_ spec: OptionSpec<Value>, _ flagValue: String?) throws(CommandFailure) -> Value {
        let value = try spec.value(flagValue)
        note(spec, flagValue, spec.show(value))
        return value
    }

    /// `spec.given`, recorded.
    mutating func given<Value>(_ spec: OptionSpec<Value>, _ flagValue: String?) throws(CommandFailure) -> Value? {
        let value = try spec.given(flagValue)
        note(spec, flagValue, value.map(spec.show))
        return value
    }

    /// Records what an option came to where the command decides more than the spec (a default
    /// that depends on another option); nil: none.
    mutating func note<Value>(_ spec: OptionSpec<Value>, _ flagValue: String?, _ shown: String?) {
        lines.append("\(spec.option) \(shown ?? "-") (\(spec.source(flagValue)))")
    }
}
