"""Finding and launching a real Chromium for the browser tests (no browser download)."""

import os
import shutil
from pathlib import Path

DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = "sudo apt-get install chromium   (Debian/Ubuntu; or: .venv/bin/playwright install chromium)"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"

# As root, in a container, on a machine with no network: no sandbox, no GPU, no phoning home.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium():
    """Debian's Chromium, else one that Playwright installed, else None."""
    if os.path.exists(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
        return path if os.path.exists(path) else None
    except Exception:  # noqa: BLE001 - any failure here means "no browser"
        return None
