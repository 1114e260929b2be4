"""Headless Chromium for the browser tests: Debian's chromium and chromium-driver, started so it never
reaches the network or downloads a driver.

    with chromium("--window-size=1200,900") as driver: ...
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium chromium-driver"
)
QUIET = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio")
"""Without the background-networking flags Chromium keeps trying hosts this machine cannot reach."""


@contextlib.contextmanager
def chromium(*args: str, log_browser: bool = False) -> Iterator[WebDriver]:
    """A WebDriver on a fresh profile, quit and its profile removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for arg in (*QUIET, *args, f"--user-data-dir={profile}"):
            opts.add_argument(arg)
        if log_browser:
            opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
        try:
            yield driver
        finally:
            driver.quit()
