"""Text from a screenshot or a poster, so that an image can be checked like a pasted message.

Most hoaxes reach civil servants as a WhatsApp screenshot or a poster, not as text. This module
turns the image bytes into the text a person would have typed (paragraphs in reading order, the
chat's chrome left out) and nothing more: :meth:`factcheck.api.FactChecker.answer_image` then
answers it exactly as a pasted message.

**Engine.** ``rapidocr`` (RapidOCR 3, PP-OCRv6 "small" detection and recognition models run by
ONNX Runtime) is the default and the one the ``[ocr]`` extra installs. It was measured against
Debian's Tesseract 5 with its Indonesian model (``tesseract-ocr-ind`` through ``pytesseract``) and
the older ``rapidocr-onnxruntime`` 1.4 on images rendered from real turnbackhoax.id narratives
(``bench/ocr.py``; figures in ``bench/README.md``). Why rapidocr:

* it reads the hard images best: on photos of a screen (rotated, blurred, JPEG 60) Tesseract's
  global binarisation loses whole lines, and its character error rate on the claims was about
  five times rapidocr's;
* PP-OCRv6 keeps the spaces between Latin words, which the PP-OCRv4 Chinese recogniser of
  ``rapidocr-onnxruntime`` drops on capitals and tight type (``BARUSAJAGEMPAPINDAH``), breaking
  the keywords a lookup needs: its claims found their fact-check 85% of the time, not 98.5%;
* its models are inside the PyPI wheel (``rapidocr/models``), so ``pip install 'factcheck[ocr]'``
  is the whole install, in a virtualenv, without root, with nothing fetched at run time;
  Tesseract needs ``apt-get install tesseract-ocr tesseract-ocr-ind`` besides pip.

It costs more: about 300 MB installed (OpenCV and ONNX Runtime) against 50 MB, and about 1.5x
Tesseract's CPU time per image (2.8 s against 1.9 s of CPU on the bench machine's 2 cores).
On the lookups themselves the two tie (98.5% of the claims whose text finds its fact-check
also do from the image). Tesseract stays available (``FACTCHECK_OCR_ENGINE=tesseract``, or
automatically when it is the only engine installed) for machines where that matters more.

**Limits.** Uploads come from anyone (the HTTP API, the web page), so the bytes are checked before
they are decoded: at most :data:`MAX_IMAGE_BYTES`, a PNG, JPEG or WebP signature (sniffed, never
the file name), and at most :data:`MAX_IMAGE_PIXELS` read from the header, which stops a
decompression bomb (a small file that decodes to gigabytes) before Pillow allocates it.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput, OCRUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

log = logging.getLogger(__name__)

#: An upload larger than this is refused before it is read: a phone screenshot is 0.2-3 MB and
#: a photo of a poster rarely above 8 MB.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Width x height read from the header: 50 MP covers a 48 MP phone photo; a decompression bomb
#: (a few KB that decode to 100k x 100k pixels) is refused before any pixel is allocated.
MAX_IMAGE_PIXELS = 50_000_000
#: The engine reads an image of at most this many pixels; a larger one is scaled down first
#: (a 12 MP photo holds no more readable text than its 4 MP version, and costs 3x the time).
OCR_PIXELS = 4_500_000
IMAGE_TYPES = ("png", "jpeg", "webp")
ENGINES = ("rapidocr", "tesseract")
ENV_ENGINE = "FACTCHECK_OCR_ENGINE"
INSTALL_HINT = "pip install 'factcheck[ocr]'"
TESSERACT_HINT = "apt-get install tesseract-ocr tesseract-ocr-ind"
#: Recognised lines below this confidence are dropped: they are the glyphs of icons, avatars
#: and background doodles read as letters.
MIN_LINE_SCORE = 0.6

_SIGNATURES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ("jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("webp", lambda b: len(b) >= 12 and b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
)
_TIME = r"\d{1,2}[.:]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[✓✔√vV/]{1,2})?"
#: Chat chrome that is never a claim: a time stamp with its delivery ticks ("10.42 ✓✓",
#: "21:05"), the phone's status bar ("4G 87%"), "online", "mengetik...", "Diteruskan".
_CHROME = re.compile(
    rf"^\W*(?:{_TIME}"
    r"|\d{1,3}\s*%|(?:[45]g|lte|volte)(?:\s+\S{1,4})?"
    r"|online|daring|mengetik\.*|typing\.*|sedang mengetik\.*"
    r"|ketik pesan|pesan|message|type a message"
    r"|diteruskan(?: berkali-kali)?|forwarded(?: many times)?)\W*$",
    re.IGNORECASE,
)
#: The time stamp WhatsApp puts at the bottom right of a bubble, read onto its last line.
_TRAILING_TIME = re.compile(rf"\s*{_TIME}\s*$", re.IGNORECASE)
#: A lone CJK or symbol token: an emoji or icon that a multilingual model read as a character.
_STRAY = re.compile(r"(?<!\S)[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u2600-\u27bf]{1,2}(?!\S)")


@dataclass(frozen=True)
class TextLine:
    """One line of text as an engine found it, with its box in pixels and its confidence."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    score: float = 1.0
    #: dy/dx of the line's baseline: a photo taken at an angle tilts every line alike.
    slope: float = 0.0

    @property
    def height(self) -> float:
        return max(1.0, self.bottom - self.top)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2

    @classmethod
    def from_quad(cls, text: str, quad: Any, score: float) -> TextLine:
        """A line from an engine's four corners (clockwise from top left). A tilted line's
        bounding box is far taller than its text; its height is the quad's sides instead."""
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ((float(x), float(y)) for x, y in quad)
        height = (abs(y3 - y0) + abs(y2 - y1)) / 2
        cy = (y0 + y1 + y2 + y3) / 4
        slope = (y1 - y0) / (x1 - x0) if abs(x1 - x0) > 1 else 0.0
        return cls(text, min(x0, x3), cy - height / 2, max(x1, x2), cy + height / 2, score,
                   slope)


