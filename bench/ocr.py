"""OCR engines on rendered screenshots and posters of real hoaxes: character error rate, lookup
success and time per image (issue 13).

    .venv/bin/python bench/ocr.py                         # 90 images, every installed engine
    .venv/bin/python bench/ocr.py --images 120 --engines rapidocr,tesseract
    .venv/bin/python bench/ocr.py --save-images /tmp/ocr  # also write the images to look at
    .venv/bin/python bench/ocr.py --json

Images are rendered here with Pillow from the ``HOAX_TEXT`` narratives of
``../shared/data/turnbackhoax-2024-narasi`` (a sample with a fixed ``--seed``), in six kinds that
cycle: a WhatsApp-like chat screenshot (status bar, group header, a forwarded bubble with the
sender's name, "Diteruskan", emoji, time stamps and ticks, a reply, the input bar) plain and on a
noisy doodle background, a poster (banner, the claim in large centred type, a handle) plain and
noisy, and a photo of either (rotated 2-5 degrees, blurred, grain, JPEG quality 60). Fonts (DejaVu,
Liberation, Noto; Pillow's own when none is installed) and sizes vary per image; emoji come from
Noto Color Emoji when installed, else DejaVu's symbols.

Per engine (``factcheck.ocr`` engines, plus ``rapidocr-onnxruntime`` 1.4 through an adapter here
when it is installed):

* **CER claim**: edit distance between the claim as rendered and the best-matching stretch of the
  text read (``rapidfuzz`` alignment), over the claim's length: how well the claim itself was read;
* **CER all**: the same over every string drawn (chrome included) against the whole text read;
* **found**: the text read, answered by ``FactChecker.answer`` (split automatically, as
  ``answer_image`` does), has the narrative's own fact-check as the first hit of one of its claims,
  in an index of all 3,746 fact-check titles (built once with the bundled model and cached in
  ``bench/.cache/ocr-index``);
* **found | text found**: the same over the images whose claim, typed as text, finds its
  fact-check first; that isolates what the OCR loses from what retrieval misses anyway (issue 13's
  target: >= 90%);
* **s/image**: median wall seconds from the image bytes to the engine's lines (decode, checks,
  OCR), and the CPU seconds it took (this process and the ``tesseract`` child).

The engines' raw lines are cached per image hash in ``bench/.cache/ocr-lines-<engine>.json``, so a
rerun only re-reads new images, the layout code can be changed without re-running OCR, and an
engine installed in another environment (``rapidocr-onnxruntime`` needs ``opencv-python``, which
conflicts with ``rapidocr``'s ``opencv-python-headless``) is measured there and shown here:
run once in each environment.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import CACHE, CachingEmbedder, data_dir, log, second_view_cache, table

from factcheck import FactChecker, FactcheckError, ocr

try:
    from PIL import Image, ImageDraw, ImageFilter, ImageFont
except ImportError:  # pragma: no cover
    sys.exit("bench/ocr.py needs Pillow: pip install 'factcheck[ocr]'")

KINDS = ("chat", "chat-noisy", "poster", "poster-noisy", "photo-chat", "photo-poster")
FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts", "/usr/local/share/fonts")
#: (regular, bold) file names, tried in order; each found pair is one font family to vary over
FAMILIES = [
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    ("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf"),
]
EMOJI = ["\U0001F534", "\u26A0\uFE0F", "\u203C\uFE0F", "\U0001F4E2", "\U0001F64F", "\U0001F631",
         "\U0001F6A8", "\u2757"]
SYMBOLS = ["\u26A0", "\u2605", "\u2757", "\u260E", "\u2714"]  # DejaVu Sans has these
HEADLINES = ["INFO PENTING", "VIRAL", "WASPADA", "BREAKING NEWS", "BERITA TERKINI", "PERHATIAN"]
GROUPS = ["Keluarga Besar Bani Yusuf", "Grup RT 05 RW 02", "Alumni SMAN 3 Angkatan 98",
          "Info Warga Perumahan Griya", "Arisan Ibu-ibu PKK", "Pengajian Al Ikhlas"]
SENDERS = ["Pak Budi", "Bu Sari", "Om Heru", "Mas Andi", "Tante Rina", "+62 812-3456-7890"]
REPLIES = ["Ini bener gak sih?", "Beneran ini pak?", "Hoaks bukan ya?", "Waduh, serius?"]
HANDLES = ["@beritaterkini_id", "@infoviral.indo", "@kabar_nusantara", "@warta_update"]


# -- fonts ---------------------------------------------------------------------------------


def _find(name: str) -> Path | None:
    for base in FONT_DIRS:
        hits = sorted(Path(base).rglob(name)) if Path(base).is_dir() else []
        if hits:
            return hits[0]
    return None


@dataclass
class Fonts:
    families: list[tuple[Path, Path]]
    emoji: Path | None
    _cache: dict[tuple[str, int], Any] = field(default_factory=dict)

    @classmethod
    def discover(cls) -> Fonts:
        families = []
        for regular, bold in FAMILIES:
            r, b = _find(regular), _find(bold)
            if r:
                families.append((r, b or r))
        return cls(families, _find("NotoColorEmoji.ttf"))

    def names(self) -> list[str]:
        return [r.stem for r, _ in self.families] or ["Pillow default"]

    def get(self, family: int, size: int, bold: bool = False) -> Any:
        if not self.families:
            return ImageFont.load_default(size)
        regular, heavy = self.families[family % len(self.families)]
        path = heavy if bold else regular
        key = (str(path), size)
        if key not in self._cache:
            self._cache[key] = ImageFont.truetype(str(path), size)
        return self._cache[key]

    def symbol_font(self, size: int) -> Any:
        path = _find("DejaVuSans.ttf")
        return ImageFont.truetype(str(path), size) if path else None


def wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def emoji_tile(fonts: Fonts, char: str, size: int) -> Image.Image | None:
    """A colour emoji scaled to ``size`` px (Noto Color Emoji is a 109 px bitmap font)."""
    if fonts.emoji is None:
        return None
    try:
        font = ImageFont.truetype(str(fonts.emoji), 109)
    except OSError:
        return None
    tile = Image.new("RGBA", (140, 140), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((4, 4), char, font=font, embedded_color=True)
    box = tile.getbbox()
    if not box:
        return None
    return tile.crop(box).resize((size, size), Image.Resampling.LANCZOS)


def draw_emoji_run(img: Image.Image, fonts: Fonts, x: float, y: float, size: int,
                   chars: list[str]) -> float:
    """Emoji from x; returns the x after them. Falls back to DejaVu symbols, then nothing."""
    draw = ImageDraw.Draw(img)
    for char in chars:
        tile = emoji_tile(fonts, char, size)
        if tile is not None:
            img.paste(tile, (int(x), int(y)), tile)
            x += size + size * 0.15
            continue
        font = fonts.symbol_font(size)
        if font is not None:
            symbol = SYMBOLS[hash(char) % len(SYMBOLS)]
            draw.text((x, y), symbol, font=font, fill=(200, 40, 40))
            x += draw.textlength(symbol, font=font) + size * 0.15
    return x


# -- the images ----------------------------------------------------------------------------


@dataclass
class Rendered:
    image: Image.Image
    claim: str
    drawn: list[str]  # every string drawn, in reading order
    description: str
    fmt: str = "PNG"
    quality: int = 95

    def encode(self) -> bytes:
        out = io.BytesIO()
        if self.fmt == "JPEG":
            self.image.convert("RGB").save(out, "JPEG", quality=self.quality)
        else:
            self.image.save(out, self.fmt)
        return out.getvalue()


def _doodles(img: Image.Image, rng: random.Random, box: tuple[int, int, int, int],
             colour: tuple[int, int, int], count: int) -> None:
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    for _ in range(count):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        r = rng.uniform(6, 22)
        shade = tuple(max(0, min(255, c + rng.randint(-18, 18))) for c in colour)
        kind = rng.random()
        if kind < 0.4:
            draw.ellipse((x - r, y - r, x + r, y + r), outline=shade, width=2)
        elif kind < 0.7:
            draw.line((x, y, x + rng.uniform(-30, 30), y + rng.uniform(-30, 30)), fill=shade,
                      width=2)
        else:
            draw.arc((x - r, y - r, x + r, y + r), rng.uniform(0, 180), rng.uniform(180, 360),
                     fill=shade, width=2)


def _grain(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    noise = Image.effect_noise(img.size, sigma).convert("RGB")
    return Image.blend(img.convert("RGB"), noise, 0.12 if sigma > 30 else 0.06)


def render_chat(claim: str, rng: random.Random, fonts: Fonts, family: int, noisy: bool,
                scale: float, body: int) -> Rendered:
    """A WhatsApp-like group chat: the forwarded claim in a white bubble, a reply in green."""
    s = scale
    width = int(720 * s)
    f_small = fonts.get(family, int(12 * s))
    f_status = fonts.get(family, int(13 * s))
    f_title = fonts.get(family, int(17 * s), bold=True)
    f_sender = fonts.get(family, int(14 * s), bold=True)
    f_body = fonts.get(family, int(body * s))
    group, sender = rng.choice(GROUPS), rng.choice(SENDERS)
    headline = rng.choice(HEADLINES) if rng.random() < 0.5 else None
    reply = rng.choice(REPLIES)
    hour, minute = rng.randint(6, 21), rng.randint(0, 58)
    t_in, t_out = f"{hour:02d}.{minute:02d}", f"{hour:02d}.{minute + 1:02d}"
    scratch = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    bubble_w = int(width * 0.8)
    pad = int(9 * s)
    body_lines = wrap(scratch, claim, f_body, bubble_w - 2 * pad)
    line_h = int(body * s * 1.35)
    top_chrome = int(24 * s) + int(56 * s)
    bubble_h = (pad + int(18 * s) + int(18 * s) + (line_h if headline else 0)
                + line_h * len(body_lines) + int(16 * s) + pad)
    height = max(int(width * 1.6), top_chrome + int(60 * s) + bubble_h + int(140 * s))
    bg = (236, 229, 221)
    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    if noisy:
        _doodles(img, rng, (0, top_chrome, width, height), (214, 206, 196), int(260 * s * s))
    drawn: list[str] = []
    # status bar and header
    draw.rectangle((0, 0, width, int(24 * s)), fill=(5, 77, 68))
    draw.text((int(10 * s), int(4 * s)), t_out, font=f_status, fill="white")
    battery = f"{rng.randint(20, 99)}%"
    draw.text((width - draw.textlength(battery, font=f_status) - 10 * s, int(4 * s)), battery,
              font=f_status, fill="white")
    draw.rectangle((0, int(24 * s), width, top_chrome), fill=(7, 94, 84))
    draw.ellipse((int(34 * s), int(32 * s), int(74 * s), int(72 * s)), fill=(180, 190, 195))
    draw.text((int(86 * s), int(30 * s)), group, font=f_title, fill="white")
    members = f"{sender}, Bu Sari, Anda"
    draw.text((int(86 * s), int(53 * s)), members, font=f_small, fill=(208, 232, 228))
    drawn += [t_out, battery, group, members]
    # date chip
    y = top_chrome + int(14 * s)
    chip = "HARI INI"
    cw = draw.textlength(chip, font=f_small) + 20 * s
    draw.rounded_rectangle(((width - cw) / 2, y, (width + cw) / 2, y + 24 * s), 7 * s,
                           fill=(225, 242, 251))
    draw.text(((width - cw) / 2 + 10 * s, y + 5 * s), chip, font=f_small, fill=(84, 101, 111))
    drawn.append(chip)
    # the forwarded bubble
    x0, y0 = int(10 * s), y + int(40 * s)
    draw.rounded_rectangle((x0, y0, x0 + bubble_w, y0 + bubble_h), int(8 * s), fill="white")
    colour = rng.choice([(229, 66, 163), (31, 122, 236), (215, 81, 28), (53, 180, 120)])
    cy = y0 + pad
    draw.text((x0 + pad, cy), sender, font=f_sender, fill=colour)
    cy += int(20 * s)
    forwarded = "Diteruskan"
    draw.line((x0 + pad, cy + 9 * s, x0 + pad + 10 * s, cy + 9 * s), fill=(134, 150, 160),
              width=max(1, int(2 * s)))
    draw.text((x0 + pad + 14 * s, cy), forwarded, font=f_small, fill=(134, 150, 160))
    cy += int(18 * s)
    drawn += [sender, forwarded]
    if headline:
        size = int(body * s)
        after = draw_emoji_run(img, fonts, x0 + pad, cy + 2 * s, size, rng.sample(EMOJI, 2))
        draw.text((after + 4 * s, cy), headline, font=fonts.get(family, size, bold=True),
                  fill=(17, 27, 33))
        drawn.append(headline)
        cy += line_h
    for line in body_lines:
        draw.text((x0 + pad, cy), line, font=f_body, fill=(17, 27, 33))
        cy += line_h
    drawn.append(claim)
    draw.text((x0 + bubble_w - pad - draw.textlength(t_in, font=f_small), cy), t_in,
              font=f_small, fill=(134, 150, 160))
    drawn.append(t_in)
    # the reply
    ry = y0 + bubble_h + int(12 * s)
    rw = draw.textlength(reply, font=f_body) + draw.textlength(f"  {t_out} ✓✓", font=f_small)
    rx = width - int(10 * s) - rw - 2 * pad
    draw.rounded_rectangle((rx, ry, width - 10 * s, ry + line_h + 2 * pad), int(8 * s),
                           fill=(217, 253, 211))
    draw.text((rx + pad, ry + pad), reply, font=f_body, fill=(17, 27, 33))
    tx = rx + pad + draw.textlength(reply, font=f_body) + 8 * s
    draw.text((tx, ry + pad + 4 * s), t_out, font=f_small, fill=(134, 150, 160))
    ticks = fonts.symbol_font(int(12 * s)) or f_small  # DejaVu has the tick, most fonts do not
    draw.text((tx + draw.textlength(f"{t_out} ", font=f_small), ry + pad + 4 * s), "✓✓",
              font=ticks, fill=(83, 189, 235))
    drawn.append(reply)
    # the input bar
    iy = height - int(56 * s)
    draw.rounded_rectangle((int(8 * s), iy, width - int(62 * s), iy + int(46 * s)), int(23 * s),
                           fill="white")
    draw.text((int(52 * s), iy + int(13 * s)), "Ketik pesan", font=f_status, fill=(134, 150, 160))
    draw.ellipse((width - int(54 * s), iy, width - int(8 * s), iy + int(46 * s)),
                 fill=(0, 168, 132))
    if noisy:
        img = _grain(img, rng, 24)
    return Rendered(img, claim, drawn, f"chat {'noisy ' if noisy else ''}{width}px "
                                       f"{fonts.names()[family % len(fonts.names())]} {body}")


def render_poster(claim: str, rng: random.Random, fonts: Fonts, family: int, noisy: bool,
                  side: int) -> Rendered:
    """A square poster: a banner, the claim in large centred type, a handle at the bottom."""
    palettes = [((200, 30, 30), (255, 255, 255)), ((250, 210, 40), (20, 20, 20)),
                ((20, 40, 90), (255, 255, 255)), ((245, 245, 240), (20, 20, 20)),
                ((0, 110, 80), (255, 255, 255))]
    bg, fg = rng.choice(palettes)
    img = Image.new("RGB", (side, side), bg)
    draw = ImageDraw.Draw(img)
    if noisy:
        for _ in range(40):  # soft blobs of other colours behind the text
            x, y, r = rng.uniform(0, side), rng.uniform(0, side), rng.uniform(side / 20, side / 5)
            shade = tuple(max(0, min(255, c + rng.randint(-60, 60))) for c in bg)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
        img = img.filter(ImageFilter.GaussianBlur(side / 60))
        img = _grain(img, rng, 40)
        draw = ImageDraw.Draw(img)
    banner = rng.choice(HEADLINES)
    f_banner = fonts.get(family, int(side * 0.055), bold=True)
    bw = draw.textlength(banner, font=f_banner)
    by = int(side * 0.06)
    draw.rectangle(((side - bw) / 2 - side * 0.03, by - side * 0.015,
                    (side + bw) / 2 + side * 0.03, by + side * 0.075), fill=(15, 15, 15))
    draw.text(((side - bw) / 2, by), banner, font=f_banner, fill=(255, 220, 0))
    emoji_size = int(side * 0.06)
    draw_emoji_run(img, fonts, side * 0.05, by, emoji_size, rng.sample(EMOJI, 1))
    draw_emoji_run(img, fonts, side * 0.95 - emoji_size, by, emoji_size, rng.sample(EMOJI, 1))
    # the largest size at which the claim fits the middle 80% x 62%
    area_w, area_h = side * 0.84, side * 0.62
    size = int(side * 0.085)
    while True:
        font = fonts.get(family, size, bold=rng.random() < 0.7 if size == int(side * 0.085)
                         else True)
        lines = wrap(draw, claim, font, area_w)
        if len(lines) * size * 1.25 <= area_h or size <= int(side * 0.028):
            break
        size -= 2
    y = side * 0.2 + (area_h - len(lines) * size * 1.25) / 2
    stroke = max(1, size // 14) if noisy else 0
    for line in lines:
        lw = draw.textlength(line, font=font)
        draw.text(((side - lw) / 2, y), line, font=font, fill=fg, stroke_width=stroke,
                  stroke_fill=bg if stroke else None)
        y += size * 1.25
    handle = rng.choice(HANDLES)
    f_handle = fonts.get(family, int(side * 0.032))
    hw = draw.textlength(handle, font=f_handle)
    draw.text(((side - hw) / 2, side * 0.9), handle, font=f_handle, fill=fg)
    return Rendered(img, claim, [banner, claim, handle],
                    f"poster {'noisy ' if noisy else ''}{side}px "
                    f"{fonts.names()[family % len(fonts.names())]} {size}")


def photograph(r: Rendered, rng: random.Random) -> Rendered:
    """A phone photo of the screen or print: rotated, blurred, uneven light, grain, JPEG 60."""
    img = r.image.convert("RGB")
    angle = rng.choice([-1, 1]) * rng.uniform(2, 5)
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                     fillcolor=(52, 50, 48))
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.7, 1.3)))
    import numpy as np

    w, h = img.size
    theta = rng.uniform(0, 2 * math.pi)  # light falls off across the picture in one direction
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (xx / w - 0.5) * math.cos(theta) + (yy / h - 0.5) * math.sin(theta)
    light = 0.82 + 0.3 * ramp[..., None]
    img = Image.fromarray(np.clip(np.asarray(img, dtype=np.float32) * light, 0, 255)
                          .astype(np.uint8))
    img = _grain(img, rng, 30)
    return Rendered(img, r.claim, r.drawn, f"photo({r.description}) {angle:+.1f}deg",
                    fmt="JPEG", quality=60)


def render(kind: str, claim: str, seed: str, fonts: Fonts) -> Rendered:
    rng = random.Random(seed)
    family = rng.randrange(max(1, len(fonts.families)))
    base = kind.replace("photo-", "")
    if base.startswith("chat"):
        scale = rng.choice([1.0, 1.5, 1.5])
        out = render_chat(claim, rng, fonts, family, base.endswith("noisy"), scale,
                          rng.choice([14, 15, 16, 18]))
    else:
        out = render_poster(claim, rng, fonts, family, base.endswith("noisy"),
                            rng.choice([720, 900, 1080]))
    if kind.startswith("photo-"):
        out = photograph(out, rng)
    elif rng.random() < 0.3:  # shared screenshots are often recompressed
        out.fmt, out.quality = "JPEG", 80
    return out


# -- the claims ----------------------------------------------------------------------------


@dataclass
class Claim:
    key: str
    title: str
    text: str


def clean_narrative(text: str) -> str:
    """The narrative as it circulated: the quoting marks and the dataset's trailing
    "PENJELASAN ..." (the fact-checker's own section, glued on by the scrape) removed."""
    text = re.split(r"\s+PENJELASAN\b", text)[0]
    text = " ".join(text.split()).strip()
    text = text.strip("“”\"' ")
    return text


def load_claims(seed: int, count: int) -> tuple[list[Claim], int]:
    base = data_dir("turnbackhoax-2024-narasi")
    rows = []
    for fname in ("politics_hoax_text.csv", "scam_hoax_text.csv", "others_hoax_text.csv"):
        with open(base / fname, encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh))
    usable = []
    for row in rows:
        text = clean_narrative(row["HOAX_TEXT"])
        # a claim a picture carries: a sentence or two, with words (not a link, not a wall)
        if 50 <= len(text) <= 320 and len(re.findall(r"[^\W\d_]{3,}", text)) >= 6 \
                and "http" not in text:
            usable.append(Claim(row["ID"].strip(), row["TITLE"].strip(), text))
    random.Random(seed).shuffle(usable)
    return usable[:count], len(rows)


