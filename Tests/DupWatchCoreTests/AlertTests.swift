import Testing
import DupWatchCore

/// 2026-11-23T09:30:00Z
private let orderDate: Int64 = 1_795_426_200_000
/// 2026-11-20T10:00:00Z
private let cartDate: Int64 = 1_795_168_800_000
/// 2026-11-23T23:59:59.999Z
private let lastMsOfNov23: Int64 = 1_795_478_399_999

private func orderAlert(customer: String = "C-1", sku: String = "MILK-1L", title: String? = "Organic Milk 1L",
                        trigger: Alert.Kind = .cart, triggerID: String = "ev-1", quantity: Int = 2,
                        placedAt: Int64 = orderDate, status: OrderStatus = .processing) -> Alert {
    Alert(customerID: customer, sku: sku, title: title, trigger: trigger, triggerID: triggerID,
          match: .order(orderID: "O-1001", placedAt: placedAt, status: status), quantity: quantity)
}

private func cartAlert(customer: String = "C-1", sku: String = "MILK-1L", title: String? = "Organic Milk 1L",
                       triggerID: String = "ev-1", quantity: Int = 2, addedAt: Int64 = cartDate) -> Alert {
    Alert(customerID: customer, sku: sku, title: title, trigger: .cart, triggerID: triggerID,
          match: .cart(addedAt: addedAt), quantity: quantity)
}

private func dictionary(_ fields: [(String, String)]) -> [String: String] {
    Dictionary(fields, uniquingKeysWith: { first, _ in first })
}

@Suite("Alert message")
struct AlertMessageTests {
    @Test func orderMatchMessage() {
        #expect(orderAlert().message == "You already ordered 2 × Organic Milk 1L on 2026-11-23 (order O-1001, processing).")
    }

    @Test func orderMatchMessageShowsTheStatus() {
        #expect(orderAlert(quantity: 1, status: .delivered).message
            == "You already ordered 1 × Organic Milk 1L on 2026-11-23 (order O-1001, delivered).")
    }

    @Test func cartMatchMessage() {
        #expect(cartAlert().message == "You already have 2 × Organic Milk 1L in your cart since 2026-11-20.")
    }

    @Test func titleFallsBackToSkuWhenAbsent() {
        #expect(orderAlert(title: nil).message == "You already ordered 2 × MILK-1L on 2026-11-23 (order O-1001, processing).")
        #expect(cartAlert(title: nil).message == "You already have 2 × MILK-1L in your cart since 2026-11-20.")
    }

    @Test func titleFallsBackToSkuWhenEmpty() {
        #expect(orderAlert(title: "").message == "You already ordered 2 × MILK-1L on 2026-11-23 (order O-1001, processing).")
        #expect(cartAlert(title: "").message == "You already have 2 × MILK-1L in your cart since 2026-11-20.")
    }

    @Test func dateIsTheUTCCalendarDate() {
        #expect(orderAlert(placedAt: lastMsOfNov23).message.contains(" on 2026-11-23 "))
        #expect(orderAlert(placedAt: lastMsOfNov23 + 1).message.contains(" on 2026-11-24 "))
        #expect(cartAlert(addedAt: lastMsOfNov23 + 1).message.hasSuffix(" since 2026-11-24."))
    }
}

@Suite("Alert stream fields")
struct AlertFieldTests {
    let detectedAt: Int64 = 1_795_478_400_000 // 2026-11-24T00:00:00Z

