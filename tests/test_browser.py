"""The site in a real browser: headless Chromium, driven by Selenium, against a real server.

One server (waitress, in a thread, on a free 127.0.0.1 port, under the URL prefix
/archive/ with nothing served outside it, so any link or asset URL that forgot the
prefix fails) and one browser session serve the whole module; the index is built
once from generated English and Chinese PDFs. Every test also checks that no
request left the server's origin (the browser's network log) and that the console
has no errors (CSP violations included).

Screenshots go to test-artifacts/screenshots/ (listed in index.txt there).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import make_settings, stop_waitress, write_pdf
from indexer.build import update
from indexer.config import PROJECT_ROOT

CHROMIUM = os.environ.get("CHROMIUM_BINARY") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
    pytest.skip(f"browser tests need Debian's chromium and chromedriver ({CHROMIUM}, {CHROMEDRIVER}): "
                "run scripts/install-system-deps.sh as root", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from webapp import create_app  # noqa: E402

PREFIX = "/archive"
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WAIT_S = 15

# --- the collection ---------------------------------------------------------------------------
# Words are placed on known pages: "Chengdu" twice on page 2 and once on page 3 of the English
# memorandum, "区域政策" on pages 2 and 3 of its Chinese version; "cohesion" in seven documents,
# so that three per page make three result pages.

FILLER = "The dialogue continued with an exchange of views between the delegations. " * 3

DOCUMENTS = [
    ("mou-2006",
     {"title": "Memorandum of Understanding on Regional Policy", "title_zh": "区域政策谅解备忘录",
      "date": "2006-05-15", "kind": "memorandum of understanding", "programme": "CETREGIO", "place": "Brussels"},
     {"en": ["Memorandum of Understanding on regional policy cooperation between the European Commission and "
             "the National Development and Reform Commission.\n" + FILLER,
             FILLER + "\nThe parties agree to exchange experience on cohesion policy and on the development of "
             "Chengdu.\n" + FILLER + "\nA second visit to Chengdu is planned for the autumn.",
             "Signed by both delegations. Annex: the Chengdu pilot region.\n" + FILLER],
      "zh": ["谅解备忘录。本文件由欧盟委员会与国家发展和改革委员会签署。",
             "双方同意在区域政策方面交流经验，并加强合作。\n双方将定期举行对话。",
             "附件：区域政策试点地区。"]}),
    ("study-2011",
     {"title": "Comparative study of urbanisation", "title_zh": "城镇化比较研究", "date": "2011-03",
      "kind": "study", "programme": "World Cities"},
     {"en": ["A study of urbanisation in Europe and China and of cohesion between regions. Urban regions grow.",
             FILLER + "\nHousing listings doubled in the decade."],
      "zh": ["欧洲和中国的城镇化研究。", "城市群的协调发展。"]}),
]
# "green transition fund": its words apart, often, on page 1; apart first and then as the phrase on page 2.
_APART = "Green roofs were shown to the visitors. The transition of the old harbour took a decade. A fund was set up."
DOCUMENTS.append((
    "harbour-2005",
    {"title": "Harbour renewal report", "date": "2005-02-01", "kind": "training report", "programme": "World Cities"},
    # "listings" is in study-2011 once; here only other forms of its stem, often.
    {"en": [" ".join([_APART] * 4) + "\nThe harbour list was listed, and each listed quay was put on the list.",
            _APART + "\n" + FILLER * 2 + "\nIn the end the green transition fund paid for the new quays.\n" + FILLER]},
))
for _i, _year in enumerate(range(2012, 2017)):
    DOCUMENTS.append((
        f"seminar-{_year}",
        {"title": f"High-level seminar {_year}", "date": f"{_year}-06-1{_i}", "kind": "high-level seminar",
         "programme": "CETREGIO" if _i % 2 else "World Cities"},
        {"en": [f"Seminar {_year} on territorial cohesion and innovation clusters.", FILLER]},
    ))


def build_archive(root: Path):
    settings = make_settings(root, page_size=3, url_prefix=PREFIX)
    archive = Path(settings.archive_dir)
    lines = []
    for doc_id, meta, files in DOCUMENTS:
        lines += ["[[document]]", f"id = {json.dumps(doc_id)}"]
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items()]
        for lang, pages in files.items():
            name = f"{doc_id}.{lang}.pdf"
            write_pdf(archive / name, pages, title=meta["title"])
            lines += ["[[document.files]]", f"lang = {json.dumps(lang)}", f"file = {json.dumps(name)}", ""]
    (archive / "catalogue.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = update(settings)
    return settings, report


class PrefixOnly:
    """Serve the app under PREFIX only (as behind nginx's location /archive/): anything else is a 404."""

    def __init__(self, app, prefix: str):
        self.app = app
        self.prefix = prefix
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        self.paths.append(path)
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"outside the prefix"]
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The site on a free port of 127.0.0.1, under /archive/; yields its base URL (ending in /archive)."""
    from waitress import create_server

    settings, _ = build_archive(tmp_path_factory.mktemp("browser"))
    app = create_app(settings)
    wrapped = PrefixOnly(app.wsgi_app, PREFIX)
    app.wsgi_app = wrapped
    sockets: dict = {}
    srv = create_server(app, map=sockets, host="127.0.0.1", port=0, threads=6, ident="archive-test")
    thread = threading.Thread(target=srv.run, name="waitress", daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{srv.effective_port}"
    try:
        yield Site(origin, PREFIX, wrapped)
    finally:
        stop_waitress(srv, sockets, thread)


class Site:
    def __init__(self, origin: str, prefix: str, recorder: PrefixOnly):
        self.origin = origin
        self.prefix = prefix
        self.recorder = recorder

    def url(self, path: str = "/") -> str:
        return f"{self.origin}{self.prefix}{path}"


@pytest.fixture(scope="module")
def browser(server):
    """One headless Chromium for the module, with its network and console logs."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="archive-chromium-")
    netlog = Path(profile) / "netlog.json"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                 "--disable-features=Translate,OptimizationHints,MediaRouter",
                 "--window-size=1280,900", "--lang=en-US", f"--user-data-dir={profile}",
                 f"--log-net-log={netlog}",
                 # Belt and braces: no host name resolves except the test server's address.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.get("about:blank")
    driver.netlog = NetLog(netlog)
    try:
        yield driver
    finally:
        driver.quit()
        # The browser has written the rest of its NetLog on quitting: check every request once more.
        driver.netlog.read()
        shutil.rmtree(profile, ignore_errors=True)
    outside = [r["url"] for r in driver.netlog.requests
               if _for_a_page(r) and not _is_local(r["url"], server.origin) and r["url"] != PROBE_URL]
    assert not outside, f"requests (pages or workers) left {server.origin}: {outside}"


