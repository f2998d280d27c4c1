#!/usr/bin/env python3
"""The demo page in a real browser (headless Chromium), against a running `dupwatch serve` + worker.

    python3 Tests/Browser/demo_page_test.py --url 'http://127.0.0.1:PORT/demo#key=KEY' [--screenshot PATH]

The story: pick a customer, add a product, place an order, come back some days later, add the
same product again; DupWatch's alert must arrive over the live stream (SSE) and open the
"Are you sure?" dialog with the first order's date, quantity and status. Then "Remove": the dialog
closes and the page confirms that the feedback was sent.

Needs Debian's python3-selenium, chromium and chromium-driver (/usr/bin/chromedriver):
    apt-get install chromium chromium-driver python3-selenium
Exit status: 0 passed, 1 the page misbehaved, 2 the browser could not be set up.
The last line on success is `demo page test passed: {json}` with the alert and feedback ids.
"""
import argparse
import sys
import time

from browser_support import Failure, Page, add_browser_arguments, run_test, save_screenshot


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the demo page with the key: http://127.0.0.1:PORT/demo#key=KEY")
    parser.add_argument("--screenshot", help="save a PNG of the open dialog here")
    parser.add_argument("--customer", default="alice", choices=["alice", "bob", "chen", "dana"])
    parser.add_argument("--sku", default="MILK-1L", help="the product to buy twice (default MILK-1L)")
    parser.add_argument("--qty", type=int, default=2, help="units in the first order (default 2)")
    parser.add_argument("--days", type=int, default=3, help="days between the order and the second add (default 3)")
    add_browser_arguments(parser)
    return parser.parse_args(argv)


class DemoPage(Page):
    def dialog_open(self):
        dialog = self.find("#duplicate-dialog")
        return dialog.get_attribute("open") is not None and dialog.is_displayed()

    def refresh_views(self):
        button = self.find("#refresh")
        if button.is_enabled():
            button.click()


