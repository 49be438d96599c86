"""The web page of ``factcheck serve``, driven in a real headless Chromium (issue 13).

Playwright drives the system's Chromium (Debian's ``chromium``: browsers cannot be downloaded
here): ``$FACTCHECK_CHROMIUM``, else the first of :data:`BROWSERS` on ``PATH``. Without
playwright, or without a browser that starts, every test here is skipped with the reason,
never failed. ``scripts/test.sh`` installs both where it can.

Two servers on 127.0.0.1: the bundled demo sample with the real default model (the answers a
person gets from ``factcheck serve --demo``), and a small index with the test HashEmbedder where
only the plumbing matters (escaping, errors, uploads). Every page checks that it made no request
outside its server, logged no error (a Content-Security-Policy violation is one) and opened no
dialog. Page load and answer times measured in the browser are printed (``pytest -s``).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from factcheck import FactChecker, Verdict, VerifiedItem
from factcheck.server import APIServer, ServeOptions, make_server
from tests.fakes import HashEmbedder

pytestmark = pytest.mark.slow  # a browser start is over a second; each test is a few seconds

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WAIT_MS = 10_000  # the longest any one step may take before the test fails
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # a signature is all the faked OCR engine looks at
OCR_TEXT = "Kominfo bagi kuota internet gratis 100 GB"
XSS = "<img src=x onerror=alert(1)>"

TIMINGS: dict[str, list[float]] = {}


def _timing(name: str, ms: float) -> None:
    TIMINGS.setdefault(name, []).append(ms)
    print(f"[web timing] {name}: {ms:.0f} ms")


# -- the browser -------------------------------------------------------------------------------


def _executable() -> str | None:
    chosen = os.environ.get("FACTCHECK_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).exists() else None
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    executable = _executable()
    if executable is None:
        pytest.skip("no Chromium found: apt-get install chromium, or set FACTCHECK_CHROMIUM")
    try:
        playwright = sync_playwright().start()
    except Exception as exc:  # noqa: BLE001 - whatever stops the driver, the tests skip
        pytest.skip(f"playwright cannot start: {str(exc).splitlines()[0][:200]}")
    try:
        launched = playwright.chromium.launch(executable_path=executable, timeout=30_000)
    except PlaywrightError as exc:
        playwright.stop()
        pytest.skip(f"Chromium ({executable}) cannot be started: "
                    f"{str(exc).splitlines()[0][:200]}")
    yield launched
    launched.close()
    playwright.stop()


@dataclass
class Watched:
    """A page and what it did that it must not: requests elsewhere, errors, dialogs."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def check_clean(self) -> None:
        outside = [u for u in self.requests
                   if not u.startswith((self.base, "blob:", "data:"))]
        assert outside == [], f"the page reached outside its server: {outside}"
        assert self.errors == [], f"the page logged errors: {self.errors}"
        assert self.dialogs == [], f"a dialog opened (script injection?): {self.dialogs}"


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Watched]]:
    contexts: list[Any] = []
    pages: list[Watched] = []

    def opener(base: str, path: str = "/", *, clipboard: bool = True, init_script: str = "",
               **options: Any) -> Watched:
        context = browser.new_context(**options)
        contexts.append(context)
        if clipboard:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        watched = Watched(page, base)
        page.on("request", lambda r: watched.requests.append(r.url))
        page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watched.errors.append(str(e)))

        def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        started = time.monotonic()
        page.goto(base + path, wait_until="load")
        _timing("page load (wall, goto to load event)", (time.monotonic() - started) * 1000)
        page.wait_for_function("() => document.body.classList.contains('ready')")
        pages.append(watched)
        return watched

    yield opener
    try:
        for watched in pages:
            watched.check_clean()
    finally:
        for context in contexts:
            context.close()


# -- the servers ------------------------------------------------------------------------------


