"""The HTML report in a real headless browser (Debian's chromium): the statements' math is laid out
as math, the embedded figure decodes, no request leaves the page, the screenshot is not blank.

``make test`` installs chromium when it is missing and apt is available; where no chromium can
be had this module is skipped, loudly (the reason is printed in the test summary). A probe page
that breaks each property (raw TeX instead of MathML, an image from a loopback address) shows
that every check here can fail.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from claimcheck.cli import EXIT_OK, main

from report_helpers import CLAIMS, verify_report


def _chromium() -> str | None:
    for name in (os.environ.get("CLAIMCHECK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = _chromium()
if CHROMIUM is None:
    warnings.warn("NO CHROMIUM: the HTML report browser test is SKIPPED (apt-get install chromium, or set "
                  "CLAIMCHECK_CHROMIUM)", stacklevel=1)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="NO CHROMIUM on this machine: the HTML report was NOT "
                                "rendered in a browser (make test installs Debian's chromium where apt is available)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         # nothing the browser itself tries (update checks, time queries) may leave this machine
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

# Measures, after layout, what a reader sees: each <math> element's box, whether its fractions
# are stacked (numerator above denominator: MathML laid out as math, not as inline text), and
# whether every image decoded. The result is written into the DOM, which --dump-dom prints.
PROBE = """
<script>
window.addEventListener("load", () => {
  const maths = [...document.querySelectorAll("math")].map(m => {
    const r = m.getBoundingClientRect();
    return {w: r.width, h: r.height};
  });
  const fracs = [...document.querySelectorAll("mfrac")].map(f => {
    const [num, den] = f.children;
    return num.getBoundingClientRect().bottom <= den.getBoundingClientRect().top + 1;
  });
  const imgs = [...document.images].map(i => ({w: i.naturalWidth, h: i.naturalHeight, ok: i.complete}));
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({maths, fracs: fracs.length, stacked: fracs.filter(Boolean).length, imgs,
                                    fallbacks: document.querySelectorAll(".tex-fallback").length});
  document.body.appendChild(pre);
});
</script>
"""


def _run(args, tmp, timeout=120):
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _probe(page: Path, tmp: Path) -> tuple[dict, list[str]]:
    """Load ``page`` with the probe script (and without the page's own CSP, so that any external
    reference the page had would really be requested); returns the probe and every URL requested."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    probe_page = tmp / f"probe-{page.name}"
    probe_page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    netlog = tmp / f"netlog-{page.stem}.json"
    res = _run([f"--log-net-log={netlog}", "--net-log-capture-mode=Everything", "--virtual-time-budget=5000",
                "--dump-dom", probe_page.as_uri()], tmp)
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, flags=re.S)
    assert m, "the probe did not run: " + res.stdout[-500:]
    import html

    return json.loads(html.unescape(m.group(1))), _requested_urls(netlog)


def _requested_urls(netlog: Path) -> list[str]:
    """URLs the page asked for: the net log's URL_REQUEST_START_JOB events with a page initiator.
    (The browser's own background requests have the initiator "not an origin"; the host-resolver
    rule in FLAGS keeps them on this machine.)"""
    raw = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    try:
        log = json.loads(raw)
    except json.JSONDecodeError:   # a log whose writer was cut short lacks its closing brackets
        log = json.loads(raw.rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted({e["params"]["url"] for e in log["events"] if e["type"] == start and "url" in e.get("params", {})
                   and e["params"].get("initiator") != "not an origin"})


def _external(urls):
    return [u for u in urls if not u.startswith(("file:", "data:", "about:", "chrome:", "devtools:"))]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    report, figures = verify_report(tmp)
    out = tmp / "claims.html"
    assert main(["report", str(report), "--format", "html", "--out", str(out), "--figures", str(figures)]) == EXIT_OK
    return out


def test_statements_render_as_math_and_the_figure_decodes_without_any_request(page, tmp_path):
    probe, urls = _probe(page, tmp_path)
    maths = probe["maths"]
    assert len(maths) == len(CLAIMS) and probe["fallbacks"] == 0
    assert all(m["w"] > 20 and m["h"] > 10 for m in maths), maths          # every statement laid out
    assert probe["fracs"] >= 4 and probe["stacked"] == probe["fracs"]      # fractions stacked: MathML rendered
    assert probe["imgs"] and all(i["ok"] and i["w"] > 300 and i["h"] > 100 for i in probe["imgs"])
    assert _external(urls) == [], _external(urls)                            # the page asked for nothing


def test_the_probe_catches_raw_tex_unrendered_math_and_an_external_image(page, tmp_path):
    # the same page with one statement as raw TeX, a fraction outside MathML (what a browser without
    # MathML shows: its parts side by side) and an image from a loopback address
    bad = tmp_path / "bad.html"
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<div class="statement"><math.*?</math></div>',
                  r'<div class="statement tex-fallback"><code>\\frac{p}{n-p-1}</code></div>', text, count=1, flags=re.S)
    text = text.replace("</body>", '<p><mfrac><mi>p</mi><mi>n</mi></mfrac></p>'
                                   '<img src="http://127.0.0.1:9/outside.png" alt="x"></body>')
    bad.write_text(text, encoding="utf-8")
    probe, urls = _probe(bad, tmp_path)
    assert probe["fallbacks"] == 1 and len(probe["maths"]) == len(CLAIMS) - 1
    assert probe["stacked"] == probe["fracs"] - 1                            # the side-by-side fraction is seen
    assert not all(i["ok"] and i["w"] > 0 for i in probe["imgs"])           # the undecodable image is seen
    assert "http://127.0.0.1:9/outside.png" in _external(urls)              # the request is seen


def test_screenshot_is_not_blank(page, tmp_path):
    from matplotlib import image

    shot = tmp_path / "shot.png"
    res = _run(["--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()], tmp_path)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    px = image.imread(shot)[..., :3]
    assert px.shape[:2] == (1600, 1200)
    ink = (px.min(axis=2) < 0.6).mean()                        # dark pixels: text, rules, the figure's lines
    assert 0.005 < ink < 0.5, ink
    colours = np.unique((px * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50                                   # antialiased text; not a flat page