@pytest.fixture(autouse=True)
def only_local_requests(browser, server):
    """After each test: every request the browser made went to the server, and the console is clean."""
    _drain_logs(browser)
    yield
    requests, console = _drain_logs(browser)
    outside = [u for u in requests if not _is_local(u, server.origin)]
    assert not outside, f"requests left {server.origin}: {outside}"
    outside = [r["url"] for r in browser.netlog.read() if _for_a_page(r) and not _is_local(r["url"], server.origin)]
    assert not outside, f"requests (pages or workers) left {server.origin}: {outside}"
    errors = [e["message"] for e in console if e["level"] == "SEVERE"]
    assert not errors, errors
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)") or []
    assert all(_is_local(u, server.origin) for u in resources), resources


def _is_local(url: str, origin: str) -> bool:
    """URL is on the server's origin, or is not a network request at all (data:, blob:, the browser's own pages)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https", "ws", "wss", "ftp", "file"):
        return url.startswith(origin + "/")
    return scheme in ("data", "blob", "about", "chrome", "chrome-untrusted", "devtools")


def _for_a_page(request: dict) -> bool:
    """The request was made by a page or one of its workers (it has an initiating origin).

    The others are navigations the test itself makes, and the browser's own background requests
    (start page, account and update checks), which are not the site's doing.
    """
    return request.get("initiator", "not an origin") != "not an origin"


def _drain_logs(driver) -> tuple[list[str], list[dict]]:
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    return requests, driver.get_log("browser")


class NetLog:
    """The URL requests in Chromium's NetLog (--log-net-log): every request of every page, worker and the browser.

    The file is written as it goes, one event per line. The DevTools network log the other
    check reads does not see dedicated workers (pdf.js's worker fetches the CMaps); this does.
    """

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.types: dict[int, str] | None = None
        self.requests: list[dict] = []

    def read(self) -> list[dict]:
        """The requests (url, initiator, network_isolation_key) logged since the last call."""
        if not self.path.exists():
            return []
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        found = []
        for line in data[:end].decode("utf-8", "replace").splitlines():
            line = line.strip().rstrip(",")
            if line.startswith('{"constants"'):
                constants = json.loads(line + "}")["constants"]
                self.types = {v: k for k, v in constants["logEventTypes"].items()}
                continue
            if not line.startswith("{") or self.types is None:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if self.types.get(event.get("type")) == "URL_REQUEST_START_JOB" and "url" in event.get("params", {}):
                found.append(event.get("params", {}))
        self.requests += found
        return found


# The one outside URL a page asks for, on purpose, in the test of the request checks.
PROBE_URL = "http://cdn.example.invalid/probe.png"

# --- helpers ------------------------------------------------------------------------------------


def wait(driver, condition, timeout: float = WAIT_S, message: str = ""):
    """Wait for CONDITION; on a timeout, say what the page showed (the viewer's state, if it has one)."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        try:
            shown = viewer_state(driver) if driver.find_elements(By.CSS_SELECTOR, "#pdf-viewer.is-mounted") else {}
        except Exception as exc:  # noqa: BLE001 - only for the message
            shown = {"error": repr(exc)}
        pytest.fail(f"timed out waiting{': ' + message if message else ''} at {driver.current_url}; viewer: {shown}")


def visible(driver, css: str):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), message=css)