# -- the bytes ------------------------------------------------------------------------------


def sniff_type(data: bytes) -> str | None:
    """``png``, ``jpeg`` or ``webp`` from the file's first bytes, else None."""
    for name, matches in _SIGNATURES:
        if matches(data[:16]):
            return name
    return None


def check_bytes(data: bytes) -> str:
    """The image type, after the checks that need no image library (size, signature).

    Separate from :func:`load_image` so that a server can refuse a bad upload with the same
    words whether or not the OCR extra is installed.
    """
    if not data:
        raise InvalidInput("the image is empty", key="error.image_empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(
            f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB",
            key="error.image_too_large", max_mb=MAX_IMAGE_BYTES // (1024 * 1024),
        )
    kind = sniff_type(data)
    if kind is None:
        raise InvalidInput("the file is not a PNG, JPEG or WebP image", key="error.image_type")
    return kind


def load_image(data: bytes) -> Image:
    """The decoded image in RGB, upright, after the size, type and pixel checks."""
    kind = check_bytes(data)
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise _unavailable("Pillow is not installed") from exc
    try:
        # the header only, and only by the decoder the signature named: no other plugin sees it
        opened = Image.open(io.BytesIO(data), formats=[kind.upper()])
        width, height = opened.size
        if width * height > MAX_IMAGE_PIXELS:
            raise _too_many_pixels(width, height)
        if (opened.format or "").lower() != kind:
            raise InvalidInput(f"the file is not a valid {kind.upper()} image",
                               key="error.image_unreadable")
        opened.load()
        image = ImageOps.exif_transpose(opened)  # a phone photo taken sideways
    except InvalidInput:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own cap (179 MP) hit in open()
        raise _too_many_pixels(None, None) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        # truncated or damaged data behind a valid signature
        log.info("unreadable %s image: %s", kind, exc)
        raise InvalidInput(f"the {kind.upper()} image is damaged or unreadable",
                           key="error.image_unreadable") from exc
    return _flatten(image)


def _too_many_pixels(width: int | None, height: int | None) -> InvalidInput:
    size = f"{width}x{height} pixels, " if width else ""
    return InvalidInput(
        f"the image has {size}more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels",
        key="error.image_pixels", width=width, height=height,
        max_mp=MAX_IMAGE_PIXELS // 1_000_000,
    )


