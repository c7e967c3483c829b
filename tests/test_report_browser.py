"""The HTML report in a real headless browser (Debian's chromium): the statements' math is laid out
as math, the embedded figure decodes, no request leaves the page, the screenshot is not blank.

``make test`` installs chromium when it is missing and apt is available; where no chromium can
be had this module is skipped, loudly (the reason is printed in the test summary). A section of
the probed page breaks each property on purpose (raw TeX instead of MathML, a fraction outside
MathML, an image from a loopback address), which shows that every check here can fail. One
chromium run serves all three tests (probe, net log and screenshot together).
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
# whether every image decoded -- separately for the report itself and for the section
# id="mutant" that breaks each property on purpose. The result is written into the DOM, which
# --dump-dom prints.
PROBE = """
<script>
window.addEventListener("load", () => {
  const part = (els, bad) => [...els].filter(e => !!e.closest("#mutant") === bad);
  const measure = bad => {
    const maths = part(document.querySelectorAll("math"), bad).map(m => {
      const r = m.getBoundingClientRect();
      return {w: r.width, h: r.height};
    });
    const fracs = part(document.querySelectorAll("mfrac"), bad).map(f => {
      const [num, den] = f.children;
      return num.getBoundingClientRect().bottom <= den.getBoundingClientRect().top + 1;
    });
    const imgs = part(document.images, bad).map(i => ({w: i.naturalWidth, h: i.naturalHeight, ok: i.complete}));
    return {maths, fracs: fracs.length, stacked: fracs.filter(Boolean).length, imgs,
            fallbacks: part(document.querySelectorAll(".tex-fallback"), bad).length};
  };
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({page: measure(false), mutant: measure(true)});
  document.body.appendChild(pre);
});
</script>
"""

# What a broken report would contain: a statement as raw TeX, a fraction outside MathML (what a
# browser without MathML shows: its parts side by side) and an image from a loopback address.
MUTANT = ('<section id="mutant"><div class="statement tex-fallback"><code>\\frac{p}{n-p-1}</code></div>'
          '<p><mfrac><mi>p</mi><mi>n</mi></mfrac></p><img src="http://127.0.0.1:9/outside.png" alt="x"></section>')
OUTSIDE = "http://127.0.0.1:9/outside.png"
WINDOW = (1200, 1600)


def _run(args, tmp, timeout=120):
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


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
def rendered(tmp_path_factory):
    """The report, rendered once in chromium: the page with the probe script and the mutant
    section appended and without its CSP (so any external reference would really be requested);
    returns (probe result, URLs requested, screenshot path)."""
    import html

    tmp = tmp_path_factory.mktemp("browser")
    report, figures = verify_report(tmp_path_factory)
    page = tmp / "claims.html"
    assert main(["report", str(report), "--format", "html", "--out", str(page), "--figures", str(figures)]) == EXIT_OK
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    probe_page = tmp / "probe.html"
    probe_page.write_text(text.replace("</body>", MUTANT + PROBE + "</body>"), encoding="utf-8")
    netlog, shot = tmp / "netlog.json", tmp / "shot.png"
    res = _run([f"--log-net-log={netlog}", "--net-log-capture-mode=Everything", "--virtual-time-budget=5000",
                f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}", "--dump-dom", probe_page.as_uri()], tmp)
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, flags=re.S)
    assert m, "the probe did not run: " + res.stdout[-500:]
    return json.loads(html.unescape(m.group(1))), _requested_urls(netlog), shot


def test_statements_render_as_math_and_the_figure_decodes_without_any_request(rendered):
    probe, urls, _ = rendered
    page = probe["page"]
    maths = page["maths"]
    assert len(maths) == len(CLAIMS) and page["fallbacks"] == 0
    assert all(m["w"] > 20 and m["h"] > 10 for m in maths), maths          # every statement laid out
    assert page["fracs"] >= 4 and page["stacked"] == page["fracs"]         # fractions stacked: MathML rendered
    assert page["imgs"] and all(i["ok"] and i["w"] > 300 and i["h"] > 100 for i in page["imgs"])
    assert _external(urls) == [OUTSIDE], _external(urls)                     # the page itself asked for nothing


def test_the_probe_catches_raw_tex_unrendered_math_and_an_external_image(rendered):
    # the mutant section breaks each property the test above checks: each break is seen
    probe, urls, _ = rendered
    bad = probe["mutant"]
    assert bad["fallbacks"] == 1 and bad["maths"] == []
    assert bad["fracs"] == 1 and bad["stacked"] == 0                         # the side-by-side fraction is seen
    assert len(bad["imgs"]) == 1 and not (bad["imgs"][0]["ok"] and bad["imgs"][0]["w"] > 0)   # undecodable image
    assert OUTSIDE in _external(urls)                                        # the request is seen


def test_screenshot_is_not_blank(rendered):
    from matplotlib import image

    _, _, shot = rendered
    px = image.imread(shot)[..., :3]
    assert px.shape[:2] == (WINDOW[1], WINDOW[0])
    ink = (px.min(axis=2) < 0.6).mean()                        # dark pixels: text, rules, the figure's lines
    assert 0.005 < ink < 0.5, ink
    rgb = (px * 255).astype(np.uint32).reshape(-1, 3)
    colours = np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2])   # one integer per colour (fast 1-D unique)
    assert len(colours) > 50                                   # antialiased text; not a flat page