def open_page(driver, site: Site, path: str):
    """Load PATH afresh (a URL differing only by its #fragment would otherwise not reload)."""
    url = site.url(path)
    if driver.current_url.split("#")[0] == url.split("#")[0]:
        driver.get("about:blank")
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def set_interface(driver, site: Site, lang: str) -> None:
    """Set (or clear, with lang="") the interface-language cookie."""
    if not driver.current_url.startswith(site.origin):
        open_page(driver, site, "/help")
    driver.delete_cookie("ui_lang")
    if lang:
        driver.add_cookie({"name": "ui_lang", "value": lang, "path": site.prefix})


def search_from_home(driver, site: Site, query: str) -> None:
    open_page(driver, site, "/")
    box = driver.find_element(By.ID, "q-main")
    box.send_keys(query)
    box.send_keys(Keys.ENTER)
    wait(driver, EC.presence_of_element_located((By.ID, "results-heading")))


def result_ids(driver) -> list[str]:
    return [a.get_attribute("id")[2:] for a in driver.find_elements(By.CSS_SELECTOR, ".result-title a")]


def wait_for_viewer(driver) -> None:
    """Wait until the viewer shows a page with its text layer (and its highlights, if any)."""
    wait(driver, lambda d: d.execute_script(
        "const v = document.getElementById('pdf-viewer');"
        "return v && v.classList.contains('is-mounted') && v.viewer && v.viewer.pageNum > 0"
        " && !v.querySelector('.viewer-stage[aria-busy]') && !!v.querySelector('.textLayer span')"
        # the matches are counted once the page is shown
        " && (!v.querySelector('.viewer-hit-status') || !!v.querySelector('.viewer-hit-status').textContent)"),
        message="the PDF viewer did not render a page")


def viewer_state(driver) -> dict:
    return driver.execute_script("""
        const v = document.getElementById('pdf-viewer');
        const selected = [...v.querySelectorAll('.textLayer .highlight.selected')].map(e => e.textContent).join('');
        return {
            page: v.querySelector('.viewer-page-input').value,
            count: v.querySelector('.viewer-page-count').textContent,
            status: (v.querySelector('.viewer-hit-status') || {}).textContent || '',
            highlights: [...v.querySelectorAll('.textLayer .highlight')].map(e => e.textContent),
            selected: selected,
            message: v.querySelector('.viewer-message').textContent,
        };
    """)


def click(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def screenshot(driver, name: str) -> Path:
    """Save a full-page PNG and list it in index.txt."""
    import base64

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1},
    })
    path.write_bytes(base64.b64decode(shot["data"]))
    index = SCREENSHOTS / "index.txt"
    listed = index.read_text().splitlines() if index.exists() else []
    if str(path) not in listed:
        with index.open("a") as f:
            f.write(f"{path}\n")
    print(f"screenshot: {path}")
    return path


def run_axe(driver) -> list[dict]:
    """Serious and critical accessibility violations on the current page (axe-core, injected)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(30)
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
           .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                   nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))
           .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
    """)
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module", autouse=True)
def fresh_screenshot_index():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "index.txt").write_text("")


# --- search -------------------------------------------------------------------------------------


def test_english_search_shows_pages_with_highlighted_snippets(browser, server):
    set_interface(browser, server, "")
    open_page(browser, server, "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    # The search page stays light: the PDF viewer is loaded by the document page only.
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in loaded if "pdfjs" in u or "viewer" in u], loaded
    screenshot(browser, "search-en")
    search_from_home(browser, server, "Chengdu")
    assert result_ids(browser) == ["mou-2006"]
    links = browser.find_elements(By.CSS_SELECTOR, ".page-hits .page-link")
    pages = [parse_qs(urlsplit(a.get_attribute("href")).query)["page"][0] for a in links]
    assert pages[0] == "2" and sorted(pages) == ["2", "3"]
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".snippet mark")]
    assert marks and all(m == "Chengdu" for m in marks)
    screenshot(browser, "results-en")


def test_chinese_search_finds_the_chinese_pages(browser, server):
    set_interface(browser, server, "")
    search_from_home(browser, server, "区域政策")
    assert "mou-2006" in result_ids(browser)
    zh_links = [a for a in browser.find_elements(By.CSS_SELECTOR, ".page-hits .page-link")
                if parse_qs(urlsplit(a.get_attribute("href")).query).get("lang") == ["zh"]]
    assert sorted(parse_qs(urlsplit(a.get_attribute("href")).query)["page"][0] for a in zh_links) == ["2", "3"]
    marks = {m.text for m in browser.find_elements(By.CSS_SELECTOR, ".snippet[lang='zh-Hans'] mark")}
    assert "区域政策" in marks or {"区域", "政策"} <= marks


