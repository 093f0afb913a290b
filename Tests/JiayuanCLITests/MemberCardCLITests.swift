import Foundation
import JiayuanTestSupport
import Testing

@Suite("jiayuan member and card commands, end to end", .blocking)
struct MemberCardCLITests {
    static let zbarimg = "/usr/bin/zbarimg"

    // MARK: - members and cards

    @Test("member add prints a new id, member show shows the member")
    func addAndShowMember() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let id = try kiosk.addMember("--name", "王小英", "--group", "elder", "--born", "1950")
        #expect(id.wholeMatch(of: /M\d{6}/) != nil, "\(id)")
        #expect(id != "M000001")

        let show = try kiosk.run("member", "show", id)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains(id))
        #expect(show.stdout.contains("王小英"))
        #expect(show.stdout.contains("王*英"), "the masked name too")
        #expect(show.stdout.contains("elder"))
        #expect(show.stdout.contains("1950"))
        #expect(try kiosk.memberLines().contains { $0.hasPrefix(id) })

        let missing = try kiosk.run("member", "show", "M999999")
        #expect(isOneLineError(missing), "exit \(missing.status), stderr: \(missing.stderr)")
    }

    @Test("card issue --png writes a QR that zbarimg decodes to exactly the printed code")
    func cardIssueWritesScannablePNG() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.zbarimg), "install zbar-tools for \(Self.zbarimg)")
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let id = try kiosk.addMember("--name", "王小英", "--group", "elder", "--born", "1950")
        let png = kiosk.path + "/card.png"
        let issue = try kiosk.run("card", "issue", id, "--png", png)
        #expect(issue.status == 0, "\(issue.stderr)")
        let code = issue.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(code.hasPrefix("JY1:") && code.count == 126, "\(code)")

        let bytes = try #require(FileManager.default.contents(atPath: png), "no PNG written")
        #expect(bytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let zbar = try Run.program(Self.zbarimg, ["--quiet", "--raw", png])
        #expect(zbar.status == 0, "\(zbar.stderr)")
        #expect(zbar.stdout.trimmingCharacters(in: .newlines) == code)
        #expect(try kiosk.card(id) == code, "card show prints the current card")
    }

    @Test(
        "a re-issued card revokes the old one; a deactivated member is refused; visits in words; reactivate keeps old cards void; audited")
    func reissueRevokesAndDeactivateRefuses() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let id = try kiosk.addMember("--name", "王小英", "--group", "elder", "--born", "1950")
        let first = try kiosk.run("card", "issue", id).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let second = try kiosk.run("card", "issue", id).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(first.hasPrefix("JY1:") && second.hasPrefix("JY1:"))
        #expect(first != second)

        let old = try kiosk.checkin(first, venue: "library", at: at("10:00"))
        #expect(old.status == 3, "\(old.summary)")
        #expect(old.reason == "revoked")
        #expect(old.memberID == id)

        let new = try kiosk.checkin(second, venue: "library", at: at("10:01"))
        #expect(new.status == 0, "\(new.summary)")
        #expect(new.outcome == "accepted")
        #expect(new.direction == "in")

        let show = try kiosk.run("member", "show", id)
        #expect(show.stdout.components(separatedBy: "(revoked)").count - 1 == 1, "one revoked card: \(show.stdout)")

        let deactivate = try kiosk.run("member", "deactivate", id)
        #expect(deactivate.status == 0, "\(deactivate.stderr)")
        let inactive = try kiosk.checkin(second, venue: "gym", at: at("11:00"))
        #expect(inactive.status == 3, "\(inactive.summary)")
        #expect(inactive.reason == "inactive_member")
        #expect(try kiosk.run("member", "show", id).stdout.contains("inactive"))

        // The visit history, newest first, in local time and words.
        let visits = try kiosk.run("member", "visits", id, "--days", "3660")
        #expect(visits.status == 0, "\(visits.stderr)")
        let lines = visits.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(visits.stdout)")
        #expect(lines.first?.contains("11:00") == true && lines.first?.contains("inactive_member") == true, "\(visits.stdout)")
        #expect(lines.last?.contains("10:00") == true && lines.last?.contains("revoked") == true, "\(visits.stdout)")
        #expect(lines.contains { $0.contains("10:01") && $0.contains("签到 in") })
        #expect(try kiosk.run("member", "visits", id, "--days", "0").status == 64)

        // Back again: active, but the old card stays void; the command line's actions are audited.
        let back = try kiosk.run("member", "reactivate", id)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try kiosk.run("member", "reactivate", id).status == 1, "already active")
        #expect(try kiosk.checkin(second, venue: "gym", at: at("12:00")).reason == "revoked")
        let audit = try kiosk.run("staff", "audit").stdout
        #expect(audit.contains("member.deactivate") && audit.contains("member.reactivate"), "\(audit)")
    }

    @Test("a child needs a guardian: refused without --guardian, registered with one")
    func childNeedsGuardian() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let before = try kiosk.memberLines().count
        let refused = try kiosk.run("member", "add", "--name", "王小明", "--group", "child", "--born", "2018")
        #expect(isOneLineError(refused), "exit \(refused.status), stderr: \(refused.stderr)")
        #expect(try kiosk.memberLines().count == before, "nothing registered")

        let guardian = try kiosk.addMember("--name", "王大明", "--group", "resident", "--born", "1985")
        let child = try kiosk.addMember("--name", "王小明", "--group", "child", "--born", "2018", "--guardian", guardian)
        #expect(child.wholeMatch(of: /M\d{6}/) != nil, "\(child)")
        let show = try kiosk.run("member", "show", child)
        #expect(show.stdout.contains("guardians: \(guardian)"), "\(show.stdout)")
    }

    // MARK: - member import

    /// Writes `bytes` as `name` in the kiosk's folder and returns the path.
    func write(_ bytes: Data, _ name: String, in kiosk: TestKiosk) throws -> String {
        let path = kiosk.path + "/" + name
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("member import: BOM, CRLF, quoted commas and a guardian given by an earlier row's phone")
    func importGoodFile() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let before = try kiosk.memberLines().count
        let csv =
            "\u{FEFF}name,group,born,phone,flags,guardians\r\n"
            + "\"张, 大伟\",resident,1980,13900000001,,\r\n"
            + "李秀兰,elder,1948,,\"low_income;disabled\",\r\n"
            + "张小宝,child,2016,,,13900000001\r\n"
        let file = try write(Data(csv.utf8), "members.csv", in: kiosk)
        let r = try kiosk.run("member", "import", file)
        #expect(r.status == 0, "\(r.stderr)")

        let all = try kiosk.memberLines(full: true)
        #expect(all.count == before + 3)
        func id(of name: String) throws -> String {
            let line = try #require(all.first { $0.contains(name) }, "\(name) was not imported")
            return String(line.prefix(7))
        }
        let father = try id(of: "张, 大伟")
        let grandmother = try id(of: "李秀兰")
        let child = try id(of: "张小宝")
        #expect(all.first { $0.contains("张, 大伟") }?.contains("13900000001") == true)
        let elder = try kiosk.run("member", "show", grandmother).stdout
        #expect(elder.contains("low_income") && elder.contains("disabled"), "\(elder)")
        #expect(!elder.contains("\r"))
        let kid = try kiosk.run("member", "show", child).stdout
        #expect(kid.contains("guardians: \(father)"), "\(kid)")
        #expect(kid.contains("child"))
    }

    @Test("member import: a bad 4th data row names the file and line 5, and nothing is imported")
    func importBadGroupIsAllOrNothing() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let before = try kiosk.memberLines()
        let csv =
            "\u{FEFF}name,group,born\r\n" + "甲一,resident,1980\r\n" + "乙二,elder,1950\r\n" + "丙三,veteran,1970\r\n"
            + "丁四,alien,1983\r\n" + "戊五,resident,1990\r\n"
        let file = try write(Data(csv.utf8), "bad-group.csv", in: kiosk)
        let r = try kiosk.run("member", "import", file)
        #expect(isOneLineError(r), "exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains("bad-group.csv"), "\(r.stderr)")
        #expect(r.stderr.contains("bad-group.csv:5") || r.stderr.contains("line 5"), "\(r.stderr)")
        #expect(r.stderr.contains("alien"), "\(r.stderr)")
        #expect(try kiosk.memberLines() == before, "nothing half-imported")

        // A quoted field spanning two lines: the line number is still the line in the file.
        let multiline = "name,group\r\n\"甲\r\n一\",resident\r\n乙二,resident\r\n丙三,resident\r\n丁四,alien\r\n"
        let second = try kiosk.run("member", "import", try write(Data(multiline.utf8), "multiline.csv", in: kiosk))
        #expect(isOneLineError(second), "exit \(second.status), stderr: \(second.stderr)")
        #expect(second.stderr.contains("multiline.csv:6") || second.stderr.contains("line 6"), "\(second.stderr)")
        #expect(try kiosk.memberLines() == before, "nothing half-imported")
    }

    @Test("member import: a guardian phone nobody has, found only while saving, still imports nothing")
    func importUnknownGuardianPhoneIsAllOrNothing() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let before = try kiosk.memberLines()
        let csv =
            "name,group,born,phone,guardians\n" + "甲一,resident,1980,13800000001,\n" + "乙二,elder,1950,,\n"
            + "丙三,child,2017,,13800000001\n" + "丁四,child,2018,,13899999999\n"
        let file = try write(Data(csv.utf8), "bad-guardian.csv", in: kiosk)
        let r = try kiosk.run("member", "import", file)
        #expect(isOneLineError(r), "exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains("bad-guardian.csv:5") || r.stderr.contains("line 5"), "\(r.stderr)")
        #expect(try kiosk.memberLines() == before, "nothing half-imported")
    }

    @Test("member import: a file that is not UTF-8 (UTF-16 with a BOM) is a clear one-line error")
    func importNonUTF8() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let before = try kiosk.memberLines().count
        var bytes = Data([0xFF, 0xFE])
        for unit in "name,group\r\n李四,resident\r\n".utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let file = try write(bytes, "utf16.csv", in: kiosk)
        let r = try kiosk.run("member", "import", file)
        #expect(isOneLineError(r), "exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains("utf16.csv"), "\(r.stderr)")
        #expect(r.stderr.contains("UTF-8"), "\(r.stderr)")
        #expect(try kiosk.memberLines().count == before)
    }

    // MARK: - card keys between desks

    @Test("card keys --json prints the desk's key id and its 32-byte public key")
    func cardKeysJSON() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try kiosk.run("card", "keys", "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let text = r.stdout.trimmingCharacters(in: .newlines)
        let match = try #require(
            text.firstMatch(of: /^\{"keys":\[\{"id":1,"public":"([A-Za-z0-9+\/]+=*)"\}\],\n"revocations":\[/), "\(r.stdout)")
        #expect(Data(base64Encoded: String(match.1))?.count == 32)
    }

    @Test("a second desk verifies another desk's cards only after card trust, and refuses a conflicting key")
    func trustAnotherDesk() throws {
        let desk1 = try TestKiosk.demo()
        defer { desk1.remove() }
        let desk2 = try TestKiosk.plain("--key-id", "2")
        defer { desk2.remove() }

        let desk1Keys = try desk1.run("card", "keys", "--json").stdout
        let desk2KeysBefore = try desk2.run("card", "keys", "--json").stdout
        #expect(desk2KeysBefore.contains("\"id\":2"))
        let code = try desk1.card("M000001")

        let unknown = try desk2.checkin(code, venue: "main", at: at("10:00"))
        #expect(unknown.status == 3, "\(unknown.summary)")
        #expect(unknown.reason == "unknown_key")

        // A file that binds desk 2's own key id to desk 1's key is refused, and nothing changes.
        let conflicting = try write(Data(desk1Keys.replacingOccurrences(of: "\"id\":1", with: "\"id\":2").utf8), "conflict.json", in: desk2)
        let refused = try desk2.run("card", "trust", conflicting, "--yes")
        #expect(isOneLineError(refused), "exit \(refused.status), stderr: \(refused.stderr)")
        #expect(try desk2.run("card", "keys", "--json").stdout == desk2KeysBefore)

        let file = try write(Data(desk1Keys.utf8), "desk1-keys.json", in: desk2)
        let trust = try desk2.run("card", "trust", file, "--yes")
        #expect(trust.status == 0, "\(trust.stderr)")
        let keysAfter = try desk2.run("card", "keys", "--json").stdout
        #expect(keysAfter.contains("\"id\":1") && keysAfter.contains("\"id\":2"), "\(keysAfter)")
        #expect(try desk2.run("card", "trust", file).status == 0, "trusting the same keys again is harmless (and asks nothing)")

        // The signature now verifies; M000001 is simply not registered at desk 2.
        let verified = try desk2.checkin(code, venue: "main", at: at("10:01"))
        #expect(verified.status == 3, "\(verified.summary)")
        #expect(verified.reason == "unknown_member")

        // ... and a card that desk 1 did not sign is still caught.
        var body = Array(code.dropFirst(4))
        body[60] = body[60] == "A" ? "B" : "A"
        let forged = try desk2.checkin("JY1:" + String(body), venue: "main", at: at("10:02"))
        #expect(forged.status == 3, "\(forged.summary)")
        #expect(forged.reason == "bad_signature")

        // Key id 1 is now bound: a file giving id 1 another key (desk 2's own) is refused.
        let desk2AsOne = desk2KeysBefore.replacingOccurrences(of: "\"id\":2", with: "\"id\":1")
        let rebind = try desk2.run("card", "trust", try write(Data(desk2AsOne.utf8), "rebind.json", in: desk2), "--yes")
        #expect(isOneLineError(rebind), "exit \(rebind.status), stderr: \(rebind.stderr)")
        #expect(try desk2.run("card", "keys", "--json").stdout == keysAfter)
    }

    @Test("card trust of a file that is not a key list is a one-line error")
    func trustGarbage() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let before = try kiosk.run("card", "keys", "--json").stdout
        for (name, contents) in [
            ("empty.json", ""), ("text.json", "hello"), ("short.json", "{\"keys\":[{\"id\":7,\"public\":\"AAAA\"}]}"),
            ("range.json", "{\"keys\":[{\"id\":300,\"public\":\"paSCQDPTyKAvQO4JHQZD0+ny0ozKYS0zw0vJ4OiRKE0=\"}]}"),
        ] {
            let r = try kiosk.run("card", "trust", try write(Data(contents.utf8), name, in: kiosk), "--yes")
            #expect(isOneLineError(r), "\(name): exit \(r.status), stderr: \(r.stderr)")
        }
        #expect(try kiosk.run("card", "keys", "--json").stdout == before)
    }
}
