#!/usr/bin/env python3
"""End-to-end test of the staff console in headless Chromium against a running `jiayuan serve`.

Run by Tests/JiayuanServerTests/StaffBrowserTests.swift (through kiosk/test.sh). By hand:

    STAFF_PIN=204719 python staff_e2e.py --url http://127.0.0.1:PORT --name 王芳 --out /tmp/shots
(the PIN comes from the environment, never the command line: it would show in ps)

Steps: log in (axe); the front-desk page (axe, screenshot); register an elder (axe); issue and print the
elder's card; on the floor check the elder into the day care and out again, see the fee, mark it paid
(axe, screenshot); the slips page (axe); the figures page (axe) and the day's CSV fetched and read back
(UTF-8 with BOM, the day care's visit). Prints `MEMBER=M…` and `staff_e2e: PASSED`; exit 1 with a reason.
"""
import argparse
import datetime
import os
import re
import sys
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

try:
    from axe_selenium_python import Axe
except ImportError:  # pragma: no cover
    Axe = None

T0 = time.monotonic()


class Failure(Exception):
    pass


def log(*parts):
    print("[staff_e2e %6.2fs]" % (time.monotonic() - T0), *parts, flush=True)


def start_browser(args):
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for a in ("--headless=new", "--no-sandbox", "--window-size=1280,1000", "--disable-gpu", "--lang=zh-CN"):
        options.add_argument(a)
    return webdriver.Chrome(service=Service(args.chromedriver), options=options)


def audit(d, name):
    if Axe is None:
        raise Failure("axe-selenium-python is not installed")
    axe = Axe(d)
    axe.inject()
    result = axe.run()
    bad = [v for v in result.get("violations", []) if v.get("impact") in ("serious", "critical")]
    summary = ", ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in result.get("violations", [])) or "none"
    log(f"axe on {name}: violations: {summary}")
    if bad:
        raise Failure(f"axe found serious or critical problems on {name}: {summary}")


def shot(d, out, name):
    os.makedirs(out, exist_ok=True)
    d.save_screenshot(os.path.join(out, name))


def body(d):
    try:
        return d.find_element(By.TAG_NAME, "body").text
    except Exception:  # noqa: BLE001 - the page is being replaced; the next poll reads the new one
        return ""


def submit(d, form_css):
    d.find_element(By.CSS_SELECTOR, form_css + " button[type=submit]").click()


def expect(cond, why):
    if not cond:
        raise Failure(why)


def wait_text(d, text, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in body(d):
            return
        time.sleep(0.1)
    raise Failure(f"waited for {text!r}; the page says: {body(d)[:600]}")


def run(args):
    d = start_browser(args)
    d.set_page_load_timeout(20)
    wait = WebDriverWait(d, 10)
    try:
        d.get(args.url + "/staff/login")
        audit(d, "login")
        d.find_element(By.NAME, "name").send_keys(args.name)
        d.find_element(By.NAME, "pin").send_keys(args.pin)
        submit(d, "form")
        wait.until(lambda d: d.current_url.endswith("/staff"))
        expect(args.name in body(d), "the front-desk page names the staff member")
        audit(d, "front desk")
        shot(d, args.out, "staff-home.png")

        d.get(args.url + "/staff/members/new")
        audit(d, "register a member")
        d.find_element(By.NAME, "name").send_keys("测试长者")
        Select(d.find_element(By.NAME, "group")).select_by_value("elder")
        d.find_element(By.NAME, "born").send_keys("1950")
        submit(d, "form[action='/staff/members/new']")
        wait.until(lambda d: re.search(r"/staff/members/M\d{6}$", d.current_url))
        member = d.current_url.rsplit("/", 1)[1]
        log("registered", member)
        audit(d, "member page")
        d.find_element(By.CSS_SELECTOR, f"form[action='/staff/members/{member}/card'] button").click()
        wait_text(d, "New card 1 issued")
        shot(d, args.out, "staff-member.png")
        print(f"MEMBER={member}", flush=True)

        d.get(args.url + "/staff/floor")
        audit(d, "floor")
        form = "form[action='/staff/floor/checkin']"
        d.find_element(By.CSS_SELECTOR, form + " input[name=member]").send_keys(member)
        Select(d.find_element(By.CSS_SELECTOR, form + " select[name=venue]")).select_by_value("daycare")
        submit(d, form)
        wait.until(lambda d: member in body(d) and "日间照料" in body(d))
        expect("Welcome" in body(d) or "欢迎" in body(d), "the elder is checked in: " + body(d)[:300])
        # The row's own check-out button.
        row_form = f"//tr[.//a[text()='{member}']]//form[@action='/staff/floor/checkin']//button"
        d.find_element(By.XPATH, row_form).click()
        wait_text(d, "fee ¥")
        log("checked out with a fee")
        d.find_element(By.XPATH, "//form[@action='/staff/floor/paid']//button").click()
        wait_text(d, "marked paid")
        audit(d, "floor after check-out")
        shot(d, args.out, "staff-floor.png")

        d.get(args.url + "/staff/slips")
        audit(d, "slips")
        d.get(args.url + "/staff/figures")
        audit(d, "figures")
        shot(d, args.out, "staff-figures.png")
        today = d.execute_script("return document.querySelector('h1').textContent.match(/\\d{4}-\\d{2}-\\d{2}/)[0]")
        csv = d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/staff/figures.csv?day=' + arguments[0]).then(r => r.arrayBuffer())"
            ".then(b => done(Array.from(new Uint8Array(b)))).catch(e => done('ERR ' + e));", today)
        expect(isinstance(csv, list), f"the CSV could not be fetched: {csv}")
        raw = bytes(csv)
        expect(raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte-order mark (Excel)")
        text = raw[3:].decode("utf-8")
        expect(f"{today},daycare," in text and ",visits,elder,1" in text, "the CSV holds the day care's visit: " + text[:400])
        expect("老年人日间照料中心" in text, "Chinese is intact in the CSV")
        log("CSV read back:", len(text.splitlines()), "lines")
        print("staff_e2e: PASSED", flush=True)
    finally:
        d.quit()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = p.parse_args()
    args.pin = os.environ.get("STAFF_PIN", "")
    if not args.pin:
        p.error("set STAFF_PIN in the environment")
    try:
        run(args)
    except Failure as e:
        print(f"staff_e2e: FAILED: {e}", flush=True)
        sys.exit(1)
    except Exception:  # noqa: BLE001 - any surprise is a failure with its trace
        traceback.print_exc()
        print("staff_e2e: FAILED: unexpected error", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