def test_a_phrase_is_shown_on_its_page_first_and_marked_whole(browser, server):
    set_interface(browser, server, "")
    search_from_home(browser, server, "green transition fund")
    assert result_ids(browser) == ["harbour-2005"]
    # Page 2 holds the phrase; page 1 holds its words more often, but apart.
    links = browser.find_elements(By.CSS_SELECTOR, ".page-hits .page-link")
    assert [parse_qs(urlsplit(a.get_attribute("href")).query)["page"][0] for a in links] == ["2", "1"]
    first = browser.find_element(By.CSS_SELECTOR, ".snippet")
    assert "green transition fund" in [m.text for m in first.find_elements(By.CSS_SELECTOR, "mark")]
    screenshot(browser, "results-phrase-marked-whole-en")


# --- the viewer ---------------------------------------------------------------------------------


def test_the_word_as_typed_ranks_above_its_other_forms(browser, server):
    """"listings": the document holding the word as typed comes first, above one holding "list" and
    "listed" four times; both are found (the stem still matches), each marked in its own form."""
    set_interface(browser, server, "")
    search_from_home(browser, server, "listings")
    assert result_ids(browser) == ["study-2011", "harbour-2005"]
    first, second = browser.find_elements(By.CSS_SELECTOR, ".result")[:2]
    assert "listings" in [m.text.lower() for m in first.find_elements(By.CSS_SELECTOR, ".snippet mark")]
    assert {"list", "listed"} <= {m.text.lower() for m in second.find_elements(By.CSS_SELECTOR, ".snippet mark")}
    screenshot(browser, "results-exact-form-first-en")


def test_page_hit_opens_the_viewer_at_that_page_with_the_word_highlighted(browser, server):
    set_interface(browser, server, "")
    search_from_home(browser, server, "Chengdu")
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".page-hits .page-link")
                if "page=2" in a.get_attribute("href"))
    click(browser, link)
    wait_for_viewer(browser)
    state = viewer_state(browser)
    assert state["page"] == "2"
    assert state["count"] == "of 3"
    assert state["highlights"] == ["Chengdu", "Chengdu"]          # the two on page 2
    assert state["selected"] == "Chengdu"
    assert state["status"] == "Match 1 of 3"
    # The page opened scrolled to the highlight: on screen, with a size.
    rect = browser.execute_script(
        "return document.querySelector('#pdf-viewer .highlight.selected').getBoundingClientRect().toJSON()")
    assert rect["width"] > 10 and rect["height"] > 5, rect
    assert 0 <= rect["top"] and rect["bottom"] <= browser.execute_script("return innerHeight"), rect
    screenshot(browser, "document-en")

    # Next match: the second one on page 2, then the one on page 3.
    next_hit = browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=next-hit]")
    next_hit.click()
    wait(browser, lambda d: viewer_state(d)["status"] == "Match 2 of 3")
    assert viewer_state(browser)["page"] == "2"
    next_hit.click()
    wait(browser, lambda d: viewer_state(d)["status"] == "Match 3 of 3")
    wait_for_viewer(browser)
    wait(browser, lambda d: viewer_state(d)["selected"])
    state = viewer_state(browser)
    assert state["page"] == "3" and state["highlights"] == ["Chengdu"] and state["selected"] == "Chengdu"
    assert "page=3" in browser.current_url
    # Previous match goes back across the page boundary.
    browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=prev-hit]").click()
    wait(browser, lambda d: viewer_state(d)["status"] == "Match 2 of 3" and viewer_state(d)["page"] == "2")


def test_viewer_pages_can_be_turned_with_the_keyboard(browser, server):
    set_interface(browser, server, "")
    open_page(browser, server, "/documents/mou-2006?q=Chengdu&lang=en&page=2#page-2")
    wait_for_viewer(browser)
    page_input = browser.find_element(By.CSS_SELECTOR, "#pdf-viewer .viewer-page-input")
    # Tab from the "previous page" button reaches the page number box.
    prev_page = browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=prev-page]")
    browser.execute_script("arguments[0].focus()", prev_page)
    prev_page.send_keys(Keys.TAB)
    assert browser.switch_to.active_element == page_input
    page_input.send_keys(Keys.CONTROL, "a")
    page_input.send_keys("1", Keys.ENTER)
    wait(browser, lambda d: viewer_state(d)["page"] == "1" and not d.find_elements(By.CSS_SELECTOR, "[aria-busy]"))
    state = viewer_state(browser)
    assert state["highlights"] == [] and state["status"] == "3 matches"
    assert browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=prev-page]").get_attribute("disabled")
    # An impossible page number is refused and the box shows the current page again.
    page_input.send_keys(Keys.CONTROL, "a")
    page_input.send_keys("99", Keys.ENTER)
    wait(browser, lambda d: viewer_state(d)["page"] == "1")
    # "Next page" with the keyboard (Enter on the focused button).
    next_page = browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=next-page]")
    browser.execute_script("arguments[0].focus()", next_page)
    next_page.send_keys(Keys.ENTER)
    wait(browser, lambda d: viewer_state(d)["page"] == "2")
    wait_for_viewer(browser)
    # "Next match" from a page without a selected match: the first match on or after it.
    browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=next-hit]").send_keys(Keys.ENTER)
    wait(browser, lambda d: viewer_state(d)["status"] == "Match 1 of 3")