# -- the index -----------------------------------------------------------------------------


def open_index(embedder: CachingEmbedder) -> FactChecker:
    """All turnbackhoax fact-check titles, built once through the library and kept."""
    from common import load_turnbackhoax

    directory = CACHE / "ocr-index"
    ds = load_turnbackhoax()
    second = second_view_cache(verbose=False)
    if directory.exists():
        checker = FactChecker.open(directory, embedder=embedder, second_view=second)
        if checker.store.count() == len(ds.items):
            return checker
        checker.close()
        import shutil

        shutil.rmtree(directory)
    log(f"building the index of {len(ds.items)} titles in {directory} (once)")
    checker = FactChecker.open(directory, create=True, embedder=embedder, second_view=second)
    checker.add_items(ds.items)
    checker.embed_second_view()
    return checker


def found(checker: FactChecker, text: str, key: str) -> bool:
    try:
        answer = checker.answer(text, limit=5, links=False)
    except FactcheckError:
        return False
    return any(r.hits and r.hits[0].item.url.rsplit("/", 1)[1] == key for r in answer.results)


# -- the engines ---------------------------------------------------------------------------


class LegacyRapid:
    """``rapidocr-onnxruntime`` 1.4 (PP-OCRv4 Chinese models), for comparison only."""

    name = "rapidocr-onnxruntime"

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._engine = RapidOCR()

    def lines(self, image: Image.Image) -> list[ocr.TextLine]:
        import numpy as np

        result, _ = self._engine(np.asarray(image))
        return [ocr.TextLine.from_quad(str(text), box, float(score))
                for box, text, score in result or []]


