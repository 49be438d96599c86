"""Screenshots and posters (issue 13): text read from images the tests render themselves finds
its fact-check first, refused images get one clear line, and no engine means the install command.

The engine tests need the ``[ocr]`` extra and skip with the install command when it is missing;
the byte checks and the layout need nothing but Pillow (or nothing at all).
"""

from __future__ import annotations

import io
import json
import random
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker, InvalidInput, ocr
from factcheck.demo import demo_path
from factcheck.errors import OCRUnavailable
from factcheck.ocr import TextLine

from .conftest import SAMPLE, shared_data

PY_MODEL = "py:tests.fakes:HashEmbedder"
NO_UI_ENV = {"FACTCHECK_UI_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


# -- rendering -------------------------------------------------------------------------------

FONT_FILES = [
    ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf"),
    ("liberation2/LiberationSans-Regular.ttf", "liberation2/LiberationSans-Bold.ttf"),
    ("liberation/LiberationSerif-Regular.ttf", "liberation/LiberationSerif-Bold.ttf"),
    ("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
    ("noto/NotoSans-Regular.ttf", "noto/NotoSans-Bold.ttf"),
]


def _font(family: int, size: int, bold: bool = False) -> Any:
    """One of the Debian fonts that are installed, by turns; Pillow's own font when none is."""
    from PIL import ImageFont

    found = [pair for pair in FONT_FILES
             if Path("/usr/share/fonts/truetype", pair[0]).exists()]
    if not found:
        return ImageFont.load_default(size)
    regular, heavy = found[family % len(found)]
    return ImageFont.truetype(str(Path("/usr/share/fonts/truetype", heavy if bold else regular)),
                              size)


def _wrap(draw: Any, text: str, font: Any, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def chat(claim: str, *, family: int = 0, size: int = 17, noisy: bool = False,
         width: int = 640) -> Any:
    """A WhatsApp-like chat: green header with the group, a forwarded white bubble with the
    sender's name, the claim and a time stamp, a green reply with ticks, the input bar."""
    from PIL import Image, ImageDraw

    font, small = _font(family, size), _font(family, 12)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = _wrap(scratch, claim, font, width * 0.8 - 20)
    line_h = int(size * 1.35)
    height = 150 + len(lines) * line_h + 150
    img = Image.new("RGB", (width, height), (236, 229, 221))
    draw = ImageDraw.Draw(img)
    rng = random.Random(claim)
    if noisy:  # the doodle wallpaper
        for _ in range(width * height // 900):
            x, y, r = rng.uniform(0, width), rng.uniform(70, height), rng.uniform(5, 18)
            draw.ellipse((x - r, y - r, x + r, y + r), outline=(205, 196, 186), width=2)
    draw.rectangle((0, 0, width, 62), fill=(7, 94, 84))
    draw.ellipse((12, 11, 52, 51), fill=(180, 190, 195))
    draw.text((64, 10), "Grup Keluarga Besar", font=_font(family, 17, bold=True), fill="white")
    draw.text((64, 36), "Pak Budi, Bu Sari, Anda", font=small, fill=(208, 232, 228))
    top, bottom = 80, 80 + 48 + len(lines) * line_h + 18
    draw.rounded_rectangle((10, top, width * 0.8 + 10, bottom), 8, fill="white")
    draw.text((20, top + 8), "Pak Budi", font=_font(family, 14, bold=True), fill=(229, 66, 163))
    draw.text((20, top + 28), "Diteruskan", font=small, fill=(134, 150, 160))
    y = top + 48
    for line in lines:
        draw.text((20, y), line, font=font, fill=(17, 27, 33))
        y += line_h
    draw.text((width * 0.8 - 30, y), "07.15", font=small, fill=(134, 150, 160))
    draw.rounded_rectangle((width - 200, bottom + 12, width - 10, bottom + 52), 8,
                           fill=(217, 253, 211))
    draw.text((width - 190, bottom + 22), "Bener gak ini?", font=font, fill=(17, 27, 33))
    draw.rounded_rectangle((8, height - 52, width - 60, height - 8), 22, fill="white")
    draw.text((40, height - 40), "Ketik pesan", font=small, fill=(134, 150, 160))
    return img


def poster(claim: str, *, family: int = 0, noisy: bool = False, side: int = 640) -> Any:
    """A square poster: a banner, the claim in large centred type, a handle."""
    from PIL import Image, ImageDraw, ImageFilter

    bg, fg = [((200, 30, 30), "white"), ((250, 210, 40), "black"),
              ((20, 40, 90), "white")][family % 3]
    img = Image.new("RGB", (side, side), bg)
    draw = ImageDraw.Draw(img)
    if noisy:
        rng = random.Random(claim)
        for _ in range(30):
            x, y, r = rng.uniform(0, side), rng.uniform(0, side), rng.uniform(30, 120)
            shade = tuple(max(0, min(255, c + rng.randint(-50, 50))) for c in bg)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
        img = img.filter(ImageFilter.GaussianBlur(8))
        draw = ImageDraw.Draw(img)
    banner = _font(family, 34, bold=True)
    draw.rectangle((side * 0.25, 30, side * 0.75, 80), fill=(15, 15, 15))
    draw.text((side / 2, 55), "VIRAL", font=banner, fill=(255, 220, 0), anchor="mm")
    size = 48
    while True:
        font = _font(family, size, bold=True)
        lines = _wrap(draw, claim, font, side * 0.84)
        if len(lines) * size * 1.25 <= side * 0.6 or size <= 20:
            break
        size -= 2
    y = side * 0.2 + (side * 0.6 - len(lines) * size * 1.25) / 2
    for line in lines:
        draw.text((side / 2, y), line, font=font, fill=fg, anchor="ma",
                  stroke_width=2 if noisy else 0, stroke_fill=bg)
        y += size * 1.25
    draw.text((side / 2, side * 0.92), "@infoviral.indo", font=_font(family, 20), fill=fg,
              anchor="mm")
    return img


def photo(img: Any, angle: float = 3.0) -> bytes:
    """A phone photo of it: rotated a few degrees, blurred, grain, saved as JPEG quality 60."""
    from PIL import Image, ImageFilter

    shot = img.convert("RGB").rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                                     fillcolor=(50, 48, 46))
    shot = shot.filter(ImageFilter.GaussianBlur(1.0))
    shot = Image.blend(shot, Image.effect_noise(shot.size, 40).convert("RGB"), 0.06)
    return encode(shot, "JPEG", quality=60)


def encode(img: Any, fmt: str = "PNG", **params: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def demo_claims() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in demo_path().read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r for r in rows if r.get("language") == "id" and r.get("claim")]


def demo_images() -> list[tuple[str, str, bytes]]:
    """(url, kind, bytes): Indonesian demo claims as chats, posters and photos, several fonts,
    sizes and formats."""
    claims = demo_claims()[:10]
    out = []
    for n, row in enumerate(claims):
        claim, kind = row["claim"], n % 5
        if kind == 0:
            data = encode(chat(claim, family=n, size=16))
            label = "chat"
        elif kind == 1:
            data = encode(chat(claim, family=n, size=15, noisy=True), "JPEG", quality=80)
            label = "chat-noisy-jpeg"
        elif kind == 2:
            data = encode(poster(claim, family=n), "WEBP", quality=90)
            label = "poster-webp"
        elif kind == 3:
            data = encode(poster(claim, family=n, noisy=True))
            label = "poster-noisy"
        else:
            data = photo(chat(claim, family=n, size=18) if n % 2 else poster(claim, family=n),
                         angle=-3.5 if n % 2 else 4.0)
            label = "photo"
        out.append((row["url"], label, data))
    return out


# -- fixtures --------------------------------------------------------------------------------


def _engine_or_skip() -> None:
    pytest.importorskip("PIL", reason=f"needs Pillow: {ocr.INSTALL_HINT}")
    try:
        ocr.engine()
    except OCRUnavailable as exc:
        pytest.skip(f"no OCR engine installed ({ocr.INSTALL_HINT}): {exc}")


@pytest.fixture(scope="module")
def demo_checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FactChecker]:
    """The demo sample indexed with the real bundled model (as ``check --demo`` answers)."""
    with FactChecker.open(tmp_path_factory.mktemp("ocr-demo") / "idx", create=True) as fc:
        fc.import_file(demo_path(), source="demo")
        yield fc


@pytest.fixture
def py_index(tmp_path: Path) -> Path:
    directory = tmp_path / "idx"
    with FactChecker.open(directory, create=True, model=PY_MODEL) as fc:
        fc.add_items(SAMPLE)
    return directory


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=NO_UI_ENV)


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a core install: neither engine's package can be imported."""
    monkeypatch.setattr(ocr, "_loaded", {})
    for name in ("rapidocr", "pytesseract"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delenv(ocr.ENV_ENGINE, raising=False)


# -- the lookups -----------------------------------------------------------------------------


def _first_hits(answer: Any) -> list[str]:
    return [r.hits[0].item.url for r in answer.results if r.hits]


@pytest.mark.slow
def test_demo_images_find_their_fact_check(demo_checker: FactChecker) -> None:
    _engine_or_skip()
    images = demo_images()
    found, misses = 0, []
    for url, kind, data in images:
        answer = demo_checker.answer_image(data)
        assert answer.ocr_text
        if url in _first_hits(answer):
            found += 1
        else:
            misses.append((kind, answer.ocr_text))
    assert found / len(images) >= 0.9, misses


@pytest.mark.slow
def test_real_hoax_narratives_as_images(tmp_path: Path) -> None:
    """turnbackhoax.id narratives as a chat and a poster, among other fact-check titles."""
    import csv

    _engine_or_skip()
    path = shared_data("turnbackhoax-2024-narasi", "others_hoax_text.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)][:60]
    from factcheck import Verdict, VerifiedItem

    items = [VerifiedItem(url=f"https://turnbackhoax.id/articles/{r['ID']}", title=r["TITLE"],
                          publisher="MAFINDO", verdict_raw="SALAH", verdict=Verdict.FALSE,
                          language="id") for r in rows]
    picked = [r for r in rows if 60 <= len(r["HOAX_TEXT"]) <= 260
              and "http" not in r["HOAX_TEXT"]][:3]
    assert picked
    with FactChecker.open(tmp_path / "idx", create=True) as fc:
        fc.add_items(items)
        hits = 0
        for n, row in enumerate(picked):
            text = " ".join(row["HOAX_TEXT"].split()).strip("“”\" ")
            data = [encode(chat(text, family=n)), encode(poster(text, family=n, noisy=True)),
                    photo(chat(text, family=n, size=18), angle=2.5)][n % 3]
            answer = fc.answer_image(data)
            hits += f"https://turnbackhoax.id/articles/{row['ID']}" in _first_hits(answer)
        assert hits / len(picked) >= 0.9


@pytest.mark.slow
def test_json_answer_records_the_text_read(demo_checker: FactChecker) -> None:
    _engine_or_skip()
    claim = demo_claims()[0]["claim"]
    answer = demo_checker.answer_image(encode(poster(claim)), limit=3, languages=["id"])
    doc = answer.to_dict("id")
    assert doc["ocr_text"] == answer.ocr_text
    assert "vaksin" in doc["ocr_text"].lower() or claim.split()[0].lower() in \
        doc["ocr_text"].lower()
    assert all(len(r.hits) <= 3 for r in answer.results)
    assert "ocr_text" not in demo_checker.answer(claim).to_dict("id")


def test_tesseract_engine_reads_a_poster() -> None:
    """The alternative engine, where it is installed (not by scripts/test.sh: rapidocr is the
    default and the one CI measures)."""
    pytest.importorskip("PIL", reason=f"needs Pillow: {ocr.INSTALL_HINT}")
    pytest.importorskip("pytesseract", reason="the optional engine: pip install "
                        "'factcheck[ocr-tesseract]' and " + ocr.TESSERACT_HINT)
    try:
        ocr.engine("tesseract")
    except OCRUnavailable as exc:
        pytest.skip(f"tesseract is not usable here: {exc}")
    text = ocr.read_text(encode(poster("Bendungan Katulampa jebol, Jakarta banjir besar")),
                         engine_name="tesseract")
    assert "Katulampa" in text and "banjir" in text


def test_a_text_answer_has_no_ocr_text(checker: FactChecker) -> None:
    assert "ocr_text" not in checker.answer("Vaksin COVID-19 mengandung chip").to_dict("en")


# -- refused images --------------------------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height``: a decompression bomb's first bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I",
                                                                        zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("data,key", [
    (b"", "error.image_empty"),
    (b"GIF89a\x01\x00\x01\x00" + b"\x00" * 40, "error.image_type"),
    (b"%PDF-1.7 not an image", "error.image_type"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (ocr.MAX_IMAGE_BYTES + 1), "error.image_too_large"),
])
def test_bytes_refused_before_decoding(data: bytes, key: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ocr.check_bytes(data)
    assert info.value.key == key


def test_types_are_sniffed_not_named() -> None:
    assert ocr.sniff_type(b"\x89PNG\r\n\x1a\n....") == "png"
    assert ocr.sniff_type(b"\xff\xd8\xff\xe0....") == "jpeg"
    assert ocr.sniff_type(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "webp"
    assert ocr.sniff_type(b"RIFF\x10\x00\x00\x00WAVEfmt ") is None


def test_decompression_bomb_refused_from_its_header() -> None:
    pytest.importorskip("PIL")
    for width, height in ((100_000, 100_000), (10_000, 6_000)):  # Pillow's cap, and ours
        with pytest.raises(InvalidInput) as info:
            ocr.load_image(_png_header(width, height))
        assert info.value.key == "error.image_pixels"
    assert info.value.params["width"] == 10_000


def test_damaged_and_mislabelled_images_refused() -> None:
    pytest.importorskip("PIL")
    from PIL import Image

    png = encode(Image.new("RGB", (50, 50), "white"))
    for data in (png[:40], b"\xff\xd8\xff\xe0" + png[4:], _png_header(100, 100)):
        with pytest.raises(InvalidInput) as info:
            ocr.load_image(data)
        assert info.value.key == "error.image_unreadable"


def test_transparent_png_read_on_white() -> None:
    pytest.importorskip("PIL")
    from PIL import Image

    image = ocr.load_image(encode(Image.new("RGBA", (20, 20), (0, 0, 0, 0))))
    assert image.mode == "RGB" and image.getpixel((5, 5)) == (255, 255, 255)


def test_blank_image_has_no_text() -> None:
    _engine_or_skip()
    from PIL import Image

    with pytest.raises(InvalidInput) as info:
        ocr.read_text(encode(Image.new("RGB", (400, 300), (236, 229, 221))))
    assert info.value.key == "error.image_no_text"


def test_no_engine_names_the_install_command(no_engine: None) -> None:
    with pytest.raises(OCRUnavailable) as info:
        ocr.read_text(_png_header(10, 10))
    assert "pip install 'factcheck[ocr]'" in str(info.value)
    assert info.value.key == "error.ocr_unavailable" and info.value.exit_code == 9


def test_unknown_engine_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ocr.ENV_ENGINE, "abbyy")
    with pytest.raises(InvalidInput) as info:
        ocr.engine()
    assert info.value.key == "error.ocr_engine"


def test_bad_option_refused_before_ocr(checker: FactChecker) -> None:
    with pytest.raises(InvalidInput) as info:
        checker.answer_image(b"not read", limit=0)
    assert info.value.key == "error.limit"


# -- layout ----------------------------------------------------------------------------------


def test_wrapped_lines_become_one_paragraph_and_bubbles_stay_apart() -> None:
    lines = [
        TextLine("Grup Keluarga Besar", 60, 10, 300, 32, 0.99),
        TextLine("Vaksin COVID-19 mengandung chip", 20, 100, 400, 120, 0.98),
        TextLine("pelacak 5G dari luar negeri,", 20, 126, 380, 146, 0.97),
        TextLine("bagi-", 20, 152, 70, 172, 0.97),
        TextLine("bagikan ke semua", 20, 178, 220, 198, 0.97),
        TextLine("07.15", 420, 200, 470, 214, 0.99),  # a time stamp: chrome
        TextLine("Bener gak ini?", 450, 240, 620, 260, 0.99),
        TextLine("07.16 ✓✓", 625, 246, 680, 260, 0.9),
        TextLine("@#%", 20, 300, 60, 320, 0.3),  # an icon read as glyphs: low confidence
    ]
    assert ocr.text_of(lines).split("\n") == [
        "Grup Keluarga Besar",
        "Vaksin COVID-19 mengandung chip pelacak 5G dari luar negeri, bagi-bagikan ke semua",
        "Bener gak ini?",
    ]


def test_a_line_cut_in_two_boxes_is_joined_left_to_right() -> None:
    lines = [TextLine("mengandung chip", 130, 10, 330, 30), TextLine("Vaksin", 20, 12, 110, 30)]
    assert ocr.layout(lines) == "Vaksin mengandung chip"


# -- the command line ------------------------------------------------------------------------


def test_cli_errors_are_one_line(runner: CliRunner, py_index: Path, tmp_path: Path) -> None:
    not_image = tmp_path / "notes.png"
    not_image.write_text("just text, named .png")
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * (ocr.MAX_IMAGE_BYTES + 10))
    cases = [
        (["--image", str(tmp_path / "missing.png")], "missing.png"),
        (["--image", str(not_image)], "PNG, JPEG or WebP"),
        (["--image", str(huge)], "10 MB"),
        (["--image", str(tmp_path)], "cannot open"),
    ]
    for args, words in cases:
        result = runner.invoke(cli, ["--index", str(py_index), "--ui-lang", "en", "check", *args])
        assert result.exit_code == 2, (args, result.output)
        assert words in result.stderr and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1


def test_cli_claim_and_image_together_is_a_usage_error(runner: CliRunner, py_index: Path,
                                                       tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--index", str(py_index), "check", "--image", "x.png", "claim"])
    assert result.exit_code == 2 and "not both" in result.stderr


def test_cli_without_engine_says_how_to_install(runner: CliRunner, py_index: Path,
                                                tmp_path: Path, no_engine: None) -> None:
    shot = tmp_path / "shot.png"
    shot.write_bytes(_png_header(10, 10))
    result = runner.invoke(cli, ["--index", str(py_index), "check", "--image", str(shot)])
    assert result.exit_code == 9
    assert "pip install 'factcheck[ocr]'" in result.stderr
    assert result.stderr.startswith("Galat: membaca teks dari gambar")  # Indonesian first


def test_cli_blank_image_says_no_text(runner: CliRunner, py_index: Path, tmp_path: Path) -> None:
    _engine_or_skip()
    from PIL import Image

    shot = tmp_path / "blank.png"
    Image.new("RGB", (300, 200), "white").save(shot)
    result = runner.invoke(cli, ["--index", str(py_index), "--ui-lang", "en", "check",
                                 "--image", str(shot)])
    assert result.exit_code == 2 and "no readable text" in result.stderr


@pytest.mark.slow
def test_cli_image_file_and_stdin(runner: CliRunner, tmp_path: Path) -> None:
    """``check --image`` answers as a text check: text, JSON with ``ocr_text``, --cite."""
    _engine_or_skip()
    row = demo_claims()[1]
    shot = tmp_path / "shot.png"
    chat(row["claim"]).save(shot)
    directory = tmp_path / "demo"
    assert runner.invoke(cli, ["--index", str(directory), "import",
                               str(demo_path())]).exit_code == 0
    base = ["--index", str(directory), "check"]
    as_json = runner.invoke(cli, [*base, "--json", "--image", str(shot)])
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    assert doc["ocr_text"] and row["url"] in json.dumps(doc)
    piped = runner.invoke(cli, [*base, "--cite", "--image", "-"], input=shot.read_bytes())
    assert piped.exit_code == 0 and row["url"] in piped.stdout  # the citation to paste
    text = runner.invoke(cli, [*base, "--image", str(shot)])
    assert text.exit_code == 0 and "Teks yang terbaca dari gambar" in text.stderr
    assert row["url"] in text.stdout