def test_viewer_without_a_query_shows_the_first_page_and_zooms(browser, server):
    set_interface(browser, server, "")
    open_page(browser, server, "/documents/study-2011?lang=en")
    wait_for_viewer(browser)
    state = viewer_state(browser)
    assert state["page"] == "1" and state["count"] == "of 2" and state["highlights"] == []
    assert not browser.find_elements(By.CSS_SELECTOR, "#pdf-viewer .viewer-hits")
    width = lambda d: d.execute_script("return document.querySelector('.viewer-page').getBoundingClientRect().width")
    before = width(browser)
    browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=zoom-in]").click()
    wait(browser, lambda d: width(d) > before * 1.2)
    wait_for_viewer(browser)
    # The text layer follows the zoom: the words stay over the canvas.
    assert "urbanisation" in browser.find_element(By.CSS_SELECTOR, "#pdf-viewer .textLayer").get_attribute("textContent")
    browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=zoom-out]").click()
    wait(browser, lambda d: abs(width(d) - before) < 2)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_quoted_word_finds_and_marks_only_that_word(browser, server, lang):
    """Unquoted, "urbanisation" marks every form of its stem (Urban too); quoted, only the word itself,
    in the snippets and in the PDF viewer, whatever the interface language."""
    set_interface(browser, server, lang)
    english_marks = ".snippet:not([lang='zh-Hans']) mark"
    search_from_home(browser, server, "urbanisation")
    assert "urban" in {m.text.lower() for m in browser.find_elements(By.CSS_SELECTOR, english_marks)}
    search_from_home(browser, server, '"urbanisation"')
    assert result_ids(browser)[0] == "study-2011"
    marks = [m.text.lower() for m in browser.find_elements(By.CSS_SELECTOR, english_marks)]
    assert marks and set(marks) == {"urbanisation"}
    screenshot(browser, f"results-quoted-word-{lang}")
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".page-hits .page-link")
                if "/documents/study-2011" in a.get_attribute("href")
                and parse_qs(urlsplit(a.get_attribute("href")).query).get("lang") == ["en"])
    click(browser, link)
    wait_for_viewer(browser)
    state = viewer_state(browser)
    assert state["page"] == "1" and state["highlights"] == ["urbanisation"]     # not "Urban" beside it
    screenshot(browser, f"document-quoted-word-{lang}")
    # A quoted phrase with a stop word is marked whole, its "on" nowhere else.
    search_from_home(browser, server, '"experience on cohesion policy"')
    assert result_ids(browser) == ["mou-2006"]
    assert [m.text for m in browser.find_elements(By.CSS_SELECTOR, english_marks)] == [
        "experience on cohesion policy"]
    screenshot(browser, f"results-quoted-phrase-{lang}")
    set_interface(browser, server, "")


@pytest.mark.parametrize("query", ["区域政策", "區域政策"], ids=["simplified", "traditional"])
def test_chinese_page_hit_opens_the_viewer_with_the_chinese_word_highlighted(browser, server, query):
    set_interface(browser, server, "zh")
    search_from_home(browser, server, query)
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".page-hits .page-link")
                if parse_qs(urlsplit(a.get_attribute("href")).query).get("lang") == ["zh"]
                and "page=2" in a.get_attribute("href"))
    assert link.text.startswith("第 2 页")
    click(browser, link)
    wait_for_viewer(browser)
    state = viewer_state(browser)
    assert state["page"] == "2"
    assert state["count"] == "共 3 页"
    # The text layer's text comes from the STSong-Light CID font through the UniGB-UCS2-H CMap.
    assert "".join(state["highlights"]) == "区域政策"
    assert state["selected"] == "区域政策"
    assert state["status"] == "第 1 处，共 2 处"
    if query == "区域政策":
        screenshot(browser, "document-zh")
    browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=next-hit]").click()
    wait(browser, lambda d: viewer_state(d)["status"] == "第 2 处，共 2 处")
    wait_for_viewer(browser)
    wait(browser, lambda d: viewer_state(d)["selected"])
    assert viewer_state(browser)["page"] == "3"
    assert viewer_state(browser)["selected"] == "区域政策"
    set_interface(browser, server, "")


def test_without_javascript_the_document_page_offers_the_text_and_the_pdf(browser, server):
    set_interface(browser, server, "")
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        open_page(browser, server, "/documents/mou-2006?q=Chengdu&lang=en&page=2#page-2")
        viewer = browser.find_element(By.ID, "pdf-viewer")
        assert "is-mounted" not in viewer.get_attribute("class")
        assert not browser.find_elements(By.CSS_SELECTOR, ".viewer-toolbar")
        link = browser.find_element(By.CSS_SELECTOR, ".viewer-fallback a")
        assert link.is_displayed()
        assert link.get_attribute("href") == server.url("/documents/mou-2006/file/en#page=2")
        marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#page-2 .page-body mark")]
        assert marks == ["Chengdu", "Chengdu"]
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


