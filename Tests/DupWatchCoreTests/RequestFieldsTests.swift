import DupWatchCore
import Testing

@Suite("A JSON body as stream fields")
struct RequestFieldsTests {
    func strings(_ json: String) throws -> [String] {
        try RequestFields.parse(Array(json.utf8)).flatMap {
            [String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)]
        }
    }

    @Test func membersBecomeFieldsAsWritten() throws {
        #expect(try strings(#"{"sku":"A/1","qty":2,"price":2.50,"big":1e3,"ok":true,"title":null,"items":[ {"sku":"B"} ]}"#)
                == ["sku", "A/1", "qty", "2", "price", "2.50", "big", "1e3", "ok", "true", "items", #"[ {"sku":"B"} ]"#])
        #expect(try strings(#" { "t" : "\u00e9\n" } "#) == ["t", "é\n"])
        #expect(try strings("{}") == [])
    }

    @Test(arguments: [#"["a"]"#, #""a""#, "{", #"{"a":1}x"#, #"{"a":1,}"#, ""])
    func whatIsNotOneObjectIsBadJSON(json: String) {
        #expect(throws: Rejection.self) { try RequestFields.parse(Array(json.utf8)) }
        do {
            _ = try RequestFields.parse(Array(json.utf8))
        } catch {
            #expect(error.code == "bad_json")
        }
    }

    @Test func aNameGivenTwiceIsRefused() {
        do {
            _ = try RequestFields.parse(Array(#"{"qty":1,"qty":2}"#.utf8))
            Issue.record("accepted a duplicate name")
        } catch {
            #expect(error.code == "duplicate_field")
        }
    }
}