def _flatten(image: Image) -> Image:
    """RGB on white: a transparent PNG's text is drawn on nothing, and black would hide it."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _fit(image: Image, pixels: int = OCR_PIXELS) -> Image:
    from PIL import Image

    width, height = image.size
    if width * height <= pixels:
        return image
    scale = (pixels / (width * height)) ** 0.5
    return image.resize((max(1, int(width * scale)), max(1, int(height * scale))),
                        Image.Resampling.LANCZOS)


# -- the engines ----------------------------------------------------------------------------


class _Rapid:
    """RapidOCR 3 with the models of its wheel; one instance, loaded once (about a second)."""

    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "error",  # its own console handler: no colour lines on stderr
            # the detector reads the image at its own size (up to 1600 px a side) instead of
            # scaling the short side up to 736 px, which made a wide banner cost 3x the time
            "Det.limit_type": "max",
            "Det.limit_side_len": 1600,
            # upside-down text is rare in screenshots; the angle classifier cost ~10% per image
            "Global.use_cls": False,
        }
        self._engine = RapidOCR(params=params)
        self._lock = threading.Lock()

    def lines(self, image: Image) -> list[TextLine]:
        import numpy as np

        with self._lock:  # one image at a time: ONNX Runtime already uses every core
            result: Any = self._engine(np.asarray(image))
        if result.boxes is None or result.txts is None:
            return []
        return [TextLine.from_quad(str(text), box, float(score))
                for box, text, score in zip(result.boxes, result.txts, result.scores or ())]


class _Tesseract:
    """Tesseract through pytesseract, Indonesian model; words grouped into its own lines."""

    name = "tesseract"

    def __init__(self) -> None:
        import pytesseract

        if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
            raise ImportError(f"the tesseract program is not installed ({TESSERACT_HINT})")
        languages = set(pytesseract.get_languages(config=""))
        if "ind" not in languages:
            raise ImportError(f"Tesseract has no Indonesian model ({TESSERACT_HINT})")
        self._tess = pytesseract
        self.lang = "ind+eng" if "eng" in languages else "ind"

    def lines(self, image: Image) -> list[TextLine]:
        data = self._tess.image_to_data(
            _for_tesseract(image), lang=self.lang, config="--psm 3",
            output_type=self._tess.Output.DICT,
        )
        scale = image.width / max(1, _tesseract_width(image))
        groups: dict[tuple[int, int, int], list[int]] = {}
        for n, word in enumerate(data["text"]):
            if word.strip() and float(data["conf"][n]) >= 0:
                key = (data["block_num"][n], data["par_num"][n], data["line_num"][n])
                groups.setdefault(key, []).append(n)
        out = []
        for idx in groups.values():
            left = min(data["left"][n] for n in idx)
            top = min(data["top"][n] for n in idx)
            right = max(data["left"][n] + data["width"][n] for n in idx)
            bottom = max(data["top"][n] + data["height"][n] for n in idx)
            score = sum(float(data["conf"][n]) for n in idx) / (100.0 * len(idx))
            text = " ".join(data["text"][n].strip() for n in idx)
            out.append(TextLine(text, left * scale, top * scale, right * scale, bottom * scale,
                                score))
        return out


def _tesseract_width(image: Image) -> int:
    return image.width * 2 if image.width < 1000 else image.width


def _for_tesseract(image: Image) -> Image:
    """Grey, and twice the size when small: Tesseract reads text best at 20-30 px x-height."""
    from PIL import Image

    grey = image.convert("L")
    width = _tesseract_width(image)
    if width != image.width:
        grey = grey.resize((width, image.height * width // image.width), Image.Resampling.LANCZOS)
    return grey


_FACTORIES: dict[str, Callable[[], Any]] = {"rapidocr": _Rapid, "tesseract": _Tesseract}
_loaded: dict[str, Any] = {}
_load_lock = threading.Lock()


def engine(name: str | None = None) -> Any:
    """The engine to use: ``name``, else ``$FACTCHECK_OCR_ENGINE``, else the first installed of
    :data:`ENGINES`. Raises :class:`OCRUnavailable` naming the install command."""
    chosen = (name or os.environ.get(ENV_ENGINE, "")).strip().lower() or None
    if chosen is not None and chosen not in _FACTORIES:
        raise InvalidInput(f"unknown OCR engine {chosen!r}: use {', '.join(ENGINES)}",
                           key="error.ocr_engine", value=repr(chosen[:20]),
                           allowed=", ".join(ENGINES))
    with _load_lock:
        reasons = []
        for candidate in [chosen] if chosen else list(ENGINES):
            if candidate in _loaded:
                return _loaded[candidate]
            try:
                _loaded[candidate] = _FACTORIES[candidate]()
                log.info("OCR engine: %s", candidate)
                return _loaded[candidate]
            except ImportError as exc:  # a missing package, program or model
                reasons.append(f"{candidate}: {exc}")
        raise _unavailable("; ".join(reasons))


def _unavailable(reason: str) -> OCRUnavailable:
    log.info("no OCR engine: %s", reason)
    return OCRUnavailable(
        f"reading text from images needs the OCR extra: {INSTALL_HINT} ({reason})",
        key="error.ocr_unavailable", command=INSTALL_HINT,
    )


# -- the text -------------------------------------------------------------------------------


def read_text(data: bytes, engine_name: str | None = None) -> str:
    """The text of an image as a person would paste it: one paragraph per line, in reading order.

    Raises :class:`InvalidInput` for an image that is refused or unreadable, or that holds no
    text (``error.image_no_text``), and :class:`OCRUnavailable` when no engine is installed.
    """
    ocr = engine(engine_name)  # before decoding: without an engine the image is not needed
    lines = ocr.lines(prepare(data))
    text = text_of(lines)
    log.debug("OCR (%s) read %d lines, %d characters", ocr.name, len(lines), len(text))
    if not re.search(r"[^\W\d_]{2,}", text):
        raise InvalidInput("no readable text was found in the image", key="error.image_no_text")
    return text


def prepare(data: bytes) -> Image:
    """The checked, decoded, upright RGB image at the size the engines read."""
    return _fit(load_image(data))


def text_of(lines: list[TextLine]) -> str:
    """An engine's lines as text: confident lines that are not chat chrome, in paragraphs."""
    return layout([line for line in lines if _keep(line)])