# --- narrowing and paging -------------------------------------------------------------------------


def test_facets_apply_and_chips_remove_them(browser, server):
    set_interface(browser, server, "")
    search_from_home(browser, server, "cohesion")
    assert "7 documents" in browser.find_element(By.CSS_SELECTOR, ".result-summary").text
    facet = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".facet-link")
                 if "kind=study" in a.get_attribute("href"))
    assert facet.find_element(By.CSS_SELECTOR, ".facet-count").text == "1"
    click(browser, facet)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".chips .chip"))
    assert result_ids(browser) == ["study-2011"]
    assert parse_qs(urlsplit(browser.current_url).query)["kind"] == ["study"]
    chip = browser.find_element(By.CSS_SELECTOR, ".chips .chip:not(.chip-clear)")
    assert "Kind" in chip.text and "study" in chip.text
    # A second facet (year) narrows further; the date range too; each chip removes only its own filter.
    click(browser, next(a for a in browser.find_elements(By.CSS_SELECTOR, ".facet-link")
                        if "year=2011" in a.get_attribute("href")))
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chips .chip:not(.chip-clear)")) == 2)
    click(browser, next(c for c in browser.find_elements(By.CSS_SELECTOR, ".chips .chip:not(.chip-clear)")
                        if "2011" in c.text))
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chips .chip:not(.chip-clear)")) == 1)
    assert parse_qs(urlsplit(browser.current_url).query) == {"q": ["cohesion"], "kind": ["study"]}
    click(browser, browser.find_element(By.CSS_SELECTOR, ".chips .chip:not(.chip-clear)"))
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, ".chips"))
    assert "7 documents" in browser.find_element(By.CSS_SELECTOR, ".result-summary").text


def test_results_can_be_paged_through(browser, server):
    set_interface(browser, server, "")
    search_from_home(browser, server, "cohesion")
    seen = []
    for page in (1, 2, 3):
        current = browser.find_element(By.CSS_SELECTOR, ".pager [aria-current=page]")
        assert current.text == str(page)
        ids = result_ids(browser)
        assert len(ids) == (3 if page < 3 else 1)
        seen += ids
        if page == 1:
            screenshot(browser, "results-paged-en")
        if page < 3:
            click(browser, browser.find_element(By.CSS_SELECTOR, ".pager a[rel=next]"))
            wait(browser, lambda d, p=page: d.find_element(By.CSS_SELECTOR, ".pager [aria-current=page]").text
                 == str(p + 1))
    assert not browser.find_elements(By.CSS_SELECTOR, ".pager a[rel=next]")
    assert len(set(seen)) == 7
    click(browser, browser.find_element(By.CSS_SELECTOR, ".pager a[rel=prev]"))
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".pager [aria-current=page]").text == "2")


# --- suggestions and the interface language ------------------------------------------------------


@pytest.mark.parametrize("typed, expected", [("Chen", "chengdu"), ("区域", "区域政策")])
def test_suggestions_work_with_the_keyboard_alone(browser, server, typed, expected):
    set_interface(browser, server, "")
    open_page(browser, server, "/")
    box = browser.find_element(By.ID, "q-main")
    box.click()
    box.send_keys(typed)
    listbox = visible(browser, "#q-main-listbox")
    wait(browser, lambda d: listbox.find_elements(By.CSS_SELECTOR, "[role=option]"))
    assert box.get_attribute("aria-expanded") == "true"
    options = [o.text for o in listbox.find_elements(By.CSS_SELECTOR, "[role=option]")]
    assert any(o.lower() == expected for o in options), options
    # Down until the expected suggestion is the active one, then Enter searches for it.
    for _ in range(options.index(next(o for o in options if o.lower() == expected)) + 1):
        box.send_keys(Keys.ARROW_DOWN)
    active = box.get_attribute("aria-activedescendant")
    assert browser.find_element(By.ID, active).get_attribute("aria-selected") == "true"
    box.send_keys(Keys.ENTER)
    wait(browser, EC.presence_of_element_located((By.ID, "results-heading")))
    assert parse_qs(urlsplit(browser.current_url).query)["q"][0].lower() == expected
    assert "mou-2006" in result_ids(browser)


def test_interface_language_switch_is_remembered(browser, server):
    set_interface(browser, server, "")
    open_page(browser, server, "/")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=q-main]").text == "Search the documents"
    click(browser, browser.find_element(By.CSS_SELECTOR, ".lang-switch"))
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans")
    assert urlsplit(browser.current_url).path == f"{server.prefix}/"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=q-main]").text == "检索文件"
    browser.refresh()
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    assert browser.find_element(By.CSS_SELECTOR, ".lang-switch").text == "English"
    screenshot(browser, "search-zh")
    # Other pages too, until switched back.
    open_page(browser, server, "/search?q=Chengdu")
    assert browser.find_element(By.ID, "results-heading").text == "“Chengdu”的检索结果"
    click(browser, browser.find_element(By.CSS_SELECTOR, ".lang-switch"))
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert parse_qs(urlsplit(browser.current_url).query)["q"] == ["Chengdu"]
    browser.refresh()
    assert browser.find_element(By.ID, "results-heading").text == "Search results for “Chengdu”"