    @Test func orderMatchFields() {
        let alert = orderAlert()
        let fields = alert.fields(detectedAt: detectedAt)
        #expect(fields.map(\.0) == ["alert_id", "customer_id", "sku", "title", "trigger", "trigger_id", "match",
                                    "quantity", "order_id", "order_date", "order_status", "detected_at", "message"])
        let f = dictionary(fields)
        #expect(f["alert_id"] == alert.alertID)
        #expect(f["customer_id"] == "C-1")
        #expect(f["sku"] == "MILK-1L")
        #expect(f["title"] == "Organic Milk 1L")
        #expect(f["trigger"] == "cart")
        #expect(f["trigger_id"] == "ev-1")
        #expect(f["match"] == "order")
        #expect(f["quantity"] == "2")
        #expect(f["order_id"] == "O-1001")
        #expect(f["order_date"] == "2026-11-23T09:30:00.000Z")
        #expect(f["order_status"] == "processing")
        #expect(f["added_at"] == nil)
        #expect(f["detected_at"] == "2026-11-24T00:00:00.000Z")
        #expect(f["message"] == alert.message)
    }

    @Test func cartMatchFields() {
        let alert = cartAlert()
        let fields = alert.fields(detectedAt: detectedAt)
        #expect(fields.map(\.0) == ["alert_id", "customer_id", "sku", "title", "trigger", "trigger_id", "match",
                                    "quantity", "added_at", "detected_at", "message"])
        let f = dictionary(fields)
        #expect(f["match"] == "cart")
        #expect(f["added_at"] == "2026-11-20T10:00:00.000Z")
        #expect(f["order_id"] == nil)
        #expect(f["order_date"] == nil)
        #expect(f["order_status"] == nil)
        #expect(f["message"] == "You already have 2 × Organic Milk 1L in your cart since 2026-11-20.")
    }

    @Test func orderTriggerFields() {
        let f = dictionary(orderAlert(trigger: .order, triggerID: "O-2002").fields(detectedAt: detectedAt))
        #expect(f["trigger"] == "order")
        #expect(f["trigger_id"] == "O-2002")
    }

    @Test func timesKeepMilliseconds() {
        let f = dictionary(orderAlert(placedAt: lastMsOfNov23).fields(detectedAt: detectedAt + 7))
        #expect(f["order_date"] == "2026-11-23T23:59:59.999Z")
        #expect(f["detected_at"] == "2026-11-24T00:00:00.007Z")
    }

    @Test func titleFieldIsOmittedWhenAbsentOrEmpty() {
        #expect(!orderAlert(title: nil).fields(detectedAt: detectedAt).contains { $0.0 == "title" })
        #expect(!cartAlert(title: "").fields(detectedAt: detectedAt).contains { $0.0 == "title" })
    }

    @Test func eachFieldNameAppearsOnce() {
        for alert in [orderAlert(), cartAlert()] {
            let names = alert.fields(detectedAt: detectedAt).map(\.0)
            #expect(Set(names).count == names.count)
        }
    }
}

@Suite("Alert id")
struct AlertIDTests {
    @Test func isThirtyTwoLowercaseHexDigits() {
        for id in [orderAlert().alertID, cartAlert().alertID] {
            #expect(id.count == 32)
            #expect(id.allSatisfy { "0123456789abcdef".contains($0) })
        }
    }

    @Test func stableForSameCustomerTriggerTriggerIDSkuAndMatch() {
        #expect(orderAlert().alertID == orderAlert().alertID)
        // Quantities, titles, order details and times are not part of the identity.
        #expect(orderAlert().alertID == orderAlert(title: nil, quantity: 9, placedAt: 0, status: .shipped).alertID)
        #expect(cartAlert().alertID == cartAlert(title: "x", quantity: 7, addedAt: 1).alertID)
    }

    @Test func differsWhenCustomerDiffers() {
        #expect(orderAlert(customer: "C-1").alertID != orderAlert(customer: "C-2").alertID)
        #expect(cartAlert(customer: "C-1").alertID != cartAlert(customer: "C-2").alertID)
    }

    @Test func differsWhenAnyIdentityPartDiffers() {
        let base = orderAlert().alertID
        #expect(orderAlert(trigger: .order).alertID != base)
        #expect(orderAlert(triggerID: "ev-2").alertID != base)
        #expect(orderAlert(sku: "MILK-2L").alertID != base)
        // Same customer, trigger, trigger id and SKU; only the match differs.
        #expect(cartAlert().alertID != base)
    }

    @Test func partsAreSeparatedSoShiftedBoundariesDiffer() {
        // trigger_id and sku are adjacent in the hashed text: "ev-1Y"+"X" vs "ev-1"+"YX".
        #expect(cartAlert(sku: "X", triggerID: "ev-1Y").alertID != cartAlert(sku: "YX", triggerID: "ev-1").alertID)
    }

    @Test func matchesFieldAlertID() {
        let alert = cartAlert()
        #expect(alert.fields(detectedAt: 0).first?.1 == alert.alertID)
    }
}