def load_engine(name: str) -> Any:
    if name == LegacyRapid.name:
        return LegacyRapid()
    return ocr.engine(name)


#: Bumped when what an engine's lines hold changes, so that old caches are not read.
LINES_VERSION = 2


def cache_path(engine: str) -> Path:
    return CACHE / f"ocr-lines-{engine}-v{LINES_VERSION}.json"


def read_cache(engine: str) -> dict[str, Any]:
    path = cache_path(engine)
    return json.loads(path.read_text()) if path.exists() else {}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the tesseract program): on a
    shared machine wall time says as much about the neighbours as about the engine."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_engine(name: str, images: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Raw lines and seconds per image hash, reading only images not cached yet."""
    cached = read_cache(name)
    todo = [(h, data) for h, data in images if h not in cached]
    if not todo:
        return cached
    try:
        engine = load_engine(name)
    except (ImportError, FactcheckError) as exc:
        log(f"{name}: not installed here ({exc}); cached results: {len(cached)}")
        return cached
    log(f"{name}: reading {len(todo)} images")
    for n, (h, data) in enumerate(todo, 1):
        c0, t0 = _cpu(), time.perf_counter()
        lines = engine.lines(ocr.prepare(data))
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        cached[h] = {"seconds": seconds, "cpu": cpu, "lines": [
            [ln.text, ln.left, ln.top, ln.right, ln.bottom, ln.score, ln.slope]
            for ln in lines]}
        if n % 10 == 0:
            log(f"  {n}/{len(todo)}")
            cache_path(name).write_text(json.dumps(cached))
    cache_path(name).write_text(json.dumps(cached))
    return cached


