import Foundation
import JiayuanDomain
import JiayuanTestSupport
import Testing

@testable import JiayuanStore

@Suite("Store: members", .blocking)
struct MemberStoreTests {
    @Test("ids are M + 6 digits in order; children need adult guardians")
    func members() throws {
        let db = try AppDatabase.inMemory()
        let now = Fixtures.at("2026-11-28 09:00")
        let parent = try db.addMember(NewMember(name: "陈伟", group: .resident, phone: "13905310001"), at: now)
        #expect(parent.id.description == "M000001")
        #expect(throws: StoreError.self) { try db.addMember(NewMember(name: "陈子涵", group: .child), at: now) }
        let child = try db.addMember(NewMember(name: "陈子涵", group: .child, born: 2016, guardians: [parent.id]), at: now)
        #expect(child.id.description == "M000002" && child.guardians == [parent.id])
        #expect(throws: StoreError.self) {
            try db.addMember(NewMember(name: "小小", group: .child, guardians: [child.id]), at: now)
        }
        #expect(throws: StoreError.self) { try db.addMember(NewMember(name: "  ", group: .resident), at: now) }
        #expect(throws: StoreError.self) { try db.addMember(NewMember(name: "x\u{7}", group: .resident), at: now) }
        #expect(try db.members(search: "0001").map(\.id) == [parent.id])
        #expect(try db.members(search: "M000002").map(\.id) == [child.id])
        try db.deactivateMember(parent.id)
        #expect(try db.member(parent.id)?.active == false)
    }

    @Test("a batch is all or nothing")
    func batch() throws {
        let db = try AppDatabase.inMemory()
        let now = Fixtures.at("2026-11-28 09:00")
        #expect(throws: MemberBatchError(index: 2, message: "a child needs at least one guardian")) {
            try db.addMembers(
                [NewMember(name: "甲", group: .resident), NewMember(name: "乙", group: .elder), NewMember(name: "丙", group: .child)],
                at: now)
        }
        #expect(try db.members().isEmpty)
    }
}
