import Foundation
import Testing

@testable import JiayuanDomain

@Suite("Member CSV reading (the pure step of member import)")
struct MemberCSVTests {
    @Test("rows are read with BOM, CRLF, quoted commas, doubled quotes, line breaks and both kinds of guardian")
    func readsRows() throws {
        let csv =
            "\u{FEFF}name,group,born,phone,flags,guardians\r\n王秀英,elder,1948,138,low_income;BLIND,\r\n"
            + "\"张,小\"\"宝\"\"\nB\",child,2018,,,M000002; 139-1 \n"
        let rows = try MemberCSV.parse(Data(csv.utf8))
        #expect(rows.count == 2)
        #expect(
            rows[0]
                == MemberCSV.Member(
                    line: 2, name: "王秀英", group: .elder, born: 1948, phone: "138", flags: [.lowIncome, .blind], guardians: [],
                    guardianPhones: []))
        #expect(rows[1].line == 3)
        #expect(rows[1].name == "张,小\"宝\"\nB")
        #expect(rows[1].guardians == [MemberID("M000002")!])
        #expect(rows[1].guardianPhones == ["139-1"])
    }

    @Test("each problem is a typed error with the line it is on (nil for problems of the whole file)")
    func typedErrors() {
        func problem(_ text: String) -> MemberCSVError? {
            do throws(MemberCSVError) {
                _ = try MemberCSV.parse(Data(text.utf8))
                return nil
            } catch {
                return error
            }
        }
        #expect(problem("") == MemberCSVError(line: nil, .empty))
        #expect(problem("name,group\n\n , \n") == MemberCSVError(line: nil, .noMembers))
        #expect(problem("name,group,age\n") == MemberCSVError(line: 1, .unknownColumn("age")))
        #expect(problem("name,born\n") == MemberCSVError(line: 1, .missingColumns))
        #expect(problem("name,group\nA,elder\nB,alien\n") == MemberCSVError(line: 3, .unknownGroup("alien")))
        #expect(problem("name,group\nA\"b,elder\n") == MemberCSVError(line: 2, .strayQuote))
        #expect(problem("name,group\n\"A\nB,elder\n") == MemberCSVError(line: 2, .unclosedQuote))
        #expect(problem("name,group\nA\u{7},elder\n") == MemberCSVError(line: 2, .controlCharacter(7)))
        #expect(problem("name,group\nA,elder,x\n") == MemberCSVError(line: 2, .fieldCount(row: 3, header: 2)))
        #expect(problem("name,group,born\nA,elder,1800\n") == MemberCSVError(line: 2, .badBirthYear("1800")))
        #expect(problem("name,group\nC,child\n") == MemberCSVError(line: 2, .childWithoutGuardian))
        #expect(MemberCSVError(line: 3, .unknownGroup("alien")).description.hasPrefix("line 3: unknown group \"alien\""))
        do {
            _ = try MemberCSV.parse(Data([0xFF, 0xFE, 0x41]))
            Issue.record("not UTF-8 was read")
        } catch {
            #expect(error == MemberCSVError(line: nil, .notUTF8))
        }
    }
}
