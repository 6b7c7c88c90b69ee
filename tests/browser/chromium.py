"""Debian's Chromium driven by Playwright (Playwright cannot download browsers here)."""
import os
import tempfile

CHROMIUM = os.environ.get("NEURAL_LAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
