"""The HTML report in a real browser (headless Chromium over the DevTools pipe, tests/browser.py).

The page is rendered from the committed Results and the claims registry (with one real figure,
to keep the test to seconds) and loaded at 1280 x 900 CSS pixels.  Checked from the rendered page:
the summary comes first and fills the first screen; every in-page link resolves and a jump to a
claim lands on its content below the sticky header (not a blank screen); the verdict and paper
filters hide and show rows and claims; nothing is wider than the window.  Screenshots of the first
screen and of an anchor jump are kept under runs/report/browser_test/ (path printed).

Where no Chromium is installed, tests/ensure_chromium.sh installs Debian's package (apt-get); the
test never skips.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.claims import PAPERS, registry
from core.result import PACKAGE_ROOT, VERDICTS
from figures import report
from tests.browser import Browser

ARTIFACTS = PACKAGE_ROOT / "runs" / "report" / "browser_test"
WIDTH, HEIGHT = 1280, 900


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    figures = report.render_figures(out / "figures", names=["3.3"])
    assert [f.name for f in figures] == ["3.3"]
    html = out / "index.html"
    html.write_text(report.render_html(registry(), report.load_results(), figures, out))
    with Browser(WIDTH, HEIGHT) as browser:
        browser.open(html.as_uri())
        yield browser, html


def _save(png: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(png)
    print(f"screenshot: {path}")
    return path


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def test_the_summary_is_first_and_fills_the_first_screen(page):
    b, _ = page
    first = b.eval("document.querySelector('main').firstElementChild.id")
    assert first == "summary"
    top = b.eval("document.getElementById('summary').getBoundingClientRect().top")
    assert 0 <= top < 150
    # coverage per paper, the verdict counts and the headline box, in this order
    papers = b.eval("Array.from(document.querySelectorAll('#summary table.coverage tr td:first-child b'))"
                    ".map(e => e.textContent)")
    assert papers == list(PAPERS)
    counts = b.eval("Array.from(document.querySelectorAll('#summary .count .v')).map(e => e.textContent)")
    assert counts == list(VERDICTS)
    headline_ids = b.eval("Array.from(document.querySelectorAll('#summary .headlines li > a'))"
                          ".map(a => a.textContent)")
    assert headline_ids == [cid for ids in report.HEADLINES.values() for cid in ids]
    coverage_top = b.eval("document.querySelector('#summary table.coverage').getBoundingClientRect().top")
    assert coverage_top < HEIGHT / 2
    png = b.screenshot()
    _save(png, "first_screen.png")
    assert _pixels(png).std() > 10                       # text, not a blank page


def test_every_verdict_word_is_coloured(page):
    b, _ = page
    colours = b.eval("Object.fromEntries(['holds','vacuous','fails','inconclusive'].map(w => "
                     "[w, getComputedStyle(document.querySelector('tr[data-verdict=' + w + '] .v')).color]))")
    assert len(set(colours.values())) == 4, colours      # four different colours
    plain = b.eval("Array.from(document.querySelectorAll('tr[data-verdict]:not([data-verdict=none]) td:nth-child(4)'))"
                   ".filter(td => !td.querySelector('.v')).length")
    assert plain == 0


def test_anchors_resolve_and_a_jump_renders_the_claim(page):
    b, html = page
    missing = b.eval("Array.from(document.querySelectorAll('a[href^=\"#\"]'))"
                     ".map(a => decodeURIComponent(a.getAttribute('href').slice(1)))"
                     ".filter(id => !document.getElementById(id))")
    assert missing == []
    n_links = b.eval("document.querySelectorAll('a[href^=\"#\"]').length")
    assert n_links > 100
    claim = "000:figure:3.3"
    b.open(html.as_uri() + "#" + claim)
    header = b.eval("document.querySelector('header').getBoundingClientRect().bottom")
    top = b.eval(f"document.getElementById('{claim}').getBoundingClientRect().top")
    assert b.eval("scrollY") > 1000
    assert header - 1 <= top <= header + 40, (header, top)  # just below the sticky header
    # the content under the header is the claim's: its heading, table and figure
    hit = b.eval(f"(() => {{ const e = document.elementFromPoint({WIDTH // 2}, {int(header) + 150}); "
                 f"return e && e.closest('article') ? e.closest('article').id : null; }})()")
    assert hit == claim
    png = b.screenshot()
    _save(png, "anchor_jump.png")
    assert _pixels(png)[int(header) + 10:].std() > 10   # not blank below the header
    # its figure is shown at full width: at least 90% of its own size (or of the column)
    shown, natural, column = b.eval(
        f"(() => {{ const i = document.getElementById('{claim}').querySelector('img'); "
        "return [i.clientWidth, i.naturalWidth, i.closest('main').clientWidth]; })()")
    assert natural > 0 and shown >= 0.9 * min(natural, column - 40), (shown, natural, column)
    b.open(html.as_uri())


def test_the_filter_hides_and_shows_rows_and_claims(page):
    b, _ = page
    count = "document.querySelectorAll('tr[data-verdict{}]:not([hidden])').length"
    visible_claims = "Array.from(document.querySelectorAll('article.claim')).filter(a => a.offsetParent).length"
    all_rows, holds = b.eval(count.format("")), b.eval(count.format("=holds"))
    claims = b.eval(visible_claims)
    assert holds > 0 and all_rows > holds and claims > 50
    b.eval("document.querySelector('input[name=verdict][value=holds]').click()")
    assert b.eval(count.format("=holds")) == 0
    assert b.eval(count.format("")) == all_rows - holds
    assert b.eval("document.getElementById('shown').textContent") == \
        f"showing {all_rows - holds} of {all_rows} rows"
    # a claim whose every row holds is hidden with its rows
    only_holds = b.eval("Array.from(document.querySelectorAll('article.claim')).filter(a => "
                        "a.dataset.verdicts === 'holds' && a.querySelector('tr[data-verdict]')).length")
    assert only_holds > 0 and b.eval(visible_claims) <= claims - only_holds
    b.eval("document.querySelector('input[name=paper][value=\"000\"]').click()")
    assert b.eval("Array.from(document.querySelectorAll('article.claim[data-paper=\"000\"]'))"
                  ".filter(a => a.offsetParent).length") == 0
    assert b.eval("document.getElementById('paper-000').offsetParent") is None
    assert b.eval("Array.from(document.querySelectorAll('article.claim[data-paper=\"004\"]'))"
                  ".filter(a => a.offsetParent).length") > 0
    b.eval("document.querySelector('input[name=verdict][value=holds]').click()")
    b.eval("document.querySelector('input[name=paper][value=\"000\"]').click()")
    assert b.eval(count.format("")) == all_rows and b.eval(visible_claims) == claims


@pytest.mark.parametrize("width", [WIDTH, 900])
def test_no_horizontal_overflow(page, width):
    b, _ = page
    b.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": HEIGHT,
                                                  "deviceScaleFactor": 1, "mobile": False},
           session=True)
    try:
        scroll, client = b.eval("[document.scrollingElement.scrollWidth, "
                                "document.scrollingElement.clientWidth]")
        assert client == width and scroll <= client, (scroll, client)
        wide = b.eval("Array.from(document.querySelectorAll('main *')).filter(e => "
                      "e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
                      ".slice(0, 5).map(e => e.tagName + '.' + e.className)")
        assert wide == []
    finally:
        b.send("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT,
                                                      "deviceScaleFactor": 1, "mobile": False},
               session=True)


def test_the_page_needs_no_network(page):
    _, html = page
    text = html.read_text()
    assert "<pre" not in text                           # no raw FINDINGS.md dump
    for bad in ("src='http", 'src="http', "href='http", "<link", "@import", "url(http"):
        assert bad not in text, bad


def test_chromium_is_found_or_installed():
    from tests.browser import find_chromium
    assert Path(find_chromium()).exists() or shutil.which(find_chromium())