# --- accessibility, phone screens -----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", ["/", "/search?q=cohesion&kind=study",
                                  "/documents/mou-2006?q=Chengdu&lang=en&page=2#page-2",
                                  "/documents/mou-2006?q=区域政策&lang=zh&page=2#page-2"],
                         ids=["search", "results", "document-en", "document-zh"])
def test_no_serious_accessibility_violations(browser, server, path, lang):
    set_interface(browser, server, lang)
    open_page(browser, server, path)
    if path.startswith("/documents/"):
        wait_for_viewer(browser)
        browser.find_element(By.CSS_SELECTOR, "#pdf-viewer [data-action=next-hit]").click()
        wait(browser, lambda d: viewer_state(d)["status"].startswith(("Match 2", "第 2")))
    violations = run_axe(browser)
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
    set_interface(browser, server, "")


def test_the_accessibility_check_finds_a_violation(browser, server):
    # axe really runs: a button without a name on the search page is reported.
    set_interface(browser, server, "")
    open_page(browser, server, "/")
    browser.execute_script("document.querySelector('main').append(document.createElement('button'))")
    assert [v["id"] for v in run_axe(browser)] == ["button-name"]


def test_document_page_on_a_phone_screen(browser, server):
    set_interface(browser, server, "")
    browser.set_window_size(390, 844)
    try:
        open_page(browser, server, "/documents/mou-2006?q=Chengdu&lang=en&page=2#page-2")
        wait_for_viewer(browser)
        # Nothing wider than the screen: the page fits the viewer, the toolbar wraps.
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert browser.execute_script(
            "const p = document.querySelector('.viewer-page').getBoundingClientRect(); return p.right <= innerWidth")
        assert viewer_state(browser)["selected"] == "Chengdu"
        screenshot(browser, "document-en-phone")
    finally:
        browser.set_window_size(1280, 900)


@pytest.mark.parametrize("lang, filters_label", [("en", "Filters"), ("zh", "筛选")])
def test_on_a_phone_the_filters_control_reaches_the_facets_and_two_kinds_combine(browser, server, lang,
                                                                                 filters_label):
    set_interface(browser, server, lang)
    browser.set_window_size(390, 844)
    try:
        open_page(browser, server, "/search?q=cohesion")
        jump = visible(browser, ".filters-jump")
        assert jump.text == filters_label
        # The facets stand below the results, out of sight, until the control is used.
        assert browser.execute_script("return document.getElementById('facets').getBoundingClientRect().top"
                                      " > innerHeight")
        assert jump.location["y"] < 400
        jump.click()
        wait(browser, lambda d: d.execute_script(
            "const r = document.getElementById('facets').getBoundingClientRect();"
            "return r.top >= -1 && r.top < innerHeight / 2"), message="the facets scrolled into view")
        assert urlsplit(browser.current_url).fragment == "facets"
        screenshot(browser, f"results-filters-phone-{lang}")
        click(browser, next(a for a in browser.find_elements(By.CSS_SELECTOR, ".facet-link")
                            if "kind=study" in a.get_attribute("href")))
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".chips .chip"))
        assert result_ids(browser) == ["study-2011"]
        # The other kinds stay listed, with their counts; picking one adds it to the first.
        seminar = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".facet-link")
                       if "kind=high-level+seminar" in a.get_attribute("href"))
        assert seminar.find_element(By.CSS_SELECTOR, ".facet-count").text == "5"
        click(browser, seminar)
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chips .chip:not(.chip-clear)")) == 2)
        assert parse_qs(urlsplit(browser.current_url).query)["kind"] == ["study", "high-level seminar"]
        assert visible(browser, ".filters-jump").text == f"{filters_label} (2)"
        assert len(result_ids(browser)) == 3          # a page of the six documents (3 per page)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(browser, f"results-two-kinds-phone-{lang}")
    finally:
        browser.set_window_size(1280, 900)
        set_interface(browser, server, "")


def test_on_a_desktop_the_facets_are_beside_the_results_without_the_control(browser, server):
    set_interface(browser, server, "")
    open_page(browser, server, "/search?q=cohesion&kind=study&kind=high-level+seminar")
    assert not browser.find_element(By.CSS_SELECTOR, ".filters-jump").is_displayed()
    assert browser.find_element(By.ID, "facets").is_displayed()
    assert browser.execute_script("return document.getElementById('facets').getBoundingClientRect().top"
                                  " < innerHeight")
    screenshot(browser, "results-two-kinds-en")


