import Foundation
import JiayuanTestSupport
import Testing

@Suite("jiayuan init and checkin, end to end", .blocking)
struct CheckInCLITests {
    // MARK: - init

    @Test("init --demo creates the config, the database and a private signing key readable only by its owner")
    func initCreatesDataDirectory() throws {
        let kiosk = TestKiosk()
        defer { kiosk.remove() }
        let r = try kiosk.run("init", "--demo")
        #expect(r.status == 0, "\(r.stderr)")
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: kiosk.configPath))
        #expect(fm.fileExists(atPath: kiosk.databasePath))
        #expect(fm.fileExists(atPath: kiosk.signingKeyPath))
        let attributes = try fm.attributesOfItem(atPath: kiosk.signingKeyPath)
        let mode = try #require((attributes[.posixPermissions] as? NSNumber)?.intValue)
        #expect(mode == 0o600, "card-signing.key has mode \(String(mode, radix: 8))")
        #expect(try kiosk.memberLines().count >= 150, "the demo should hold about 200 members")
    }

    @Test("a second init on the same directory exits 1 with one line on stderr and changes nothing")
    func secondInitIsRefused() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let files = [kiosk.configPath, kiosk.databasePath, kiosk.signingKeyPath]
        let before = files.map { FileManager.default.contents(atPath: $0) }
        let listingBefore = try FileManager.default.subpathsOfDirectory(atPath: kiosk.path).sorted()

        for args in [["init", "--demo"], ["init"], ["init", "--key-id", "2"]] {
            let r = try kiosk.run(args)
            #expect(isOneLineError(r), "\(args): exit \(r.status), stderr: \(r.stderr)")
        }

        #expect(files.map { FileManager.default.contents(atPath: $0) } == before)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: kiosk.path).sorted() == listingBefore)
    }

    @Test("without --data the data directory comes from $JIAYUAN_DATA")
    func dataFromEnvironment() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try Run.jiayuan(["card", "show", "M000001"], environment: ["JIAYUAN_DATA": kiosk.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == (try kiosk.card("M000001")))
    }

    // MARK: - card codes and the decision object

    @Test("card show prints a JY1 code of 126 characters, base32 after the prefix")
    func cardShowPrintsCode() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let code = try kiosk.card("M000001")
        #expect(code.hasPrefix("JY1:"))
        #expect(code.count == 126)
        #expect(code.dropFirst(4).allSatisfy { ("A"..."Z").contains($0) || ("2"..."7").contains($0) }, "\(code)")
    }

    @Test("checkin --json prints exactly the decision object of DESIGN.md §3.3, keys in order")
    func checkinPrintsDecisionObject() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let c = try kiosk.checkin(try kiosk.card("M000001"), venue: "veterans")
        #expect(c.status == 0, "\(c.summary)")

        let keys = ["outcome", "direction", "reason", "repeat", "member", "venue", "seq", "at", "occupancy", "message"]
        #expect(Set(c.object.keys) == Set(keys), "\(c.json)")
        #expect(c.object.count == keys.count)
        // The order in the raw text, as the contract prints it.
        let positions = keys.map { key in c.json.range(of: "\"\(key)\"\\s*:", options: .regularExpression)?.lowerBound }
        #expect(!positions.contains(nil), "\(c.json)")
        let found = positions.compactMap { $0 }
        #expect(found == found.sorted(), "keys out of order in \(c.json)")
        #expect(c.json.trimmingCharacters(in: .whitespaces).hasPrefix("{\"outcome\""))

        #expect(c.outcome == "accepted")
        #expect(c.direction == "in")
        #expect(c.object["reason"] is NSNull)
        #expect(c.isRepeat == false)
        #expect(c.memberID == "M000001")
        let displayName = try #require(c.member?["display_name"] as? String)
        #expect(displayName.contains("*"), "the name must be masked: \(displayName)")
        #expect(c.member?["group"] is String)
        #expect(c.object["venue"] as? String == "veterans")
        #expect(c.seq == 1)
        let time = try #require(c.at)
        #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil, "\(time)")
        let occupancy = try #require(c.object["occupancy"] as? [String: Any])
        #expect((occupancy["inside"] as? NSNumber)?.intValue == 1)
        #expect((occupancy["capacity"] as? NSNumber)?.intValue == 50)
        let message = try #require(c.object["message"] as? [String: Any])
        #expect(message["zh"] is String && message["en"] is String)
    }

    @Test("the same checkin again at once is a repeat: same seq, nothing recorded")
    func immediateRepeatRecordsNothing() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let code = try kiosk.card("M000001")
        let first = try kiosk.checkin(code, venue: "veterans")
        let second = try kiosk.checkin(code, venue: "veterans")
        #expect(first.status == 0 && second.status == 0, "\(first.summary) / \(second.summary)")
        #expect(first.isRepeat == false)
        #expect(second.isRepeat == true)
        #expect(second.seq == first.seq)
        #expect(second.outcome == "accepted")
        #expect(second.direction == "in")
        #expect(try kiosk.eventCount() == 1)
    }

    // MARK: - exit codes

    @Test("a denied check-in exits 3: a child's card at the gym is not_eligible")
    func deniedExitsThree() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let child = try kiosk.someMember(group: "child", youngest: true)
        let c = try kiosk.checkin(try kiosk.card(child), venue: "gym", at: at("10:00"))
        #expect(c.status == 3, "\(c.summary)")
        #expect(c.outcome == "denied")
        #expect(c.reason == "not_eligible")
        #expect(c.memberID == child)
        #expect(c.seq == 1, "a denial is recorded too")

        // Without --json too.
        let text = try kiosk.run("checkin", try kiosk.card(child), "--venue", "gym", "--at", at("10:05"))
        #expect(text.status == 3)
    }

    @Test("an unknown flag is a usage error: exit 64")
    func unknownFlagExits64() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try kiosk.run("checkin", try kiosk.card("M000001"), "--venue", "veterans", "--bogus")
        #expect(r.status == 64, "exit \(r.status): \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(try kiosk.run("report", "--day").status == 64, "an option without its value")
    }

    @Test("an unknown venue exits 1 with one line on stderr and records nothing")
    func unknownVenueExitsOne() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try kiosk.run("checkin", try kiosk.card("M000001"), "--venue", "swimming-pool")
        #expect(isOneLineError(r), "exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains("swimming-pool"))
        #expect(try kiosk.eventCount() == 0)
    }

    @Test("a missing data directory exits 1 with one line on stderr")
    func missingDataDirectoryExitsOne() throws {
        let kiosk = TestKiosk()  // never initialised
        defer { kiosk.remove() }
        let missing = kiosk.path + "/nowhere"
        for args in [
            ["checkin", "JY1:AAAA", "--venue", "gym"], ["member", "list"], ["report", "--day", "2026-11-28"], ["verify"],
            ["sweep"], ["card", "show", "M000001"],
        ] {
            let r = try Run.jiayuan(args + ["--data", missing])
            #expect(isOneLineError(r), "\(args): exit \(r.status), stderr: \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: missing), "a command other than init must not create the directory")
    }

    // MARK: - --at, opening hours, minimum stay

    @Test("--at: closed before opening, in at 10:00, a repeat within the minimum stay, out at 11:00")
    func libraryDayWithAt() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let code = try kiosk.card("M000001")

        let early = try kiosk.checkin(code, venue: "library", at: at("07:00"))
        #expect(early.status == 3, "\(early.summary)")
        #expect(early.outcome == "denied")
        #expect(early.reason == "closed")
        #expect(early.at == "2026-11-27T23:00:00Z")

        let checkIn = try kiosk.checkin(code, venue: "library", at: at("10:00"))
        #expect(checkIn.status == 0, "\(checkIn.summary)")
        #expect(checkIn.outcome == "accepted")
        #expect(checkIn.direction == "in")
        #expect(checkIn.isRepeat == false)
        #expect(checkIn.at == "2026-11-28T02:00:00Z")
        let inSeq = try #require(checkIn.seq)
        #expect(inSeq == (early.seq ?? 0) + 1)

        // 30 s later: outside the 5 s debounce but within the 60 s minimum stay.
        let again = try kiosk.checkin(code, venue: "library", at: at("10:00:30"))
        #expect(again.status == 0, "\(again.summary)")
        #expect(again.outcome == "accepted")
        #expect(again.direction == "in")
        #expect(again.isRepeat == true)
        #expect(again.seq == inSeq)

        let checkOut = try kiosk.checkin(code, venue: "library", at: at("11:00"))
        #expect(checkOut.status == 0, "\(checkOut.summary)")
        #expect(checkOut.outcome == "accepted")
        #expect(checkOut.direction == "out")
        #expect(checkOut.isRepeat == false)
        #expect(checkOut.seq == inSeq + 1, "the repeat recorded nothing")
        #expect(try kiosk.eventCount() == 3)
    }

    @Test("--at that is not a time is a usage mistake: exit 64, says what a time looks like, records nothing")
    func badAtIsAnError() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try kiosk.run("checkin", try kiosk.card("M000001"), "--venue", "veterans", "--at", "yesterday")
        #expect(r.status == 64, "exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains("is not a time like 2026-11-28T08:05:00+08:00"), "\(r.stderr)")
        #expect(try kiosk.eventCount() == 0)
    }

    // MARK: - bad input

    @Test("whatever a scanner types gives a recorded denial (exit 3), never a crash; the chain stays intact")
    func badInputIsDenied() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let good = try kiosk.card("M000001")
        let body = Array(good.dropFirst(4))
        // One base32 character in the middle of the signature changed: well formed, not signed.
        var forged = body
        forged[60] = forged[60] == "A" ? "B" : "A"

        let inputs: [(label: String, code: String, stdin: Data?, reasons: Set<String>)] = [
            ("empty", "", nil, ["invalid_code"]),
            ("10 KB", String(repeating: "A", count: 10 * 1024), nil, ["invalid_code"]),
            ("control bytes", "\u{01}\u{02}\u{1B}[31mJY1:\u{7F}\u{08}", nil, ["invalid_code"]),
            ("JY1: + 122 A", "JY1:" + String(repeating: "A", count: 122), nil, ["invalid_code", "bad_signature"]),
            ("75 bytes of base32", "JY1:" + String(body.prefix(120)), nil, ["invalid_code"]),
            ("81 bytes of base32", "JY1:" + String(body) + "AAAAAAAA", nil, ["invalid_code"]),
            ("forged signature", "JY1:" + String(forged), nil, ["bad_signature"]),
            ("invalid UTF-8 on stdin", "-", Data([0xFF, 0xFE, 0x00, 0x4A, 0xC3, 0x28, 0xE2, 0x82, 0x0A]), ["invalid_code"]),
        ]
        var seqs: [Int] = []
        for (i, input) in inputs.enumerated() {
            let c = try kiosk.checkin(input.code, venue: "gym", at: at("10:00:\(String(format: "%02d", i))"), stdin: input.stdin)
            #expect(c.status == 3, "\(input.label): \(c.summary)")
            #expect(c.outcome == "denied", "\(input.label): \(c.summary)")
            #expect(input.reasons.contains(c.reason ?? "none"), "\(input.label): reason \(c.reason ?? "nil")")
            #expect(c.isRepeat == false, "\(input.label)")
            #expect(!c.process.stderr.contains("Fatal error"), "\(input.label): \(c.process.stderr)")
            if let seq = c.seq { seqs.append(seq) }
        }
        #expect(seqs == Array(1...inputs.count), "every denial is recorded, in order: \(seqs)")

        let verify = try kiosk.run("verify")
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.contains("event chain: ok (\(inputs.count) events)"), "\(verify.stdout)")
        let report = try kiosk.run("report", "--day", "2026-11-28")
        #expect(report.stdout.contains("invalid_code"), "\(report.stdout)")
        #expect(report.stdout.contains("bad_signature"), "\(report.stdout)")
    }
}