def _serve(checker: FactChecker, options: ServeOptions) -> APIServer:
    server = make_server(checker, "127.0.0.1", 0, options)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bundled demo sample and the real default model, as ``factcheck serve --demo``."""
    from factcheck.demo import open_demo

    home = tmp_path_factory.mktemp("web-demo")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HF_HUB_OFFLINE", "1")
        env.setenv("XDG_CACHE_HOME", str(home / "cache"))
        env.delenv("FACTCHECK_UI_LANG", raising=False)
        checker = open_demo(cache_dir=home / "demo")
        started = time.monotonic()
        checker.answer("vaksin")  # load the model now: the tests time answers, not the load
        _timing("model load and first answer (server side)", (time.monotonic() - started) * 1000)
        server = _serve(checker, ServeOptions())
    yield server.url
    server.shutdown()
    server.server_close()
    checker.close()


def _items() -> list[VerifiedItem]:
    return [
        VerifiedItem(
            url="https://turnbackhoax.id/articles/7-salah-bansos-tunai",
            title=f"[SALAH] Bansos tunai {XSS} cair <script>alert(2)</script> hari ini",
            publisher="TurnBackHoax <b>(MAFINDO)</b>",
            claim=f"Bansos tunai Rp600 ribu cair hari ini {XSS} lewat tautan pendaftaran",
            verdict_raw="<i>SALAH</i>", verdict=Verdict.FALSE, published="2024-02-10",
            language="id", text=f"Pesan berantai bansos {XSS} menyebar di WhatsApp.",
        ),
        VerifiedItem(
            url="https://cekfakta.tempo.co/fakta/2-kuota-kominfo",
            title="Keliru: Kominfo bagi kuota internet gratis 100 GB",
            publisher="Tempo", claim="Kominfo membagikan kuota internet gratis 100 GB",
            verdict_raw="Keliru", verdict=Verdict.FALSE, published="2023-11-20", language="id",
        ),
        VerifiedItem(
            url="https://kompas.com/cekfakta/read/2024/05/01/3-banjir-jakarta",
            title="Video banjir Jakarta adalah rekaman lama", publisher="Kompas",
            claim="Video banjir besar di Jakarta terjadi pekan ini",
            verdict_raw="Konteks keliru", verdict=Verdict.MISLEADING, published="2024-05-01",
            language="id",
        ),
    ]


@pytest.fixture(scope="module")
def hash_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small index with the test embedder: escaping, errors and uploads, not semantics."""
    directory = tmp_path_factory.mktemp("web-hash") / "index"
    checker = FactChecker.open(directory, create=True, embedder=HashEmbedder())
    checker.add_items(_items())
    with pytest.MonkeyPatch.context() as env:
        env.delenv("FACTCHECK_UI_LANG", raising=False)
        server = _serve(checker, ServeOptions(max_query_chars=300, max_image_bytes=64 * 1024,
                                              workers=2))
    yield server.url
    server.shutdown()
    server.server_close()
    checker.close()