def run(args, driver):
    page = DemoPage(driver, args.timeout)
    driver.get(args.url)
    page.wait("the page to start (body[data-ready])", lambda: page.attr("body", "data-ready") == "true")
    if page.find("#key-missing").is_displayed():
        raise Failure("the page says it has no API key: pass the URL with #key=KEY")

    # 1. Who is shopping: the live alert stream must be open before anything can raise an alert.
    page.click(f"#customer-{args.customer}")
    customer = page.wait("the customer id", lambda: page.attr("#customer-id", "data-customer-id"))
    if not customer.startswith(f"demo-{args.customer}-"):
        raise Failure(f"customer id {customer!r} does not look like demo-{args.customer}-<suffix>")

    def live_open():
        live = page.attr("#live-status", "data-state")
        if live == "error":
            raise Failure(f"the live alert stream was refused: {page.text('#live-status-text')}")
        return live == "open"
    page.wait("the live alert stream (#live-status[data-state=open])", live_open)

    # 2. Add the product with the quantity to order.
    sku = args.sku
    if not page.find_all(f"#add-{sku}"):
        raise Failure(f"no product {sku} in the catalog (no #add-{sku})")
    title = page.text(f"#product-{sku} .product-title")
    page.set_value(f"#qty-{sku}", args.qty)
    page.click(f"#add-{sku}")
    page.wait(f"{sku} in the cart", lambda: page.find_all(f"#cart-lines li[data-sku='{sku}']"))
    page.wait(f"DupWatch's copy of the cart to list {sku} (GET cart)",
              lambda: page.find_all(f"#dw-cart-lines li[data-sku='{sku}']"), poke=page.refresh_views)
    check_no_errors(page)

    # 3. Place the order; the page's clock says when.
    page.click("#place-order")
    order_id = page.wait("the order to be placed (#last-order[data-order-id])", lambda: page.attr("#last-order", "data-order-id"))
    order_ts = page.attr("#last-order", "data-order-ts")
    order_date = order_ts[:10]
    page.wait(f"order {order_id} in the order history (GET orders)",
              lambda: page.find_all(f"#order-history tr[data-order-id='{order_id}']"), poke=page.refresh_views)
    if page.find_all(f"#cart-lines li[data-sku='{sku}']"):
        raise Failure("the cart still lists the ordered product after the order")
    check_no_errors(page)

    # 4. Come back some days later.
    before = page.attr("#clock", "data-ts")
    page.set_value("#advance-days", args.days)
    page.click("#advance-clock")
    after = page.wait("the clock to move", lambda: (lambda ts: ts if ts != before else None)(page.attr("#clock", "data-ts")))
    if not after[:10] > order_date:
        raise Failure(f"the clock moved from {before} to {after}, not {args.days} days past the order ({order_ts})")

    # 5. Add the same product again: DupWatch must ask.
    page.set_value(f"#qty-{sku}", 1)
    page.click(f"#add-{sku}")
    page.wait("#duplicate-dialog to open", page.dialog_open)
    time.sleep(0.3)  # let the dialog's content settle for the screenshot

    facts = {
        "match": page.attr("#duplicate-dialog", "data-match"),
        "source": page.attr("#duplicate-dialog", "data-source"),
        "alert_id": page.attr("#duplicate-dialog", "data-alert-id"),
        "date": page.text("#dup-date"),
        "quantity": page.text("#dup-quantity"),
        "status": page.text("#dup-status"),
        "order_id": page.text("#dup-order-id"),
        "product": page.text("#dup-product"),
        "message": page.text("#duplicate-message"),
        "role": page.attr("#duplicate-dialog", "role"),
        "labelled_by": page.text("#" + page.attr("#duplicate-dialog", "aria-labelledby")),
    }
    if args.screenshot:
        save_screenshot(driver, args.screenshot)
    expected = {"match": "order", "source": "live", "date": order_date, "quantity": str(args.qty),
                "status": "processing", "order_id": order_id, "product": title, "role": "dialog"}
    wrong = {k: (facts[k], v) for k, v in expected.items() if facts[k] != v}
    if wrong:
        raise Failure("the dialog shows " + ", ".join(f"{k}={got!r} (expected {want!r})" for k, (got, want) in wrong.items())
                      + f"; message: {facts['message']!r}")
    for piece in (order_date, order_id, f"{args.qty} ×"):
        if piece not in facts["message"]:
            raise Failure(f"the dialog's message {facts['message']!r} does not mention {piece!r}")
    if not facts["labelled_by"]:
        raise Failure("the dialog's aria-labelledby points at an empty title")

    # 6. Remove: the dialog closes, the item leaves the cart, the feedback is confirmed.
    page.click("#remove-item")
    page.wait("#duplicate-dialog to close", lambda: not page.dialog_open())

    def feedback_sent():
        status = page.attr("#feedback-status", "data-state")
        if status == "error":
            raise Failure(f"the page could not send the feedback: {page.text('#feedback-status')}")
        return status == "sent"
    page.wait("the page to confirm the feedback (#feedback-status[data-state=sent])", feedback_sent)
    action = page.attr("#feedback-status", "data-action")
    if action != "removed_item":
        raise Failure(f"the feedback sent was {action!r}, not 'removed_item'")
    if page.find_all(f"#cart-lines li[data-sku='{sku}']"):
        raise Failure(f"{sku} is still in the cart after Remove")
    check_no_errors(page)
    return {"customer_id": customer, "sku": sku, "order_id": order_id, "order_date": order_date,
            "alert_id": facts["alert_id"], "feedback_entry_id": page.attr("#feedback-status", "data-entry-id"),
            "message": facts["message"]}


def check_no_errors(page):
    errors = [item.text for item in page.find_all("#event-log li.error")]
    if errors:
        raise Failure("the page logged a failed request: " + " | ".join(errors))


def diagnostics(driver):
    lines = []
    try:
        log = driver.execute_script(
            "return Array.from(document.querySelectorAll('#event-log li')).map(li => li.textContent).reverse()")
        if log:
            lines.append("the page's log, oldest first:")
            lines += [f"  {entry}" for entry in log]
        live = driver.execute_script("return document.getElementById('live-status-text').textContent")
        lines.append(f"live status: {live}")
    except Exception as error:
        lines.append(f"(could not read the page's log: {error})")
    return "\n".join(lines)


def main(argv):
    return run_test("demo page test", parse_args(argv), run, diagnostics)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