def _keep(line: TextLine) -> bool:
    text = " ".join(line.text.split())
    return bool(text) and line.score >= MIN_LINE_SCORE and not _CHROME.match(text)


def layout(lines: list[TextLine]) -> str:
    """Lines into paragraphs: the pieces of one visual line joined, then consecutive lines
    joined while they sit close and share a left edge (one bubble, one block of a poster).

    The claim splitter reads a line break as the end of a paragraph the sender wrote, so the
    line breaks an image's wrapping put in must go, and those between bubbles must stay.
    """
    rows = _rows(lines)
    paragraphs: list[list[TextLine]] = []
    for row in rows:
        if paragraphs and _continues(paragraphs[-1][-1], row):
            paragraphs[-1].append(row)
        else:
            paragraphs.append([row])
    out = []
    for paragraph in paragraphs:
        text = ""
        for row in paragraph:
            piece = " ".join(_STRAY.sub(" ", row.text).split())
            if text.endswith("-") and not text.endswith(" -"):
                text += piece  # a word cut at a hyphen ("bagi-" / "bagi") joins without a space
            else:
                text = f"{text} {piece}".strip()
        text = _TRAILING_TIME.sub("", text)
        if text:
            out.append(text)
    return "\n".join(out)


def _rows(lines: list[TextLine]) -> list[TextLine]:
    """Boxes on one visual line merged, left to right (engines cut a line at wide gaps)."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.left, ln.top)):
        x, y = line.centre
        for row in rows:
            last = row[-1]
            lx, ly = last.centre
            # where this line's centre would be if it continued ``last`` along its tilt
            expected = ly + last.slope * (x - lx)
            same_band = abs(y - expected) < 0.5 * min(line.height, last.height)
            near = -0.5 * line.height < line.left - last.right < 3 * line.height
            if same_band and near:
                row.append(line)
                break
        else:
            rows.append([line])
    merged = []
    for row in rows:
        row.sort(key=lambda ln: ln.left)
        first = row[0]
        merged.append(TextLine(
            " ".join(r.text for r in row), first.left, first.top, row[-1].right, first.bottom,
            min(r.score for r in row), first.slope,
        ))
    merged.sort(key=lambda ln: (ln.top, ln.left))
    return merged


def _continues(previous: TextLine, line: TextLine) -> bool:
    """Whether ``line`` is the next line of the paragraph that ``previous`` ends."""
    height = min(previous.height, line.height)
    gap = line.top - previous.bottom
    if gap > 0.9 * height or gap < -0.5 * height:
        return False
    if max(previous.height, line.height) > 1.4 * height:  # a headline over body text
        return False
    # left-aligned lines share a left edge; centred ones (a poster) share a centre
    same_left = abs(line.left - previous.left) < 1.5 * height
    same_centre = abs((line.left + line.right) - (previous.left + previous.right)) < 3 * height
    return same_left or same_centre