# -- measures ------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split())


def cer_claim(claim: str, read: str) -> float:
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    claim, read = _norm(claim), _norm(read)
    if not read:
        return 1.0
    if len(read) <= len(claim):
        return min(1.0, Levenshtein.distance(claim, read) / len(claim))
    al = fuzz.partial_ratio_alignment(claim, read)
    # widen the aligned stretch a little: partial_ratio aligns a window of the claim's length
    start = max(0, al.dest_start - 10)
    end = min(len(read), al.dest_end + 10)
    best = min(
        Levenshtein.distance(claim, read[a:b])
        for a in range(start, min(start + 21, end))
        for b in range(max(a + 1, end - 20), end + 1)
    ) if end - start < 4 * len(claim) else Levenshtein.distance(claim, read)
    return min(1.0, best / len(claim))


def cer_all(drawn: list[str], read: str) -> float:
    from rapidfuzz.distance import Levenshtein

    truth = _norm(" ".join(drawn))
    return min(1.0, Levenshtein.distance(truth, _norm(read)) / max(1, len(truth)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=90, help="images (claims) to render")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--engines", default="rapidocr,tesseract,rapidocr-onnxruntime")
    ap.add_argument("--save-images", type=Path, help="write the rendered images here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    fonts = Fonts.discover()
    log(f"fonts: {', '.join(fonts.names())}; emoji: {fonts.emoji or 'DejaVu symbols'}")
    claims, total = load_claims(args.seed, args.images)
    rendered = []
    for n, claim in enumerate(claims):
        kind = KINDS[n % len(KINDS)]
        r = render(kind, claim.text, f"{args.seed}:{claim.key}:{kind}", fonts)
        data = r.encode()
        rendered.append((kind, claim, r, data, hashlib.sha256(data).hexdigest()[:20]))
        if args.save_images:
            args.save_images.mkdir(parents=True, exist_ok=True)
            ext = "jpg" if r.fmt == "JPEG" else "png"
            (args.save_images / f"{n:03d}-{kind}-{claim.key}.{ext}").write_bytes(data)
    log(f"rendered {len(rendered)} images from {total} narratives")

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results = {e: run_engine(e, [(h, d) for *_, d, h in rendered]) for e in engines}

    embedder = CachingEmbedder(verbose=False)
    checker = open_index(embedder)
    text_found = {c.key: found(checker, c.text, c.key) for _, c, *_ in rendered}
    rows, per_kind, report = [], [], {"images": len(rendered), "engines": {}}
    for e in engines:
        cached = results[e]
        have = [(k, c, r, h) for k, c, r, _, h in rendered if h in cached]
        if len(have) < len(rendered):
            log(f"{e}: {len(have)}/{len(rendered)} images read (run where it is installed)")
            if not have:
                continue
        outcomes = []
        for kind, claim, r, h in have:
            lines = [ocr.TextLine(*ln) for ln in cached[h]["lines"]]
            text = ocr.text_of(lines)
            ok = found(checker, text, claim.key) if re.search(r"[^\W\d_]{2,}", text) else False
            outcomes.append((kind, claim, ok, cer_claim(claim.text, text),
                             cer_all(r.drawn, text), cached[h]["seconds"], text,
                             cached[h].get("cpu", math.nan)))
        for kind in ("all", *KINDS):
            sel = [o for o in outcomes if kind == "all" or o[0] == kind]
            if not sel:
                continue
            base = [o for o in sel if text_found[o[1].key]]
            row = {
                "engine": e, "kind": kind, "images": len(sel),
                "cer_claim": statistics.mean(o[3] for o in sel),
                "cer_all": statistics.mean(o[4] for o in sel),
                "found": sum(o[2] for o in sel) / len(sel),
                "text_found": sum(text_found[o[1].key] for o in sel) / len(sel),
                "found_given_text": sum(o[2] for o in base) / len(base) if base else math.nan,
                "s_median": statistics.median(o[5] for o in sel),
                "s_mean": statistics.mean(o[5] for o in sel),
                "cpu_median": statistics.median(o[7] for o in sel),
            }
            (rows if kind == "all" else per_kind).append(row)
        report["engines"][e] = {
            "misses": [{"kind": o[0], "key": o[1].key, "claim": o[1].text, "read": o[6],
                        "cer": round(o[3], 3)} for o in outcomes
                       if text_found[o[1].key] and not o[2]],
        }
    checker.close()
    report["rows"], report["per_kind"] = rows, per_kind
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    headers = ["engine", "images", "CER claim", "CER all", "found", "text found",
               "found | text found", "s/image median", "s/image mean", "CPU s/image median"]
    fmt = [[r["engine"], r["images"], r["cer_claim"], r["cer_all"], f"{100 * r['found']:.1f}%",
            f"{100 * r['text_found']:.1f}%", f"{100 * r['found_given_text']:.1f}%",
            r["s_median"], r["s_mean"], r["cpu_median"]] for r in rows]
    print(table(headers, fmt, f"OCR on {len(rendered)} rendered images (seed {args.seed})"))
    print()
    fmt = [[r["engine"], r["kind"], r["images"], r["cer_claim"], f"{100 * r['found']:.1f}%",
            f"{100 * r['found_given_text']:.1f}%", r["s_median"]] for r in per_kind]
    print(table(["engine", "kind", "images", "CER claim", "found", "found | text found",
                 "s/image median"], fmt, "per kind"))
    for e, info in report["engines"].items():
        for miss in info["misses"][:8]:
            print(f"\n{e} missed ({miss['kind']}, CER {miss['cer']}): {miss['claim'][:100]}\n"
                  f"  read: {miss['read'][:300]!r}")


if __name__ == "__main__":
    main()
