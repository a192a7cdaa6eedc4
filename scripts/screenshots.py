"""Headless-Chromium screenshots of pages of a running eCRF, to look at (not a test).

    python scripts/screenshots.py http://127.0.0.1:8000 OUT_DIR USER PASSWORD PATH [PATH ...]

Each PATH is shot at 1366, 768 and 375 px wide (full page) as OUT_DIR/<name>-<width>.png.
LOCALE=zh-CN sets the browser's language (Accept-Language, its date pickers) for the pages in Chinese.
"""

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

WIDTHS = (1366, 768, 375)


def main() -> None:
    base, out, user, password, *paths = sys.argv[1:]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for width in WIDTHS:
            locale = os.environ.get("LOCALE") or "en-US"
            context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
            page = context.new_page()
            page.goto(f"{base}/login/")
            page.fill('[name="username"]', user)
            page.fill('[name="password"]', password)
            page.click('button[type="submit"]')
            for path in paths:
                page.goto(f"{base}{path}")
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                page.screenshot(path=str(out_dir / f"{name}-{width}.png"), full_page=True)
                print(out_dir / f"{name}-{width}.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
