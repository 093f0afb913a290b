#!/usr/bin/env python3
"""Screenshots for docs/staff-guide.md that the keyboard walk (staff_e2e.py) does not take, against a running
`jiayuan serve` whose console is signed into with the PIN in JIAYUAN_E2E_PIN (from the environment, never
the command line). Made by hand, not by the suite; the state each shot needs is set up beforehand (see
docs/staff-guide.md, "Screenshots"):

    JIAYUAN_E2E_PIN=246810 python guide_shots.py --url http://127.0.0.1:CONSOLE --name 前台 --out DIR

Shots (1366×768): staff-slips-preview.png (a queue ticket previewed, from the top of the page);
staff-floor-kids.png (the children's club on the floor page: a child inside with the pickup-code box, and a household
drop-off grouped with one "Check all out" form);
staff-floor-fees.png (today's day-care fees with "mark paid"); staff-member-visits.png (the visits list of
the member named by --member, with a check-in's "void" form); with --printer-alert, staff-alert-printer.png
(the floor page's alert that says the printer is stopped, with the "start the printer again" button: waits
up to 60 s for it).
"""
import argparse
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def browser(args):
    o = webdriver.ChromeOptions()
    o.binary_location = args.chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--lang=zh-CN", "--hide-scrollbars", "--window-size=1366,768"):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service(args.chromedriver), options=o)
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    return d


def settle(d):
    d.execute_script("return document.fonts.ready")
    time.sleep(0.3)


def page_shot(d, out, name):
    d.execute_script("window.scrollTo(0, 0)")
    settle(d)
    d.save_screenshot(os.path.join(out, name))
    print("shot", name, flush=True)


def part_shot(d, out, name, selector):
    e = d.find_element(By.CSS_SELECTOR, selector)
    # Below the sticky bar at the top, which would otherwise cover the part's first lines.
    d.execute_script("window.scrollTo(0, arguments[0].getBoundingClientRect().top + window.scrollY - 140)", e)
    settle(d)
    e.screenshot(os.path.join(out, name))
    print("shot", name, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--printer-alert", action="store_true")
    p.add_argument("--member", default="M000001")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    d = browser(args)
    try:
        d.get(args.url + "/staff/login")
        d.find_element(By.ID, "name").send_keys(args.name)
        d.find_element(By.ID, "pin").send_keys(os.environ["JIAYUAN_E2E_PIN"])
        d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        time.sleep(0.5)
        if args.printer_alert:
            deadline = time.monotonic() + 60
            while True:
                d.get(args.url + "/staff/floor")
                if d.find_elements(By.CSS_SELECTOR, "form[action='/staff/printer/resume']"):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("no printer alert with a resume button within 60 s")
                time.sleep(1)
            d.get(args.url + "/staff/floor")
            part_shot(d, args.out, "staff-alert-printer.png", "section[aria-labelledby=falerts-h]")
            return
        d.get(args.url + "/staff/slips")
        service = d.find_element(By.ID, "q-service")
        service.clear()
        service.send_keys("社保 Social insurance")
        d.find_element(By.CSS_SELECTOR, "#queue-h ~ form button[value=preview]").click()
        time.sleep(0.5)
        page_shot(d, args.out, "staff-slips-preview.png")
        d.get(args.url + "/staff/floor")
        part_shot(d, args.out, "staff-floor-kids.png", "#venue-kids")
        part_shot(d, args.out, "staff-floor-fees.png", "section[aria-labelledby=fees-h]")
        d.get(args.url + "/staff/members/" + args.member)
        part_shot(d, args.out, "staff-member-visits.png", "section[aria-labelledby=visits-h]")
    finally:
        d.quit()


if __name__ == "__main__":
    sys.exit(main())
