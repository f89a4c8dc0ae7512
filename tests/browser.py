"""A headless Chromium for tests, driven over the DevTools protocol with the standard library only.

Chromium is started with ``--remote-debugging-pipe``: it reads protocol messages (JSON, each ended
by a NUL byte) from file descriptor 3 and writes its answers and events to descriptor 4, so no
port, websocket or browser download is needed (playwright downloads its own browsers; selenium
would be one more dependency).  ``find_chromium`` looks for Debian's ``chromium`` (or Chrome) and,
where none is installed and apt-get exists, installs it with ``tests/ensure_chromium.sh``.

    with Browser(width=1280, height=900) as b:
        b.open("file:///.../index.html")
        b.eval("document.title")
        png = b.screenshot()
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENSURE_SCRIPT = Path(__file__).with_name("ensure_chromium.sh")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--mute-audio", "--remote-debugging-pipe")


class BrowserError(RuntimeError):
    pass


def find_chromium(install: bool = True) -> str:
    """The path of a Chromium/Chrome binary; installs Debian's ``chromium`` where none is found and
    ``install`` (runs ``tests/ensure_chromium.sh``: apt-get, as root or with sudo -n).  Raises
    ``BrowserError`` saying what to install when there is none: the browser test never skips."""
    env = os.environ.get("RMT_CHROMIUM")
    if env:
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    if install and ENSURE_SCRIPT.exists():
        done = subprocess.run(["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True)
        if done.returncode == 0:
            return find_chromium(install=False)
        raise BrowserError(f"no Chromium, and {ENSURE_SCRIPT.name} could not install it: "
                           f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    raise BrowserError("no Chromium found: install Debian's chromium package (apt-get install "
                       "chromium) or set RMT_CHROMIUM to a Chrome/Chromium binary")


class Browser:
    """One headless Chromium with one page of ``width`` x ``height`` CSS pixels."""

    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 30.0):
        self.width, self.height, self.timeout = width, height, timeout
        self._id = 0
        self._buffer = b""
        self.events: list[dict] = []

    # -- process and pipe
    def __enter__(self) -> "Browser":
        self._profile = tempfile.TemporaryDirectory(prefix="rmt-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds_3_and_4():                 # in the child: the protocol's descriptors
            # copies above 9 first: a pipe end may itself be 3 or 4 (dup2 onto itself would keep
            # its close-on-exec flag, and one end could overwrite the other)
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            for fd, target in zip(high, (3, 4)):
                os.dup2(fd, target, inheritable=True)

        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [find_chromium(), *FLAGS, f"--user-data-dir={self._profile.name}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            preexec_fn=fds_3_and_4, close_fds=False)
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget",
                                     {"targetId": target, "flatten": True})["sessionId"]
            self.send("Page.enable", session=True)
            self.send("Runtime.enable", session=True)
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": self.width, "height": self.height, "deviceScaleFactor": 1,
                       "mobile": False}, session=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self._write({"id": 10 ** 6, "method": "Browser.close"})
                    self.proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._log.close()
            self._profile.cleanup()

    def _write(self, message: dict) -> None:
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError(f"no answer from Chromium within {self.timeout} s"
                                   + self._tail())
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the pipe" + self._tail())
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def _tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return (": " + " | ".join(lines[-3:])) if lines else ""

    # -- protocol
    def send(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self._write(message)
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def eval(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-serialisable results)."""
        out = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, session=True)
        if "exceptionDetails" in out:
            raise BrowserError(f"{expression[:80]}: {out['exceptionDetails'].get('text')} "
                               f"{out['exceptionDetails'].get('exception', {}).get('description', '')}")
        return out["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait until the document and its images are loaded and laid out."""
        self.send("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.eval("document.readyState") == "complete" and self.eval(
                    "location.href") == url:
                self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                return
            time.sleep(0.05)
        raise BrowserError(f"{url} did not finish loading within {self.timeout} s")

    def screenshot(self) -> bytes:
        """PNG of the viewport as it is now."""
        out = self.send("Page.captureScreenshot", {"format": "png"}, session=True)
        return base64.b64decode(out["data"])
