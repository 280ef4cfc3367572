"""The kiosk browser: Chromium locked down and pointed at a station surface.

Flags keep visitors in the exhibit (full screen, no swipe or pinch navigation,
no crash bubbles, no first-run pages), let narration play without a gesture, and
stop Chromium from calling home. What flags cannot do (file and print dialogs,
downloads, chrome:// and file:// pages, the Translate bubble, permission
prompts) a managed policy does: ``showfloor kiosk --policy`` prints it and
``--policy --install`` writes it to ``/etc/chromium/policies/managed/``. New
pages, navigations away and closed browsers are the supervisor's (supervisor.py).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from showfloor.errors import ShowfloorError

BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

#: Why each flag is there. Measured by the escape battery (tests/e2e/test_escape.py,
#: headed Chromium 156 under Xvfb): the flags alone do not stop the keys that open a
#: window, a tab, a file or print dialog or close the browser; the policy and the
#: supervisor do (deploy/README.md, "Policy and escape attempts").
KIOSK_FLAGS = (
    "--kiosk",  # full screen, no tab strip, address bar or menus
    "--start-fullscreen",
    "--noerrdialogs",  # no "Chromium didn't shut down correctly" dialog
    "--disable-infobars",
    "--disable-session-crashed-bubble",
    "--hide-crash-restore-bubble",
    "--no-first-run",  # no welcome or sign-in page on a fresh profile
    "--no-default-browser-check",
    # Translate: the flag does nothing in current Chromium and the feature switch does not
    # stop the bubble over a Chinese exhibit either; TranslateEnabled (policy) does.
    "--disable-translate",
    # no swipe back/forward, no cast dialog, no media keys pausing narration
    "--disable-features=Translate,OverscrollHistoryNavigation,"
    "TouchpadOverscrollHistoryNavigation,MediaRouter,HardwareMediaKeyHandling",
    "--overscroll-history-navigation=0",  # an edge swipe does not go back (touch)
    "--disable-pinch",  # a two-finger pinch does not zoom the exhibit (touch)
    # Only headless Chromium honours this; in the kiosk the supervisor closes new pages.
    "--block-new-web-contents",
    # (no --disable-print-preview: it swaps in the system print dialog, which can print
    # to a file anywhere; PrintingEnabled=false in the policy blocks printing outright)
    "--autoplay-policy=no-user-gesture-required",  # narration plays without a tap
    "--disable-background-networking",  # no calls home
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--check-for-update-interval=31536000",
    "--disable-renderer-backgrounding",  # an occluded kiosk keeps animating
    "--disable-backgrounding-occluded-windows",
    "--password-store=basic",  # no keyring prompt without a desktop session
    "--incognito",  # nothing persists between launches
    "--touch-events=enabled",
)

#: Chromium enterprise policy (``showfloor kiosk --policy --install``): what no command-line
#: flag can switch off. Every name is in Chromium's policy list (Chromium 156).
POLICY: dict[str, Any] = {
    # No "DeveloperToolsAvailability": 2 (never): it also refuses the supervisor's own
    # DevTools-protocol session with the page ("Not allowed"), and the supervisor cannot
    # start. --kiosk already refuses the DevTools window; the "DevTools not allowed" notice
    # it would draw for F12, Ctrl+Shift+I/J/C and Ctrl+U never shows, as the station page
    # keeps those keys (renderer/web/app.js; measured by the battery).
    "PrintingEnabled": False,  # Ctrl+P and window.print() open nothing
    "DownloadRestrictions": 3,  # block all downloads
    "PromptForDownloadLocation": False,  # and never a save dialog for one
    "AllowFileSelectionDialogs": False,  # Ctrl+O, Ctrl+S, <input type=file>: no file dialog
    "BrowserSignin": 0,
    "BrowserGuestModeEnabled": False,  # no guest window
    "BrowserAddPersonEnabled": False,  # no new profile window
    "IncognitoModeAvailability": 2,  # only incognito: nothing persists between launches
    "PasswordManagerEnabled": False,
    "AutofillAddressEnabled": False,
    "AutofillCreditCardEnabled": False,
    "TranslateEnabled": False,  # no Translate bubble over a Chinese exhibit at every start
    "SpellcheckEnabled": False,
    "SearchSuggestEnabled": False,
    "DefaultSearchProviderEnabled": False,
    "BookmarkBarEnabled": False,
    "EditBookmarksEnabled": False,  # Ctrl+D: no bookmark bubble
    "AllowDeletingBrowserHistory": False,
    "TaskManagerEndProcessEnabled": False,  # Shift+Esc: the task manager cannot end the page
    "EnableMediaRouter": False,  # no cast dialog
    "BackgroundModeEnabled": False,  # a closed browser exits, so the supervisor restarts it
    "BrowserLabsEnabled": False,
    "AllowDinosaurEasterEgg": False,  # the offline page's game
    "AutoplayAllowed": True,  # narration without a tap (with the flag)
    # Minors at the screen: no camera, microphone or screen capture, and no permission
    # prompt drawn over the exhibit (2 = block without asking).
    "AudioCaptureAllowed": False,
    "VideoCaptureAllowed": False,
    "ScreenCaptureAllowed": False,
    "DefaultPopupsSetting": 2,
    "DefaultNotificationsSetting": 2,
    "DefaultClipboardSetting": 2,
    "DefaultGeolocationSetting": 2,
    "DefaultSensorsSetting": 2,
    "DefaultWebBluetoothGuardSetting": 2,
    "DefaultWebUsbGuardSetting": 2,
    "DefaultSerialGuardSetting": 2,
    "DefaultWebHidGuardSetting": 2,
    "DefaultFileSystemReadGuardSetting": 2,
    "DefaultFileSystemWriteGuardSetting": 2,
    "DefaultLocalFontsSetting": 2,
    "DefaultWindowManagementSetting": 2,
    # Chromium's URL filter format has no port wildcard: "http://localhost:*" is an
    # invalid entry, ignored, and then "*" blocks the station page itself. A host with
    # no port matches every port. Since Chromium 147 "*" alone no longer covers chrome://
    # pages (settings, history, downloads): they are blocked by name, and file:// too.
    "URLAllowlist": ["http://localhost", "http://127.0.0.1"],
    "URLBlocklist": ["*", "chrome://*", "file://*"],
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


def launch(args: list[str], *, surface: str | None = None, headless: bool = False,
           memory_every: float = 30.0) -> int:
    """Run the kiosk browser under the supervisor (``supervisor.py``) until SIGTERM or
    SIGINT: a fresh, throw-away profile each start, crashes and hangs recovered, the
    browser started again when it exits. 0 when stopped."""
    from showfloor.station import supervisor

    try:
        return supervisor.run(supervisor.Options(
            args=list(args), url=args[-1], surface=surface, headless=headless,
            memory_every=memory_every))
    except OSError as err:
        raise ShowfloorError(f"cannot start {args[0]}: {err.strerror}") from err


def policy_json() -> str:
    return json.dumps(POLICY, indent=2)


POLICY_DIR = Path("/etc/chromium/policies/managed")


def install_policy(directory: Path = POLICY_DIR) -> Path:
    """Write the policy as ``showfloor.json`` in ``directory`` (made if missing), mode 0644,
    atomically (a browser starting meanwhile reads the old file or the new one)."""
    target = directory / "showfloor.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".showfloor-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(policy_json() + "\n")
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except PermissionError as err:
        raise ShowfloorError(f"cannot write {target}: permission denied; run it as root "
                             "(sudo showfloor kiosk --policy --install)") from err
    except OSError as err:
        raise ShowfloorError(f"cannot write {target}: {err.strerror}") from err
    return target
