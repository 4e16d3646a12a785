import Foundation
import Testing
@testable import TokenCore

struct JSONTests {
    @Test func parsesAndKeepsMemberOrderAndNumberLiterals() throws {
        let value = try JSONParser.parse(#"{"b": 1, "a": [true, false, null, -0.5e+3], "c": {"x": "y"}}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", "c"])
        #expect(object["a"] == .array([.bool(true), .bool(false), .null, .number("-0.5e+3")]))
        #expect(value.jsonText == #"{"b":1,"a":[true,false,null,-0.5e+3],"c":{"x":"y"}}"#)
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#,          // duplicate member: two parsers could disagree on which wins
        #"{"a":1,}"#, "[1,]",        // trailing commas
        #"{"a":01}"#, "1.", ".5", "-", "+1", "1e", // numbers outside RFC 8259
        #"{"a":"\ud800"}"#,          // lone surrogate
        #"{"a":"\x"}"#,              // unknown escape
        "{\"a\":\"line\nbreak\"}",   // raw control character
        "nul", "tru", "[1] [2]", "", "   ", "{'a':1}", "/* c */ 1",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(text) }
    }

    /// Duplicates are found in small objects (scanned) and in large ones (hashed) alike.
    @Test func duplicateNamesInObjectsOfEverySize() throws {
        for size in [2, 15, 16, 17, 40] {
            let members = (0..<size).map { "\"k\($0)\":\($0)" }
            _ = try JSONParser.parse("{" + members.joined(separator: ",") + "}")
            let duplicated = members + ["\"k1\":0"]
            #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse("{" + duplicated.joined(separator: ",") + "}") }
        }
    }

    @Test func rejectsInvalidUTF8() throws {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0xff, 0xfe, 0x22]) }
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0xc0, 0xaf, 0x22]) }  // overlong "/"
        // The same after an escape (the other path), and valid non-ASCII on both.
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0x5c, 0x6e, 0xff, 0x22]) }
        #expect(try JSONParser.parse([0x22, 0xc3, 0xa9, 0x22]) == .string("é"))
        #expect(try JSONParser.parse([0x22, 0x5c, 0x6e, 0xc3, 0xa9, 0x22]) == .string("\né"))
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(deep) }
        let allowed = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try JSONParser.parse(allowed)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\n\té😀"))
    }

    @Test func integerValues() throws {
        #expect(try JSONParser.parse("3600").integerValue == 3600)
        #expect(try JSONParser.parse("3600.0").integerValue == 3600)
        #expect(try JSONParser.parse("3.6e3").integerValue == 3600)
        #expect(try JSONParser.parse("3600.5").integerValue == nil)
        #expect(try JSONParser.parse("1e400").integerValue == nil)
        #expect(try JSONParser.parse("99999999999999999999").integerValue == nil)
        #expect(try JSONParser.parse("\"3600\"").integerValue == nil)
    }

    /// The writer's escaping is checked by an independent parser (Foundation's) reading it back.
    @Test(arguments: [
        "plain", "quote \" inside", "back\\slash", "new\nline\r\ttab", "\u{0}\u{1}\u{1f}\u{7f}",
        "ünïcødé ✓ 😀", "\u{2028}\u{2029}", "</script>", "",
    ])
    func writerEscapesSoOtherParsersReadTheSameString(_ text: String) throws {
        var writer = JSONWriter()
        writer.value(.object(JSONObject(["k": .string(text), text: .array([.string(text)])])))
        let data = Data(writer.bytes)
        let decoded = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(decoded["k"] as? String == text)
        #expect((decoded[text] as? [String])?.first == text)
        // And our own parser agrees.
        #expect(try JSONParser.parse(writer.bytes).objectValue?["k"] == .string(text))
    }

    @Test func writerIntegers() {
        for value in [0, 7, 10, 99, 100, 1_795_964_645, -1, -1800, Int.max, Int.min] {
            var writer = JSONWriter(capacity: 1)
            writer.integer(value)
            #expect(writer.string == String(value))
        }
    }

    @Test func writerGrowsPastItsInitialCapacity() throws {
        var writer = JSONWriter(capacity: 1)
        let long = String(repeating: "x\"", count: 5000)
        writer.string(long)
        #expect(writer.count == 5000 * 3 + 2)
        #expect(try JSONParser.parse(writer.bytes) == .string(long))
    }
}
