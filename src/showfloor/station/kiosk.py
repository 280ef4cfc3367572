"""The kiosk browser: Chromium locked down and pointed at a station surface.

Flags keep visitors in the exhibit (no new windows or pop-ups, no swipe or
pinch navigation, no crash or translate bubbles, no first-run pages), let
narration play without a gesture, and stop Chromium from calling home. What
flags cannot do (devtools, printing, downloads) a managed policy does:
``showfloor kiosk --policy`` prints it for ``/etc/chromium/policies/managed/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from showfloor.errors import ShowfloorError

BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

KIOSK_FLAGS = (
    "--kiosk",
    "--start-fullscreen",
    "--noerrdialogs",
    "--disable-infobars",
    "--disable-session-crashed-bubble",
    "--hide-crash-restore-bubble",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-translate",
    "--disable-features=Translate,OverscrollHistoryNavigation,"
    "TouchpadOverscrollHistoryNavigation,MediaRouter,HardwareMediaKeyHandling",
    "--overscroll-history-navigation=0",
    "--disable-pinch",
    "--block-new-web-contents",
    "--disable-print-preview",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--check-for-update-interval=31536000",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--password-store=basic",
    "--incognito",
    "--touch-events=enabled",
)

#: Chromium enterprise policy: what no command-line flag can switch off.
POLICY: dict[str, Any] = {
    "DeveloperToolsAvailability": 2,  # never
    "PrintingEnabled": False,
    "DownloadRestrictions": 3,  # block all downloads
    "BrowserSignin": 0,
    "PasswordManagerEnabled": False,
    "TranslateEnabled": False,
    "AutofillAddressEnabled": False,
    "AutofillCreditCardEnabled": False,
    "IncognitoModeAvailability": 2,  # only incognito: nothing persists between launches
    "AllowFileSelectionDialogs": False,
    "BookmarkBarEnabled": False,
    "SpellcheckEnabled": False,
    "SearchSuggestEnabled": False,
    # Chromium's URL filter format has no port wildcard: "http://localhost:*" is an
    # invalid entry, ignored, and then "*" blocks the station page itself. A host with
    # no port matches every port.
    "URLAllowlist": ["http://localhost", "http://127.0.0.1"],
    "URLBlocklist": ["*"],
}


def find_browser(given: str | None = None) -> str:
    if given:
        return given
    for b in BROWSERS:
        if Path(b).exists():
            return b
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise ShowfloorError("no Chromium found; install it with 'apt-get install chromium' or "
                         "give --browser PATH")


def command(url: str, *, browser: str | None = None, zoom: float = 1.0,
            window: tuple[int, int] | None = None, position: tuple[int, int] = (0, 0),
            user_data: str | None = None) -> list[str]:
    """The full command line for one kiosk window."""
    args = [find_browser(browser), *KIOSK_FLAGS,
            f"--force-device-scale-factor={zoom:g}",
            f"--window-position={position[0]},{position[1]}"]
    if window:
        args.append(f"--window-size={window[0]},{window[1]}")
    args.append(f"--user-data-dir={user_data or '$SHOWFLOOR_KIOSK_PROFILE'}")
    args.append(url)
    return args


def launch(args: list[str]) -> int:
    """Run the kiosk browser in a fresh, throw-away profile; return its exit status."""
    with tempfile.TemporaryDirectory(prefix="showfloor-kiosk-") as profile:
        args = [a.replace("$SHOWFLOOR_KIOSK_PROFILE", profile) for a in args]
        try:
            return subprocess.call(args, env={**os.environ})
        except OSError as err:
            raise ShowfloorError(f"cannot start {args[0]}: {err.strerror}") from err


def policy_json() -> str:
    return json.dumps(POLICY, indent=2)
