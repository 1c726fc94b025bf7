@testable import FramecastPlay
import XCTest

final class PlayKeysTests: XCTestCase {
    static let shipped = ["NOOP", "MOVE_FORWARD", "MOVE_BACKWARD", "TURN_LEFT", "TURN_RIGHT", "MOVE_FORWARD+TURN_LEFT", "MOVE_FORWARD+TURN_RIGHT", "ATTACK"]

    func testDefaultsBindTheUsualKeysByName() {
        let keys = PlayKeys.defaults(for: Self.shipped)
        let map = Dictionary(uniqueKeysWithValues: keys.bindings.map { ($0.key, $0.action) })
        XCTAssertEqual(map["ArrowUp"], "MOVE_FORWARD")
        XCTAssertEqual(map["KeyW"], "MOVE_FORWARD")
        XCTAssertEqual(map["ArrowLeft"], "TURN_LEFT")
        XCTAssertEqual(map["KeyA"], "TURN_LEFT", "no MOVE_LEFT: A turns")
        XCTAssertEqual(map["Space"], "ATTACK")
        XCTAssertNil(map["Digit1"], "the joined actions are reached by holding two keys")
        XCTAssertEqual(keys.idleAction, 0)
    }

    func testEveryActionIsReachableForAnUnusualVocabulary() {
        let keys = PlayKeys.defaults(for: ["SELECT_WEAPON_2", "MOVE_LEFT", "JUMP", "LOOK_UP"])
        let map = Dictionary(uniqueKeysWithValues: keys.bindings.map { ($0.key, $0.action) })
        XCTAssertEqual(map["KeyA"], "MOVE_LEFT")
        XCTAssertEqual(map["KeyJ"], "JUMP")
        XCTAssertEqual(map["Digit1"], "SELECT_WEAPON_2")
        XCTAssertEqual(map["Digit2"], "LOOK_UP")
        XCTAssertEqual(keys.idleAction, -1, "no NOOP: nothing held takes no action")
    }

    func testHeldKeysTakeTheirJoinedActionOrTheLastPressed() {
        let keys = PlayKeys.defaults(for: Self.shipped)
        XCTAssertEqual(keys.action(held: []), 0)
        XCTAssertEqual(keys.action(held: ["ArrowUp"]), 1)
        XCTAssertEqual(keys.action(held: ["ArrowUp", "ArrowLeft"]), 5)
        XCTAssertEqual(keys.action(held: ["ArrowRight", "KeyW"]), 6)
        XCTAssertEqual(keys.action(held: ["ArrowUp", "Space"]), 7, "no MOVE_FORWARD+ATTACK: the key pressed last")
        XCTAssertEqual(keys.action(held: ["ArrowLeft", "ArrowRight"]), 4)
        XCTAssertEqual(keys.action(held: ["KeyZ"]), 0, "unbound keys are ignored")
    }

    func testKeysOptionReplacesTheDefaultsAndIsChecked() throws {
        let keys = try PlayKeys.parse("KeyI=MOVE_FORWARD, KeyJ=TURN_LEFT,KeyL=TURN_RIGHT", actionNames: Self.shipped)
        XCTAssertEqual(keys.bindings.map(\.key), ["KeyI", "KeyJ", "KeyL"])
        XCTAssertEqual(keys.action(held: ["KeyI", "KeyJ"]), 5)
        XCTAssertEqual(keys.action(held: ["ArrowUp"]), 0, "the defaults are replaced")
        for (text, message) in [("KeyI=FLY", "unknown action 'FLY'; the prior's actions are: NOOP, MOVE_FORWARD"),
                                ("KeyI", "'KeyI' is not KEY=ACTION"), ("KeyI=ATTACK,", "'' is not KEY=ACTION"),
                                ("Key I=ATTACK", "'Key I' is not a key name"), ("KeyI=ATTACK,KeyI=NOOP", "key 'KeyI' is bound twice")] {
            XCTAssertThrowsError(try PlayKeys.parse(text, actionNames: Self.shipped), text) {
                XCTAssertTrue("\($0)".contains(message), "\(text): \($0)")
            }
        }
    }
}