def _fetch_text(browser, url: str) -> str:
    """The body of URL as the page's own fetch() gets it (a download link, read without saving a file)."""
    browser.set_script_timeout(WAIT_S)
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text()).then(done, e => done('ERROR ' + e));", url)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_results_page_links_a_feed_of_its_query(browser, server, lang):
    set_interface(browser, server, lang)
    open_page(browser, server, "/search?q=cohesion&kind=high-level+seminar&sort=oldest")
    link = browser.find_element(By.CSS_SELECTOR, ".feed-link a")
    href = link.get_attribute("href")
    assert parse_qs(urlsplit(href).query) == {"q": ["cohesion"], "kind": ["high-level seminar"]}
    head = browser.find_element(By.CSS_SELECTOR, "link[rel=alternate][href*='q=cohesion']")
    assert head.get_attribute("type") == "application/atom+xml"
    feed = browser.execute_script(
        "const doc = new DOMParser().parseFromString(arguments[0], 'application/xml');"
        "return {title: doc.querySelector('feed > title').textContent,"
        "        entries: [...doc.querySelectorAll('entry > link[rel=alternate]')].map(l => l.getAttribute('href'))};",
        _fetch_text(browser, href))
    assert "cohesion" in feed["title"]
    # Newest first: the five seminars, 2016 to 2012.
    assert [u.rsplit("/", 1)[1] for u in feed["entries"]] == [f"seminar-{y}" for y in range(2016, 2011, -1)]
    screenshot(browser, f"results-feed-cite-{lang}")
    set_interface(browser, server, "")


def test_document_page_cites_the_document_and_shows_paragraphs(browser, server):
    set_interface(browser, server, "")
    open_page(browser, server, "/documents/mou-2006?lang=en")
    ris = _fetch_text(browser, browser.find_element(
        By.CSS_SELECTOR, ".cite-links a[type='application/x-research-info-systems']").get_attribute("href"))
    assert ris.startswith("TY  - GOVDOC") and "TI  - Memorandum of Understanding on Regional Policy" in ris
    assert "TT  - 区域政策谅解备忘录" in ris
    bibtex = _fetch_text(browser, browser.find_element(
        By.CSS_SELECTOR, ".cite-links a[type='application/x-bibtex']").get_attribute("href"))
    assert bibtex.startswith("@misc{mou-2006,") and "year = {2006}" in bibtex
    # The first page's opening paragraph, cut into lines in the PDF, is one paragraph on the page.
    paragraphs = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "#page-1 .page-body p")]
    assert paragraphs[0] == DOCUMENTS[0][2]["en"][0].split("\n")[0]
    assert browser.find_element(By.ID, "page-2-heading").is_displayed()
    screenshot(browser, "document-paragraphs-cite-en")


def test_everything_was_served_under_the_prefix(server):
    # PrefixOnly answered 404 to anything outside /archive/: the pages never asked for such a thing.
    outside = [p for p in server.recorder.paths if not p.startswith(PREFIX + "/") and p != PREFIX]
    assert not outside, outside
    assert any(p.startswith(f"{PREFIX}/static/vendor/pdfjs/cmaps/") for p in server.recorder.paths)


def test_the_network_log_sees_the_pdf_worker(browser, server):
    # pdf.js's worker fetches the CMaps: seeing them shows the NetLog check covers workers too.
    cmap = server.url("/static/vendor/pdfjs/cmaps/UniGB-UCS2-H.bcmap")
    deadline = time.monotonic() + 5
    while not any(r["url"] == cmap for r in browser.netlog.requests) and time.monotonic() < deadline:
        time.sleep(0.1)
        browser.netlog.read()
    page_requests = [r for r in browser.netlog.requests if _for_a_page(r)]
    assert any(r["url"] == cmap for r in page_requests), [r["url"] for r in page_requests][-30:]
    # Everything the pages asked for was on the server (the browser's own background requests are
    # not the site's; --host-resolver-rules keeps them from resolving anyway).
    assert all(_is_local(r["url"], server.origin) for r in page_requests)


def test_the_request_checks_notice_a_request_to_another_host(browser, server):
    # The checks would catch a page that sends the browser elsewhere. (The CSP already stops a page's
    # images, scripts and fetches to other hosts before they reach the network; a link it follows is
    # not stopped, so that is what this page does.)
    open_page(browser, server, "/help")
    browser.execute_script("window.location.href = arguments[0]", PROBE_URL)
    deadline = time.monotonic() + 15
    seen_devtools, seen_netlog = [], []
    while not (seen_devtools and seen_netlog) and time.monotonic() < deadline:
        time.sleep(0.2)
        seen_devtools += [u for u in _drain_logs(browser)[0] if not _is_local(u, server.origin)]
        seen_netlog += [r["url"] for r in browser.netlog.read() if _for_a_page(r) and not _is_local(r["url"], server.origin)]
        if not seen_netlog:
            # The NetLog is written in batches of events: make some.
            open_page(browser, server, "/help")
    assert seen_devtools == [PROBE_URL]
    assert seen_netlog == [PROBE_URL]
    open_page(browser, server, "/help")
    _drain_logs(browser)
