import Foundation
import Testing

@testable import JiayuanDomain

@Suite("JSON for the screen and the API")
struct PlainJSONTests {
    @Test("plain values come out as Foundation's JSONSerialization reads them back, keys sorted")
    func roundTrip() throws {
        let value: [String: Any] = [
            "zeta": 1, "alpha": "悦读 \"quoted\" \\ back/slash\n\u{1}", "list": [1, "two", true, NSNull(), 2.5] as [Any],
            "nested": ["b": false, "a": Int64(-7)] as [String: Any], "none": NSNull(), "whole": 3.0, "missing": String?.none as Any,
            "widths": [UInt8(255), Int16(-3), UInt32(7), UInt(9), Float(0.5)] as [Any],
        ]
        let text = JSONWriter.serialize(value)
        #expect(text.hasPrefix("{\"alpha\":") && text.contains("\"nested\":{\"a\":-7,\"b\":false}"))
        #expect(text.contains("back/slash") && text.contains("\"whole\":3") && text.contains("\"missing\":null"))
        #expect(text.contains("\"widths\":[255,-3,7,9,0.5]"))
        let back = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(back["alpha"] as? String == "悦读 \"quoted\" \\ back/slash\n\u{1}")
        #expect(back["zeta"] as? Int == 1 && back["none"] is NSNull)
        let list = try #require(back["list"] as? [Any])
        #expect(list.count == 5 && list[1] as? String == "two" && list[4] as? Double == 2.5)
    }
}
