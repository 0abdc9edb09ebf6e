import PycKit
import PycKitTestSupport
import Testing

/// Edits to values that were shared through back-references: the writer keeps a reference only
/// while both sides still hold the value that was shared.
@Suite("Marshal edits and sharing")
struct MarshalEditTests {
    /// `[x, x]` as 3.x marshal writes it when x is one float object: list (slot 0), float (slot 1), `r 1`.
    let sharedFloat: [UInt8] = [0xDB, 2, 0, 0, 0, 0xE7] + Array(repeating: 0, count: 6) + [0xF8, 0x3F] + [0x72, 1, 0, 0, 0]

    @Test func unchangedSharingIsKept() throws {
        let obj = try MarshalReader(version: .v3_12).loads(sharedFloat)
        #expect(obj.value == .list([PyObject(.float(1.5)), PyObject(.float(1.5))]))
        #expect(try MarshalWriter(version: .v3_12).dumps(obj) == sharedFloat)
    }

    @Test func editingTheTargetBreaksTheReference() throws {
        var obj = try MarshalReader(version: .v3_12).loads(sharedFloat)
        guard case .list(var items) = obj.value else { Issue.record("not a list"); return }
        items[0].value = .float(2.5)
        obj.value = .list(items)
        let out = try MarshalWriter(version: .v3_12).dumps(obj)
        let back = try MarshalReader(version: .v3_12).loads(out)
        #expect(back.value == .list([PyObject(.float(2.5)), PyObject(.float(1.5))]))
    }

    @Test func editingTheReferenceWritesItInFull() throws {
        var obj = try MarshalReader(version: .v3_12).loads(sharedFloat)
        guard case .list(var items) = obj.value else { Issue.record("not a list"); return }
        items[1].value = .float(-1.0)
        obj.value = .list(items)
        let out = try MarshalWriter(version: .v3_12).dumps(obj)
        let back = try MarshalReader(version: .v3_12).loads(out)
        #expect(back.value == .list([PyObject(.float(1.5)), PyObject(.float(-1.0))]))
        // The interpreter agrees.
        if let _ = Interpreters.python(.v3_12) {
            let r = try Interpreters.runPython(.v3_12, "import marshal, sys; print(marshal.loads(bytes.fromhex(sys.argv[1])))", args: [Hex.encode(out)])
            #expect(r.stdout == "[1.5, -1.0]\n")
        } else {
            print(Interpreters.missingMessage(.v3_12))
        }
    }

    @Test func twoSevenInternedStringsUseTheStringTable() throws {
        // 2.7: ("ab", "ab") with interned strs: t "ab", then R 0.
        let bytes: [UInt8] = [0x28, 2, 0, 0, 0, 0x74, 2, 0, 0, 0, 0x61, 0x62, 0x52, 0, 0, 0, 0]
        let obj = try MarshalReader(version: .v2_7).loads(bytes)
        #expect(obj.value == .tuple([PyObject(.bytes([0x61, 0x62])), PyObject(.bytes([0x61, 0x62]))]))
        #expect(try MarshalWriter(version: .v2_7).dumps(obj) == bytes)
        var edited = obj
        edited.value = .tuple([PyObject(.bytes([0x61, 0x62])), obj.value.items![1]])
        // The first is now a plain (non-interned) str; the back-reference has nothing to point at.
        let out = try MarshalWriter(version: .v2_7).dumps(edited)
        #expect(try MarshalReader(version: .v2_7).loads(out).value == obj.value)
    }
}