@pytest.fixture
def fake_ocr(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The real answer_image with the engine replaced: real byte checks, a fixed text."""
    ocr = pytest.importorskip("factcheck.ocr")
    seen: list[bytes] = []

    def read_text(data: bytes, engine_name: str | None = None) -> str:
        ocr.check_bytes(data)
        seen.append(data)
        return OCR_TEXT

    monkeypatch.setattr(ocr, "read_text", read_text)
    return seen


# -- helpers ----------------------------------------------------------------------------------


def _ask(watched: Watched, claim: str) -> float:
    """Type a claim, press Periksa, wait for the answer; the browser-side answer time in ms."""
    page = watched.page
    page.fill("#text", claim)
    before = page.evaluate("window.factcheckTimings.answers.length")
    page.click("#check")
    page.wait_for_function(f"() => window.factcheckTimings.answers.length > {before}")
    page.wait_for_selector("#result:not([hidden])")
    return float(page.evaluate("window.factcheckTimings.answers.at(-1).ms"))


def _text(watched: Watched, selector: str) -> str:
    return str(watched.page.locator(selector).first.text_content() or "")


# -- the tests --------------------------------------------------------------------------------


def test_page_opens_offline_in_indonesian(open_page: Callable[..., Watched],
                                          demo_url: str) -> None:
    watched = open_page(demo_url)
    page = watched.page
    navigation = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    _timing("page load (browser, navigation start to load event end)",
            navigation["loadEventEnd"] - navigation["startTime"])
    assert page.evaluate("document.documentElement.lang") == "id"
    assert _text(watched, "h1") == "Cek sebelum membagikan"
    assert page.title().startswith("Cek sebelum membagikan")
    # every control has its label; the answer is announced
    assert page.get_by_label("Pesan, klaim, atau tautan").count() == 1
    assert page.get_by_label("Pilih tangkapan layar").count() == 1
    assert page.locator("#status").get_attribute("aria-live") == "polite"
    assert page.locator("#error").get_attribute("role") == "alert"
    assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "false"
    # the page, its script, style and icon, its labels: all from this server
    loaded = {u.removeprefix(demo_url) for u in watched.requests}
    assert {"/", "/static/app.js", "/static/style.css", "/ui.json?lang=id"} <= loaded


def test_a_claim_gets_its_answer_and_a_citation_to_copy(open_page: Callable[..., Watched],
                                                        demo_url: str) -> None:
    watched = open_page(demo_url)
    page = watched.page
    started = time.monotonic()
    ms = _ask(watched, "Vaksin MMR bikin anak jadi autis")
    _timing("answer (wall, click to answer shown)", (time.monotonic() - started) * 1000)
    _timing("answer (browser, request to answer rendered)", ms)
    assert "status-match" in (page.locator("#result").get_attribute("class") or "")
    assert _text(watched, "#headline").startswith("COCOK")
    match = page.locator(".matches .hit").first
    assert match.locator(".verdict").text_content() == "HOAKS (salah)"
    assert "v-false" in (match.locator(".verdict").get_attribute("class") or "")
    title = match.locator("a.title")
    assert title.text_content() == "Vaksin MMR Sebabkan Autisme pada Anak"
    assert (title.get_attribute("href") or "").startswith("https://www.komdigi.go.id/")
    assert title.get_attribute("rel") == "noopener noreferrer"
    assert (match.locator(".meta").text_content() or "").startswith("Komdigi · 4 Mei 2026")
    assert "berbahasa" not in (match.locator(".meta").text_content() or "")  # the reader's own
    assert match.locator(".snippet").count() == 1
    # the fact-check of the claim is kept apart from the other results
    assert page.locator(".others h4").text_content() == \
        "Hasil lain (belum tentu membahas klaim ini):"
    assert page.locator(".others .hit").count() >= 1
    assert "contoh demo" in _text(watched, "#notices")
    citation = _text(watched, "#citation")
    assert citation.startswith("Sudah dicek: Komdigi (4 Mei 2026) menilai klaim ini HOAKS")
    assert "https://www.komdigi.go.id/" in citation
    assert page.evaluate("document.getElementById('status').textContent").startswith("COCOK")

    page.get_by_role("button", name="Salin untuk WhatsApp").click()
    page.wait_for_function("() => document.getElementById('copy-status').textContent !== ''")
    assert _text(watched, "#copy-status").startswith("Tersalin")
    assert page.evaluate("navigator.clipboard.readText()") == citation

    # an English claim on the topic of the demo's only autism check (MMR vaccines), not its
    # claim: related only, said plainly ("MMR vaccine causes autism in children" is that
    # fact-check's own claim, a match)
    started = time.monotonic()
    ms = _ask(watched, "Autism is caused by mobile phones")
    _timing("answer (wall, click to answer shown)", (time.monotonic() - started) * 1000)
    _timing("answer (browser, request to answer rendered)", ms)
    assert _text(watched, "#headline").startswith("MUNGKIN TERKAIT")
    assert page.locator(".matches").count() == 0
    assert page.locator(".others h4").text_content() == "Hasil yang mungkin terkait:"
    assert _text(watched, "#citation").startswith("Belum ada cek fakta yang jelas")
    assert _text(watched, "#copy-status") == ""  # a new answer, not yet copied


def test_no_match_and_the_checking_state(open_page: Callable[..., Watched],
                                         demo_url: str) -> None:
    watched = open_page(demo_url)
    page = watched.page
    held: list[Any] = []
    page.route(re.compile(r"/check\?"), lambda route: held.append(route))
    page.fill("#text", "zzzz qqq")
    page.click("#check")
    page.wait_for_function("() => document.getElementById('status').textContent === 'Memeriksa…'")
    assert page.locator("#result").get_attribute("aria-busy") == "true"
    page.wait_for_function("() => document.body.classList.contains('busy')")
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_selector("#result:not([hidden])")
    assert _text(watched, "#headline").startswith("TIDAK ADA YANG COCOK")
    assert "status-none" in (page.locator("#result").get_attribute("class") or "")
    assert page.locator(".hit").count() == 0  # unrelated items are not shown as an answer
    assert _text(watched, "#citation").startswith("Belum ada sumber tepercaya")
    assert page.locator("#result").get_attribute("aria-busy") == "false"


def test_english_switch(open_page: Callable[..., Watched], demo_url: str) -> None:
    watched = open_page(demo_url)
    page = watched.page
    _ask(watched, "Vaksin MMR bikin anak jadi autis")
    before = page.evaluate("window.factcheckTimings.answers.length")
    page.get_by_role("button", name="English").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    # the answer is asked again, for its sentences in English
    page.wait_for_function(f"() => window.factcheckTimings.answers.length > {before}")
    assert _text(watched, "h1") == "Check before you share"
    assert page.get_by_role("button", name="Check", exact=True).count() == 1
    assert page.get_by_label("Message, claim or link").get_attribute("placeholder") == \
        "Paste the WhatsApp message here…"
    assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"
    assert _text(watched, "#headline").startswith("MATCH")
    assert _text(watched, ".matches .verdict") == "HOAKS (false)"
    assert (_text(watched, ".matches .meta")).startswith("Komdigi · 4 May 2026 · in Indonesian ·")
    assert _text(watched, "#citation").startswith("Checked: Komdigi (4 May 2026) rated")
    assert "demo sample" in _text(watched, "#notices")
    assert page.url.endswith("/?lang=en")
    # remembered in this browser; a link with ?lang= wins
    page.goto(demo_url + "/")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert _text(watched, "h1") == "Check before you share"
    page.goto(demo_url + "/?lang=id")
    page.wait_for_function("() => document.body.classList.contains('ready')")
    assert _text(watched, "h1") == "Cek sebelum membagikan"


def test_error_states(open_page: Callable[..., Watched], hash_url: str) -> None:
    watched = open_page(hash_url)
    page = watched.page
    page.click("#check")  # nothing pasted
    page.wait_for_selector("#error:not([hidden])")
    assert _text(watched, "#error") == "Galat: Tempel pesan atau pilih gambar terlebih dahulu."
    assert page.evaluate("document.activeElement.id") == "text"
    # the server's JSON error message, in the page's language
    page.fill("#text", "kuota " * 60)
    page.click("#check")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('300')")
    assert _text(watched, "#error") == "Galat: klaim lebih panjang dari 300 karakter"
    assert page.locator("#result").is_hidden()
    # the server cannot be reached
    page.route(re.compile(r"/check\?"), lambda route: route.abort())
    page.fill("#text", "kuota gratis")
    page.click("#check")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('Server')")
    assert "Server tidak dapat dihubungi" in _text(watched, "#error")
    page.unroute(re.compile(r"/check\?"))
    # an answer clears the error
    _ask(watched, "Kominfo bagi kuota internet gratis 100 GB")
    assert page.locator("#error").is_hidden()
    watched.errors.clear()  # the aborted request is logged by Chromium as a console error


def test_crawled_markup_is_shown_as_text(open_page: Callable[..., Watched],
                                         hash_url: str) -> None:
    watched = open_page(hash_url)
    page = watched.page
    _ask(watched, "Bansos tunai Rp600 ribu cair hari ini, daftar lewat tautan")
    hit = page.locator(".hit").first
    title = hit.locator(".title").text_content() or ""
    assert XSS in title and "<script>alert(2)</script>" in title
    assert hit.locator(".verdict").text_content() == "<i>SALAH</i> (salah)"
    assert (hit.locator(".meta").text_content() or "").startswith("TurnBackHoax <b>(MAFINDO)</b>")
    assert XSS in (hit.locator(".snippet").text_content() or "")
    assert XSS in _text(watched, "#citation")
    # nothing from the answer became an element
    assert page.locator("#result img:not(#preview-img), #result script, #result b, "
                        "#result i").count() == 0
    page.wait_for_timeout(200)  # an injected onerror would have fired by now
    assert watched.dialogs == []


def test_screenshot_upload(open_page: Callable[..., Watched], hash_url: str,
                           fake_ocr: list[bytes]) -> None:
    watched = open_page(hash_url)
    page = watched.page
    page.set_input_files("#image", files=[{"name": "pesan.png", "mimeType": "image/png",
                                           "buffer": PNG}])
    page.wait_for_selector("#result:not([hidden])")
    assert fake_ocr == [PNG]
    assert _text(watched, "#image-name") == "Gambar: pesan.png"
    assert page.locator("#ocr").is_visible()
    page.click("#ocr summary")
    assert _text(watched, "#ocr-text") == OCR_TEXT
    assert (page.locator("#preview-img").get_attribute("src") or "").startswith("blob:")
    assert "kuota" in _text(watched, ".hit .title").lower()
    assert _text(watched, "#citation")
    assert page.evaluate("window.factcheckTimings.answers.at(-1).kind") == "image"
    # dropped onto the page, as from a file manager
    transfer = page.evaluate_handle(
        """(bytes) => { const t = new DataTransfer();
             t.items.add(new File([new Uint8Array(bytes)], 'drop.png', {type: 'image/png'}));
             return t; }""", list(PNG))
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    page.wait_for_function("() => window.factcheckTimings.answers.length === 2")
    assert _text(watched, "#image-name") == "Gambar: drop.png" and len(fake_ocr) == 2
    # pasted (Ctrl+V) from the clipboard, as a screenshot tool leaves it
    page.evaluate(
        """(bytes) => { const t = new DataTransfer();
             t.items.add(new File([new Uint8Array(bytes)], 'image.png', {type: 'image/png'}));
             document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: t})); }""",
        list(PNG))
    page.wait_for_function("() => window.factcheckTimings.answers.length === 3")
    assert len(fake_ocr) == 3
    # too large for this server: refused in the page, nothing uploaded
    uploads = len(fake_ocr)
    page.set_input_files("#image", files=[{"name": "besar.png", "mimeType": "image/png",
                                           "buffer": PNG + b"\0" * (65 * 1024)}])
    page.wait_for_selector("#error:not([hidden])")
    assert _text(watched, "#error") == "Galat: gambar lebih besar dari 0.0625 MB"
    assert len(fake_ocr) == uploads
    # not an image: the server's 415 words
    page.set_input_files("#image", files=[{"name": "catatan.gif", "mimeType": "image/gif",
                                           "buffer": b"GIF89a" + b"\0" * 16}])
    page.wait_for_function("() => document.getElementById('error').textContent.includes('GIF') || "
                           "document.getElementById('error').textContent.includes('PNG')")
    assert _text(watched, "#error") == "Galat: berkas ini bukan gambar PNG, JPEG atau WebP"
    watched.errors.clear()  # Chromium logs the 415 as a failed resource


def test_screenshot_without_the_ocr_extra(open_page: Callable[..., Watched], hash_url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ocr = pytest.importorskip("factcheck.ocr")
    from factcheck.errors import OCRUnavailable

    def unavailable(data: bytes, engine_name: str | None = None) -> str:
        raise OCRUnavailable("reading text from images needs the OCR extra",
                             key="error.ocr_unavailable", command="pip install 'factcheck[ocr]'")

    monkeypatch.setattr(ocr, "read_text", unavailable)
    watched = open_page(hash_url)
    watched.page.set_input_files("#image", files=[{"name": "a.png", "mimeType": "image/png",
                                                   "buffer": PNG}])
    watched.page.wait_for_selector("#error:not([hidden])")
    assert _text(watched, "#error") == ("Galat: membaca teks dari gambar memerlukan tambahan "
                                        "OCR: jalankan pip install 'factcheck[ocr]'")
    watched.errors.clear()  # Chromium logs the 501 as a failed resource


def test_a_real_screenshot_is_read(open_page: Callable[..., Watched], demo_url: str) -> None:
    """The real OCR engine on an image drawn here, where the [ocr] extra is installed."""
    pytest.importorskip("factcheck.ocr")
    image_module = pytest.importorskip("PIL.Image")
    from PIL import ImageDraw, ImageFont

    from factcheck.errors import OCRUnavailable
    from factcheck.ocr import engine

    try:
        engine()
    except OCRUnavailable as exc:
        pytest.skip(f"no OCR engine here: {exc}")
    import io

    image = image_module.new("RGB", (1000, 200), (220, 248, 198))
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=40)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        font = ImageFont.load_default()
    draw.text((30, 70), "Vaksin MMR bikin anak jadi autis", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    watched = open_page(demo_url)
    watched.page.set_input_files("#image", files=[{"name": "shot.png", "mimeType": "image/png",
                                                   "buffer": buffer.getvalue()}])
    watched.page.wait_for_selector("#result:not([hidden])", timeout=60_000)
    _timing("answer to a real screenshot (browser)",
            float(watched.page.evaluate("window.factcheckTimings.answers.at(-1).ms")))
    assert "autis" in _text(watched, "#ocr-text").lower()
    assert _text(watched, ".matches a.title") == "Vaksin MMR Sebabkan Autisme pada Anak"


def test_keyboard_only(open_page: Callable[..., Watched], hash_url: str) -> None:
    watched = open_page(hash_url)
    page = watched.page
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || "
                                   "document.activeElement.dataset.lang || "
                                   "document.activeElement.tagName"))
    assert order == ["id", "en", "text", "check", "image"], order
    # the picker is a native file input, which browsers open from the keyboard (Space/Enter);
    # waiting for the file-chooser event itself proved flaky under load in headless Chromium
    assert page.evaluate("document.activeElement.type") == "file"
    page.focus("#text")
    page.keyboard.type("Kominfo bagi kuota internet gratis 100 GB")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#result:not([hidden])")
    page.focus("#image")
    for _ in range(10):  # onwards through the answer to the copy button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "copy":
            break
    assert page.evaluate("document.activeElement.id") == "copy"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('copy-status').textContent !== ''")
    assert page.evaluate("navigator.clipboard.readText()") == _text(watched, "#citation")


def test_copy_falls_back_without_the_clipboard_api(open_page: Callable[..., Watched],
                                                  hash_url: str) -> None:
    """Over plain http on a LAN address there is no navigator.clipboard: execCommand copies."""
    spy = """
      Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});
      const original = document.execCommand.bind(document);
      document.execCommand = (command, ...rest) => {
        window.__copied = document.activeElement && document.activeElement.value;
        return original(command, ...rest);
      };
    """
    watched = open_page(hash_url, clipboard=False, init_script=spy)
    page = watched.page
    _ask(watched, "Kominfo bagi kuota internet gratis 100 GB")
    page.click("#copy")
    page.wait_for_function("() => document.getElementById('copy-status').textContent !== ''")
    assert page.evaluate("window.__copied") == _text(watched, "#citation")
    status = _text(watched, "#copy-status")
    if status.startswith("Tidak dapat"):  # the browser refused even that: the text is selected
        assert page.evaluate("window.getSelection().toString()") == _text(watched, "#citation")
    else:
        assert status.startswith("Tersalin")


def test_phone_screen(open_page: Callable[..., Watched], demo_url: str) -> None:
    watched = open_page(demo_url, viewport={"width": 360, "height": 740}, is_mobile=True,
                        has_touch=True, device_scale_factor=2)
    page = watched.page
    _ask(watched, "Selamat pagi\n\nVaksin MMR bikin anak jadi autis.\n\nKominfo bagi kuota "
                  "internet gratis 100 GB, daftar di https://kominfo-go-id.com/kuota\n\n"
                  "Sebarkan!!")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    assert page.locator("article.claim").count() == 2
    assert _text(watched, "article.claim h3") == "Klaim 1 dari 2"
    link = page.locator(".link").first
    assert "link-danger" in (link.get_attribute("class") or "")
    assert "kominfo.go.id" in (link.locator(".link-summary").text_content() or "")
    assert page.locator(".link a").count() == 0  # a suspicious link is shown, never linked
    box = page.locator("#check").bounding_box()
    assert box is not None and box["height"] >= 40 and box["width"] >= 300  # thumb-sized
