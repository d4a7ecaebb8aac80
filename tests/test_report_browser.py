"""The HTML report as people read it: a real report in headless Chromium, 1280 px wide.

Chromium is Debian's (``/usr/bin/chromium``, driven through ``/usr/bin/chromedriver`` from
``chromium-driver``) and selenium talks to it; ``make test`` installs both packages when they
are missing.  Without them these tests FAIL when the environment variable ``CI`` is set (a CI
run must not pass by skipping them) and are skipped, saying why, otherwise.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
WIDTH = 1280
ROOT = Path(__file__).resolve().parent.parent
# Adam's family: REFUTED and PROVED verdicts, a for-every counterexample, an induction, literature
# relations, and the widest formulas of the library.
SELECTION = "Optim.Adam.*"


def _missing() -> list[str]:
    missing = [f"{path} (apt-get install {package})" for path, package in
               ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")) if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    return missing


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        message = "headless Chromium is needed to check the HTML report; missing: " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: this check must run there)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WIDTH},900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report people read: where CI has just run ``make prove`` (OPTLAWS_LIBRARY_RUN names its
    output folder), the whole library's; otherwise Adam's family, proved here."""
    done = os.environ.get("OPTLAWS_LIBRARY_RUN")
    if done and (Path(done) / "proofs.html").exists():
        return Path(done).resolve()
    out = tmp_path_factory.mktemp("browser-report")
    run = subprocess.run([sys.executable, "-m", "proofs", "-k", SELECTION, "--out", str(out), "-j", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert (out / "proofs.html").exists(), run.stdout + run.stderr
    return out


@pytest.fixture(scope="module")
def loaded(browser, report):
    """The page, loaded once (the whole library's takes seconds to lay out)."""
    browser.get((report / "proofs.html").as_uri())
    assert browser.execute_script("return window.innerWidth") == WIDTH
    return browser


@pytest.fixture
def page(loaded, report):
    """The loaded page as a reader finds it: every theorem shown (each test that filters puts the
    filters back; if one failed to, this says so rather than letting the next test see less)."""
    assert loaded.execute_script(VISIBLE) == len(_theorems(report)), "a filter was left on"
    loaded.execute_script("window.scrollTo(0, 0)")
    return loaded


@pytest.fixture
def laid_out(page):
    """The page with every theorem laid out, as a reader who scrolled to each sees it: the report lets
    the browser skip the theorems off screen (content-visibility), and a layout check must see them all."""
    page.execute_script("var s = document.createElement('style'); s.id = 'every-theorem';"
                        "s.textContent = 'article.theorem{content-visibility:visible!important}';"
                        "document.head.appendChild(s)")
    yield page
    page.execute_script("document.getElementById('every-theorem').remove()")


VISIBLE = "return [].filter.call(document.querySelectorAll('article.theorem'), e => e.getClientRects().length).length"


def _theorems(report: Path) -> list[dict]:
    return json.loads((report / "proofs.json").read_text())["theorems"]


def test_the_page_never_scrolls_sideways(page):
    width, client = page.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client <= WIDTH


def test_no_theorem_is_wider_than_its_column(laid_out):
    """Laid out whole, the page does not scroll sideways either, and no theorem overflows its own box:
    a theorem's paint is contained (content-visibility), so what overflowed it would be cut off, unseen."""
    width, client = laid_out.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client <= WIDTH
    wide = laid_out.execute_script("""
        return [].filter.call(document.querySelectorAll('article.theorem'),
                              e => e.scrollWidth > e.clientWidth + 1).map(e => [e.id, e.scrollWidth, e.clientWidth]);""")
    assert wide == []


def test_a_link_to_a_theorem_far_down_brings_it_into_view(page, report):
    """Theorems off screen stand in at an estimated height until shown: following a link to the last
    one must still put it at the top of the window, below the sticky controls."""
    from selenium.webdriver.common.by import By

    last = "t-" + _theorems(report)[-1]["name"].replace(".", "-")
    page.find_element(By.CSS_SELECTOR, f'main a[href="#{last}"]').click()
    top, controls, height = page.execute_script(
        f"return [document.getElementById('{last}').getBoundingClientRect().top,"
        " document.querySelector('.controls').getBoundingClientRect().bottom, window.innerHeight]")
    assert controls - 2 <= top < height / 2, (top, controls, height)


def test_every_formula_fits_its_container_or_scrolls_inside_its_own_box(laid_out, report):
    boxes = laid_out.execute_script("""
        return [].map.call(document.querySelectorAll('.formula'), function (box) {
          var math = box.querySelector('math'), r = math.getBoundingClientRect();
          return {width: box.getBoundingClientRect().width, container: box.parentElement.clientWidth,
                  scroll: box.scrollWidth, visible: box.clientWidth, overflow: getComputedStyle(box).overflowX,
                  math: [r.width, r.height]};
        });""")
    sides = sum(len(g["sides"]) for t in _theorems(report) for g in t["goals"])
    assert sides and len(boxes) == sides
    for box in boxes:
        assert box["width"] <= box["container"] + 1, box                    # the box fits its column
        assert box["scroll"] <= box["visible"] + 1 or box["overflow"] in ("auto", "scroll"), box
        assert box["math"][0] > 0 and box["math"][1] > 0, box               # the MathML was laid out
    assert any(b["scroll"] > b["visible"] + 1 for b in boxes), "no wide formula: the scroll case went unchecked"


def test_summary_cells_break_only_between_words_and_the_table_fits(page):
    styles = page.execute_script("""
        return [].map.call(document.querySelectorAll('#summary td, #summary th'), function (c) {
          var s = getComputedStyle(c); return [s.wordBreak, s.overflowWrap, s.hyphens];
        });""")
    assert styles and all(s == ["normal", "normal", "none"] for s in styles), set(map(tuple, styles))
    wide, visible = page.execute_script("var box = document.querySelector('#summary .scroll');"
                                        "return [box.scrollWidth, box.clientWidth]")
    assert wide <= visible + 1   # the whole table is in view at 1280 px, no sideways scrolling


def test_search_hides_the_theorems_that_do_not_match(page, report):
    from selenium.webdriver.common.by import By

    total = len(_theorems(report))
    assert page.execute_script(VISIBLE) == total
    page.find_element(By.ID, "search").send_keys("amsgrad")
    matching = [t for t in _theorems(report) if "amsgrad" in (t["name"] + t["docstring"] + t["statement"]).lower()]
    assert 0 < len(matching) < total
    assert page.execute_script(VISIBLE) == len(matching)
    shown = page.execute_script("return [].filter.call(document.querySelectorAll('article.theorem'), "
                                "e => e.getClientRects().length).map(e => e.id)")
    assert sorted(shown) == sorted("t-" + t["name"].replace(".", "-") for t in matching)
    page.find_element(By.ID, "search").clear()
    page.execute_script("document.getElementById('search').dispatchEvent(new Event('input'))")
    assert page.execute_script(VISIBLE) == total


def test_a_verdict_filter_shows_only_that_verdict(page, report):
    from selenium.webdriver.common.by import By

    theorems = _theorems(report)
    refuted = sum(t["verdict"] == "REFUTED" for t in theorems)
    assert 0 < refuted < len(theorems)
    page.find_element(By.CSS_SELECTOR, "input[name=verdict][value=REFUTED]").click()
    assert page.execute_script(VISIBLE) == refuted
    verdicts = page.execute_script("return [].filter.call(document.querySelectorAll('article.theorem'), "
                                   "e => e.getClientRects().length).map(e => e.dataset.verdict)")
    assert set(verdicts) == {"REFUTED"}
    page.find_element(By.CSS_SELECTOR, "input[name=verdict][value=unexpected]").click()
    assert page.execute_script(VISIBLE) == sum(not t["as_expected"] for t in theorems)
    page.find_element(By.CSS_SELECTOR, "input[name=verdict][value=all]").click()
    assert page.execute_script(VISIBLE) == len(theorems)
