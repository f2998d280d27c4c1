#!/usr/bin/env python3
"""The analytics dashboard in a real browser (headless Chromium), against a running `dupwatch serve`.

    python3 Tests/Browser/dashboard_page_test.py --url 'http://127.0.0.1:PORT/dashboard#key=KEY'

Waits for the page to draw GET /v1/stats, then reads what a store manager sees: the key figures,
the bars of the time chart (their data-* attributes), the top products and the outcomes. The
caller compares them with what it put into Redis. Needs Debian's python3-selenium, chromium and
chromium-driver. Exit status: 0 passed, 1 the page misbehaved, 2 the browser could not be set up.
The last line on success is `dashboard test passed: {json}`.
"""
import argparse
import sys

from browser_support import Failure, Page, add_browser_arguments, console_lines, run_test, save_screenshot


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the dashboard with the key: http://127.0.0.1:PORT/dashboard#key=KEY")
    parser.add_argument("--screenshot", help="save a PNG of the drawn dashboard here")
    add_browser_arguments(parser)
    return parser.parse_args(argv)


def number(text):
    return int(text.replace(",", "")) if text not in ("", "–") else None


def run(args, driver):
    page = Page(driver, args.timeout)
    driver.get(args.url)

    def drawn():
        if page.attr("#status", "data-state") == "error":
            raise Failure(f"the page reports an error: {page.text('#status')}")
        return page.text("#kpi-alerts") != "–" and page.find_all("#chart-series svg")
    page.wait("the figures to be drawn", drawn)

    bars = {}
    for bar in page.find_all("#chart-series rect.series-bar"):
        key = bar.get_attribute("data-key")
        bars[key] = bars.get(key, 0) + int(bar.get_attribute("data-value"))
        if float(bar.get_attribute("height")) < 0:
            raise Failure(f"a bar of negative height: {bar.get_attribute('data-start')} {key}")
    skus = [(row.get_attribute("data-label"), int(row.get_attribute("data-value")))
            for row in page.find_all("#chart-skus rect.bar-row")]
    outcomes = {row.get_attribute("data-label"): int(row.get_attribute("data-value"))
                for row in page.find_all("#chart-outcomes rect.bar-row")}
    if args.screenshot:
        driver.set_window_size(1280, 1280)  # the whole page, for docs/dashboard.png
        save_screenshot(driver, args.screenshot)
    severe = [line for line in console_lines(driver) if "SEVERE" in line]
    if severe:
        raise Failure("the browser console has errors:\n" + "\n".join(severe))
    return {
        "alerts": number(page.text("#kpi-alerts")),
        "orders": number(page.text("#kpi-orders")),
        "cancelled_share": page.text("#kpi-cancelled-share"),
        "cancelled_detail": page.text("#kpi-cancelled-detail"),
        "removed_share": page.text("#kpi-removed-share"),
        "series_totals": bars,
        "series_points": len(page.find_all("#chart-series rect.series-bar[data-key=alerts]")),
        "top_skus": skus,
        "outcomes": outcomes,
        "period": page.text("#period"),
    }


def diagnostics(driver):
    lines = []
    try:
        lines.append("status: " + driver.execute_script("return document.getElementById('status').textContent"))
    except Exception as error:
        lines.append(f"(could not read the page's status: {error})")
    return "\n".join(lines)


def main(argv):
    return run_test("dashboard test", parse_args(argv), run, diagnostics)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
