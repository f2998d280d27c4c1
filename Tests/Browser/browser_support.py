"""What the browser tests share: headless Chromium through Debian's Selenium and chromedriver,
a page wrapper that waits, and the run-and-report frame (exit 0 passed, 1 the page misbehaved,
2 no browser). Imported by demo_page_test.py and dashboard_page_test.py beside it."""
import json
import os
import shutil
import sys
import time

INSTALL_HINT = "run `apt-get install chromium chromium-driver python3-selenium` (and use Debian's /usr/bin/python3)"


class Failure(Exception):
    """The page did not do what the story expects."""


class SetupError(Exception):
    """No browser to test with."""


def start_browser(args):
    """args has .chromedriver and .chromium (see add_browser_arguments)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        raise SetupError(f"selenium is not importable by {sys.executable} ({error}): {INSTALL_HINT}")
    if not os.access(args.chromedriver, os.X_OK):
        raise SetupError(f"no chromedriver at {args.chromedriver}: {INSTALL_HINT}")
    binary = args.chromium
    if binary is None and not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        raise SetupError(f"no chromium on PATH: {INSTALL_HINT}")

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,900", "--force-device-scale-factor=1", "--lang=en-US",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(flag)
    if binary:
        options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
    except Exception as error:  # WebDriverException and friends: the browser did not start
        raise SetupError(f"headless Chromium did not start: {str(error).strip().splitlines()[0] if str(error).strip() else error!r}; {INSTALL_HINT}")




def add_browser_arguments(parser):
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each step (default 20)")
    parser.add_argument("--chromedriver", default=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_BIN"), help="the browser binary (default: chromedriver's choice)")


class Page:
    def __init__(self, driver, timeout):
        from selenium.webdriver.common.by import By
        self.driver = driver
        self.timeout = timeout
        self.By = By

    def find(self, css):
        return self.driver.find_element(self.By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    def wait(self, what, condition, timeout=None, poke=None):
        """Polls condition() (truthy result wins) until the timeout; poke() runs every second meanwhile."""
        deadline = time.monotonic() + (timeout or self.timeout)
        last_poke = time.monotonic()
        last_error = None
        while True:
            try:
                result = condition()
                if result:
                    return result
            except Exception as error:  # a stale or not-yet-present element: try again
                last_error = error
            if time.monotonic() >= deadline:
                detail = f" (last error: {last_error})" if last_error else ""
                raise Failure(f"timed out after {timeout or self.timeout:.0f} s waiting for {what}{detail}")
            if poke and time.monotonic() - last_poke >= 1.0:
                last_poke = time.monotonic()
                try:
                    poke()
                except Exception:
                    pass
            time.sleep(0.1)

    def text(self, css):
        return self.find(css).text.strip()

    def attr(self, css, name):
        return self.find(css).get_attribute(name)

    def click(self, css):
        element = self.find(css)
        if not element.is_enabled():
            raise Failure(f"{css} is disabled")
        element.click()

    def set_value(self, css, value):
        element = self.find(css)
        element.clear()
        element.send_keys(str(value))


def save_screenshot(driver, path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if not driver.save_screenshot(path):
        raise Failure(f"could not save the screenshot to {path}")


def console_lines(driver):
    try:
        return [f"  {entry['level']}: {entry['message']}" for entry in driver.get_log("browser")]
    except Exception:
        return []


def report_failure(driver, diagnostics):
    """The page's own diagnostics, then the browser console."""
    print(diagnostics(driver), file=sys.stderr)
    console = console_lines(driver)
    if console:
        print("browser console:\n" + "\n".join(console), file=sys.stderr)


def run_test(name, args, run, diagnostics):
    """Starts the browser, runs run(args, driver) and prints `<name> passed: {json}` on success;
    on a failure, diagnostics(driver) (text about the page) and the browser console."""
    try:
        driver = start_browser(args)
    except SetupError as error:
        print(f"{name}: cannot start a browser: {error}", file=sys.stderr)
        return 2
    try:
        summary = run(args, driver)
    except Failure as error:
        print(f"{name} FAILED: {error}", file=sys.stderr)
        report_failure(driver, diagnostics)
        if getattr(args, "screenshot", None):
            root, ext = os.path.splitext(args.screenshot)
            failure_path = f"{root}-failure{ext or '.png'}"
            try:
                save_screenshot(driver, failure_path)
                print(f"a screenshot of the page is at {failure_path}", file=sys.stderr)
            except Exception:
                pass
        return 1
    except Exception as error:  # a WebDriver error mid-run: still a failure of this test, with context
        print(f"{name} FAILED with {type(error).__name__}: {error}", file=sys.stderr)
        report_failure(driver, diagnostics)
        return 1
    finally:
        try:
            driver.quit()
        except Exception:
            pass
    print(f"{name} passed: " + json.dumps(summary, ensure_ascii=False))
    return 0
