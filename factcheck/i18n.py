"""Every sentence factcheck shows a person, in Indonesian and English, in one table.

The readers are Indonesian civil servants first, so Indonesian is the default and English the
alternative; a third language is one more column. A small table is enough: the texts are a few
dozen short sentences with named ``{placeholders}``, and keeping them together lets a test
check that both languages have every key and the same placeholders. Data (JSON keys, verdict
classes, status codes) is never translated, only what a person reads.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from typing import Any

from .models import Verdict

UI_LANGUAGES = ("id", "en")
DEFAULT_UI_LANGUAGE = "id"
ENV_UI_LANG = "FACTCHECK_UI_LANG"
_LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")

#: key -> {language: text}. Placeholders are ``str.format`` fields.
CATALOGUE: dict[str, dict[str, str]] = {
    # -- tiers ------------------------------------------------------------------------------
    "tier.match": {
        "id": "COCOK: sumber tepercaya sudah memeriksa klaim ini.",
        "en": "MATCH: a trusted source has already checked this claim.",
    },
    "tier.suggestion": {
        "id": "MUNGKIN TERKAIT: ada cek fakta yang mirip, tetapi tidak ada yang jelas membahas "
              "klaim ini.",
        "en": "POSSIBLY RELATED: similar verified items, but none clearly about this claim.",
    },
    "tier.none": {
        "id": "TIDAK ADA YANG COCOK: belum ada cek fakta di indeks yang membahas klaim ini. "
              "Sumbernya belum jelas; jangan bagikan sebagai fakta.",
        "en": "NO MATCH: no verified item in the index matches this claim. Its source is not "
              "confirmed; do not share it as fact.",
    },
    "tier.unchecked": {
        "id": "BELUM DAPAT DIPASTIKAN: pencarian makna tidak tersedia, hanya kata kunci yang "
              "dicari. Hasil di bawah perlu Anda baca sendiri.",
        "en": "CANNOT CONFIRM: semantic search is unavailable, only keywords were searched. "
              "Read the results below yourself.",
    },
    # -- sections and lines -----------------------------------------------------------------
    "section.matches": {"id": "Cek fakta untuk klaim ini:", "en": "The fact-check of this claim:"},
    "section.others": {
        "id": "Hasil lain (belum tentu membahas klaim ini):",
        "en": "Other results (not necessarily about this claim):",
    },
    "section.related": {"id": "Hasil yang mungkin terkait:", "en": "Possibly related results:"},
    "message.claims": {
        "id": "{count} klaim ditemukan dalam pesan.",
        "en": "{count} claim(s) found in the message.",
    },
    "message.summary": {
        "id": "{count} klaim ditemukan dalam pesan: {match} cocok, {suggestion} mungkin terkait, "
              "{none} tidak ada yang cocok.",
        "en": "{count} claims found in the message: {match} matched, {suggestion} possibly "
              "related, {none} not matched.",
    },
    "message.claim": {"id": "== Klaim {n}/{total}: {claim}", "en": "== Claim {n}/{total}: {claim}"},
    "links.header": {"id": "Tautan dalam pesan:", "en": "Links in the message:"},
    "link.refused": {"id": "tidak diperiksa: {reason}", "en": "not checked: {reason}"},
    "hit.scores": {
        "id": "kemiripan {dense} · skor {score} · kata kunci {keyword}",
        "en": "similarity {dense} · score {score} · keyword {keyword}",
    },
    "hit.no_label": {"id": "tanpa label", "en": "no label"},
    "hit.no_date": {"id": "tanpa tanggal", "en": "undated"},
    "hit.no_publisher": {"id": "penerbit tidak diketahui", "en": "unknown publisher"},
    # -- notes and warnings -----------------------------------------------------------------
    "note.demo": {
        "id": "(contoh demo: beberapa puluh cek fakta nyata, bukan indeks lengkap)",
        "en": "(demo sample: a few dozen real fact-checks, not a full index)",
    },
    "note.filters": {
        "id": "(hanya item yang lolos filter yang dicari: {filters})",
        "en": "(only items that pass the filters were searched: {filters})",
    },
    "note.ocr_text": {
        "id": "Teks yang terbaca dari gambar: {text}", "en": "Text read from the image: {text}",
    },
    "note.repaired": {
        "id": "Catatan: berkas indeks vektor hilang, rusak atau tertinggal; sudah dibangun "
              "ulang dari penyimpanan.",
        "en": "Note: the vector index file was missing, damaged or behind; rebuilt it from the "
              "store.",
    },
    "note.no_index": {
        "id": "Catatan: tidak ada indeks di sini; jawaban hanya dari daftar domain.",
        "en": "Note: there is no index here; answering from the domain list only.",
    },
    "warn.keyword_only": {
        "id": "Peringatan: pencarian makna tidak tersedia ({reason}); hanya kata kunci yang "
              "dicari, jadi tidak ada hasil yang dinyatakan cocok. Jalankan 'factcheck reindex'.",
        "en": "Warning: semantic search is unavailable ({reason}); only keywords were searched, "
              "so no result is called a match. Run 'factcheck reindex'.",
    },
    "warn.vectors_missing": {
        "id": "Peringatan: {missing} dari {total} item belum punya vektor dan hanya dicari "
              "dengan kata kunci. Jalankan 'factcheck reindex'.",
        "en": "Warning: {missing} of {total} items have no vector yet and were searched by "
              "keyword only. Run 'factcheck reindex'.",
    },
    "reason.no_vectors": {"id": "indeks belum punya vektor", "en": "the index has no vectors"},
    "reason.model_unavailable": {
        "id": "model {model} tidak dapat dimuat", "en": "the model {model} cannot be loaded",
    },
    # -- citations --------------------------------------------------------------------------
    "cite.match": {
        "id": "Sudah dicek: {publisher} ({date}) menilai klaim ini {verdict}.\n{title}\n{url}",
        "en": "Checked: {publisher} ({date}) rated this claim {verdict}.\n{title}\n{url}",
    },
    "cite.suggestion": {
        "id": "Belum ada cek fakta yang jelas membahas klaim ini. Yang mungkin terkait: "
              "{publisher} ({date}), {verdict}: {title}\n{url}\n"
              "Pastikan sumbernya jelas sebelum membagikan (SE Menpan RB No. 137/2018).",
        "en": "No fact-check clearly about this claim yet. Possibly related: {publisher} "
              "({date}), {verdict}: {title}\n{url}\n"
              "Make sure its source is clear before sharing (Menpan RB circular SE 137/2018).",
    },
    "cite.none": {
        "id": "Belum ada sumber tepercaya yang memverifikasi klaim ini. Sesuai SE Menpan RB "
              "No. 137/2018, ASN hanya boleh membagikan informasi yang jelas sumbernya dan dapat "
              "dipastikan kebenarannya: jangan teruskan pesan ini sebagai fakta.",
        "en": "No trusted source has verified this claim yet. Under Menpan RB circular SE "
              "137/2018, civil servants may share only information whose source is clear and "
              "whose truth can be verified: do not forward it as fact.",
    },
    "cite.unchecked": {
        "id": "Klaim ini belum dapat dipastikan: pencarian cek fakta tidak lengkap. Jangan "
              "teruskan sebagai fakta sampai sumbernya jelas (SE Menpan RB No. 137/2018).",
        "en": "This claim cannot be confirmed yet: the fact-check search was incomplete. Do not "
              "forward it as fact until its source is clear (Menpan RB circular SE 137/2018).",
    },
    "cite.claim": {"id": "Klaim {n}: {claim}", "en": "Claim {n}: {claim}"},
    "cite.link": {"id": "Tautan {url}: {summary}", "en": "Link {url}: {summary}"},
    # -- the source check of a link ---------------------------------------------------------
    "source.government": {
        "id": "{host} adalah domain resmi pemerintah ({name}).",
        "en": "{host} is an official government domain ({name}).",
    },
    "source.factchecker": {
        "id": "{host} adalah pemeriksa fakta yang diakui ({name}).",
        "en": "{host} is a recognised fact-checker ({name}).",
    },
    "source.news": {
        "id": "{host} adalah media berita yang diakui ({name}).",
        "en": "{host} is a recognised news outlet ({name}).",
    },
    "source.unknown": {
        "id": "{host} bukan domain resmi, pemeriksa fakta, atau media berita yang diakui.",
        "en": "{host} is not a recognised official, fact-checking or news domain.",
    },
    "source.lookalike": {
        "id": "Peringatan: domain ini meniru {imitates}, tetapi bukan domain itu.",
        "en": "Warning: it imitates {imitates} but is not that domain.",
    },
    "source.indexed": {
        "id": "Tautan ini sendiri adalah cek fakta yang tersimpan (putusan atas klaimnya: "
              "{verdict}).",
        "en": "The link is itself a stored fact-check (verdict on its claim: {verdict}).",
    },
    "source.quoted_as_source": {
        "id": "Tautan ini dikutip dalam {count} cek fakta tersimpan sebagai sumber klaim yang "
              "diperiksa.",
        "en": "It is quoted in {count} stored fact-check(s), as the checked claim's source.",
    },
    "source.quoted_as_reference": {
        "id": "Tautan ini dikutip dalam {count} cek fakta tersimpan sebagai rujukan.",
        "en": "It is quoted in {count} stored fact-check(s), as a reference.",
    },
    "source.not_quoted": {
        "id": "Tidak ada cek fakta tersimpan yang mengutip tautan persis ini.",
        "en": "No stored fact-check quotes this exact link.",
    },
    "source.quoted_in": {"id": "Dikutip dalam", "en": "Quoted in"},
    "source.published_on": {
        "id": "Terbit di {domain} ({count})", "en": "Published on {domain} ({count})",
    },
    "source.mentioning": {
        "id": "Menyebut {domain} ({count})", "en": "Mentioning {domain} ({count})",
    },
    "source.suspicious": {
        "id": "Tautan mencurigakan: {reason} Peramban akan membuka {host}; jangan anggap "
              "tautan ini sebagai sumber resmi atau tepercaya.",
        "en": "Suspicious link: {reason} A browser would open {host}; do not treat it as an "
              "official or trusted source.",
    },
    "source.why.backslash": {
        "id": "alamatnya memuat garis miring terbalik (\\) yang dibaca peramban sebagai garis "
              "miring biasa, tetapi tidak oleh program lain, sehingga tautan bisa menuju tempat "
              "lain daripada yang terlihat.",
        "en": "its address has a backslash (\\), which browsers read as a slash but other "
              "programs do not, so it can lead somewhere other than it seems.",
    },
    "source.why.userinfo": {
        "id": "alamatnya menaruh “{userinfo}@” di depan nama host, trik agar tautan tampak "
              "menuju {userinfo}.",
        "en": "its address puts “{userinfo}@” in front of the host name, a trick that makes "
              "a link seem to lead to {userinfo}.",
    },
    "source.why.encoded_host": {
        "id": "nama host-nya ditulis dengan kode persen (%xx) yang menyembunyikan hurufnya.",
        "en": "its host name is written in percent codes (%xx), which hide its letters.",
    },
    "source.why.mixed_script": {
        "id": "nama host-nya mencampur huruf dari aksara yang berbeda ({scripts}), seperti "
              "domain tiruan.",
        "en": "its host name mixes letters of different scripts ({scripts}), as look-alike "
              "domains do.",
    },
    "source.why.parsers_disagree": {
        "id": "program membaca alamatnya secara berbeda (peramban: {host}; program lain: "
              "{other}), sehingga tautan bisa menuju tempat lain daripada yang terlihat.",
        "en": "programs read its address differently (a browser: {host}; others: {other}), so "
              "it can lead somewhere other than it seems.",
    },
    "source.no_host": {"id": "tanpa host", "en": "no host"},
    # -- the web page (served at / by ``factcheck serve``) -----------------------------------
    "page.title": {"id": "Cek sebelum membagikan", "en": "Check before you share"},
    "page.intro": {
        "id": "Tempel pesan atau tautan yang Anda terima, atau pilih tangkapan layarnya. Kami "
              "mencari cek fakta dari sumber tepercaya yang sudah membahasnya.",
        "en": "Paste a message or link you received, or choose its screenshot. We look for "
              "fact-checks by trusted sources that already cover it.",
    },
    "page.text_label": {"id": "Pesan, klaim, atau tautan", "en": "Message, claim or link"},
    "page.text_placeholder": {
        "id": "Tempel pesan WhatsApp di sini…", "en": "Paste the WhatsApp message here…",
    },
    "page.text_hint": {"id": "Ctrl+Enter juga memeriksa.", "en": "Ctrl+Enter checks it too."},
    "page.check": {"id": "Periksa", "en": "Check"},
    "page.or": {"id": "atau", "en": "or"},
    "page.image_label": {"id": "Pilih tangkapan layar", "en": "Choose a screenshot"},
    "page.image_hint": {
        "id": "PNG, JPEG atau WebP, paling besar {max_mb} MB. Bisa juga diseret ke sini atau "
              "ditempel (Ctrl+V).",
        "en": "PNG, JPEG or WebP, at most {max_mb} MB. You can also drop it here or paste it "
              "(Ctrl+V).",
    },
    "page.image_chosen": {"id": "Gambar: {name}", "en": "Image: {name}"},
    "page.checking": {"id": "Memeriksa…", "en": "Checking…"},
    "page.reading_image": {
        "id": "Membaca teks pada gambar, lalu memeriksa…",
        "en": "Reading the text in the image, then checking…",
    },
    "page.empty": {
        "id": "Tempel pesan atau pilih gambar terlebih dahulu.",
        "en": "Paste a message or choose an image first.",
    },
    "page.error_network": {
        "id": "Server tidak dapat dihubungi. Periksa koneksi ke server, lalu coba lagi.",
        "en": "The server could not be reached. Check the connection to it and try again.",
    },
    "page.answer": {"id": "Jawaban", "en": "Answer"},
    "page.claim": {"id": "Klaim {n} dari {total}", "en": "Claim {n} of {total}"},
    "page.ocr_text": {"id": "Teks yang terbaca dari gambar", "en": "Text read from the image"},
    "page.citation": {"id": "Balasan siap tempel", "en": "Reply ready to paste"},
    "page.copy": {"id": "Salin untuk WhatsApp", "en": "Copy for WhatsApp"},
    "page.copied": {
        "id": "Tersalin: tempel di obrolan WhatsApp.", "en": "Copied: paste it into the chat.",
    },
    "page.copy_failed": {
        "id": "Tidak dapat menyalin otomatis: pilih teks balasan di atas, lalu salin.",
        "en": "Could not copy automatically: select the reply text above and copy it.",
    },
    "page.language": {"id": "Bahasa", "en": "Language"},
    "page.footer": {
        "id": "Jawaban berasal dari indeks cek fakta di server ini; pesan dan gambar Anda tidak "
              "dikirim ke pihak lain.",
        "en": "Answers come from the fact-check index on this server; your message and image "
              "are not sent anywhere else.",
    },
    "page.api": {"id": "API JSON", "en": "JSON API"},
    "page.noscript": {
        "id": "Halaman ini memerlukan JavaScript. Tanpa JavaScript, gunakan API JSON di "
              "/openapi.json.",
        "en": "This page needs JavaScript. Without it, use the JSON API described at "
              "/openapi.json.",
    },
    "lang.id": {"id": "Bahasa Indonesia", "en": "Bahasa Indonesia"},
    "lang.en": {"id": "English", "en": "English"},
    # -- the language a fact-check is written in, shown when it is not the reader's ---------
    "written.en": {"id": "berbahasa Inggris", "en": "in English"},
    "written.id": {"id": "berbahasa Indonesia", "en": "in Indonesian"},
    "written.ms": {"id": "berbahasa Melayu", "en": "in Malay"},
    "written.jv": {"id": "berbahasa Jawa", "en": "in Javanese"},
    "written.su": {"id": "berbahasa Sunda", "en": "in Sundanese"},
    "written.ar": {"id": "berbahasa Arab", "en": "in Arabic"},
    "written.zh": {"id": "berbahasa Tionghoa", "en": "in Chinese"},
    "written.ja": {"id": "berbahasa Jepang", "en": "in Japanese"},
    "written.ko": {"id": "berbahasa Korea", "en": "in Korean"},
    "written.th": {"id": "berbahasa Thai", "en": "in Thai"},
    "written.vi": {"id": "berbahasa Vietnam", "en": "in Vietnamese"},
    "written.tl": {"id": "berbahasa Tagalog", "en": "in Tagalog"},
    "written.hi": {"id": "berbahasa Hindi", "en": "in Hindi"},
    "written.es": {"id": "berbahasa Spanyol", "en": "in Spanish"},
    "written.pt": {"id": "berbahasa Portugis", "en": "in Portuguese"},
    "written.fr": {"id": "berbahasa Prancis", "en": "in French"},
    "written.de": {"id": "berbahasa Jerman", "en": "in German"},
    "written.ru": {"id": "berbahasa Rusia", "en": "in Russian"},
    # -- errors -----------------------------------------------------------------------------
    "error.prefix": {"id": "Galat", "en": "Error"},
    "error.empty_claim": {"id": "klaimnya kosong", "en": "the claim is empty"},
    "error.claim_too_long": {
        "id": "klaim lebih panjang dari {max} karakter",
        "en": "the claim is longer than {max} characters",
    },
    "error.limit": {
        "id": "jumlah hasil harus antara 1 dan {max}", "en": "limit must be between 1 and {max}",
    },
    "error.mode": {
        "id": "mode {value} tidak dikenal: gunakan hybrid, keyword atau dense",
        "en": "unknown mode {value}: use hybrid, keyword or dense",
    },
    "error.max_age": {
        "id": "batas umur {value} tidak valid: gunakan misalnya 30d, 6w, 6m atau 2y (paling lama "
              "{max_years} tahun)",
        "en": "bad maximum age {value}: use e.g. 30d, 6w, 6m or 2y (at most {max_years} years)",
    },
    "error.verdict": {
        "id": "kelas putusan {value} tidak dikenal: gunakan {allowed}, atau label penerbit "
              "seperti hoaks, salah, keliru",
        "en": "unknown verdict class {value}: use {allowed}, or a publisher's label such as "
              "hoaks, salah, keliru",
    },
    "error.language": {
        "id": "kode bahasa {value} tidak valid: gunakan kode ISO 639-1 seperti id atau en",
        "en": "malformed language {value}: use an ISO 639-1 code such as id or en",
    },
    "error.filter_unmatched": {
        "id": "tidak ada item dengan {field} {value} di indeks ini; yang ada: {available}",
        "en": "no item in this index has {field} {value}; it holds: {available}",
    },
    "error.index_unusable": {
        "id": "indeks ini tidak dapat menjawab dengan benar: {reason}, dan kata kunci tidak "
              "menemukan apa pun. Jalankan 'factcheck reindex' (atau 'factcheck reindex --model "
              "MODEL').",
        "en": "this index cannot answer as it should: {reason}, and the keywords found nothing. "
              "Run 'factcheck reindex' (or 'factcheck reindex --model MODEL').",
    },
    "error.index_empty": {
        "id": "indeks ini belum berisi cek fakta: impor item atau jalankan 'factcheck refresh' "
              "dulu (atau coba 'factcheck check --demo').",
        "en": "this index holds no fact-checks yet: import items or run 'factcheck refresh' "
              "first (or try 'factcheck check --demo').",
    },
    "error.ui_lang": {
        "id": "bahasa tampilan {value} tidak tersedia: gunakan {allowed}",
        "en": "UI language {value} is not available: use {allowed}",
    },
    "error.image_empty": {"id": "gambarnya kosong", "en": "the image is empty"},
    "error.image_too_large": {
        "id": "gambar lebih besar dari {max_mb} MB",
        "en": "the image is larger than {max_mb} MB",
    },
    "error.image_pixels": {
        "id": "gambar lebih besar dari {max_mp} megapiksel",
        "en": "the image has more than {max_mp} megapixels",
    },
    "error.image_type": {
        "id": "berkas ini bukan gambar PNG, JPEG atau WebP",
        "en": "the file is not a PNG, JPEG or WebP image",
    },
    "error.image_unreadable": {
        "id": "gambar rusak atau tidak dapat dibaca", "en": "the image is damaged or unreadable",
    },
    "error.image_no_text": {
        "id": "tidak ada teks yang dapat dibaca pada gambar; salin teksnya atau kirim gambar yang "
              "lebih jelas",
        "en": "no readable text was found in the image; paste the text or send a clearer image",
    },
    "error.image_missing": {
        "id": "berkas gambar {path} tidak ada", "en": "no image file {path}",
    },
    "error.image_file": {
        "id": "berkas gambar {path} tidak dapat dibuka: {reason}",
        "en": "cannot open the image file {path}: {reason}",
    },
    "error.ocr_unavailable": {
        "id": "membaca teks dari gambar memerlukan tambahan OCR: jalankan {command}",
        "en": "reading text from images needs the OCR extra: run {command}",
    },
    "error.ocr_engine": {
        "id": "mesin OCR {value} tidak dikenal: gunakan {allowed}",
        "en": "unknown OCR engine {value}: use {allowed}",
    },
    "field.publisher": {"id": "penerbit", "en": "publisher"},
    "field.source": {"id": "sumber", "en": "source"},
    "field.language": {"id": "bahasa", "en": "language"},
    "field.verdict": {"id": "kelas putusan", "en": "verdict class"},
}

#: The plain word for each normalised verdict class, shown beside the publisher's own label.
VERDICT_WORDS: dict[Verdict, dict[str, str]] = {
    Verdict.FALSE: {"id": "salah", "en": "false"},
    Verdict.MISLEADING: {"id": "menyesatkan", "en": "misleading"},
    Verdict.MIXED: {"id": "sebagian benar", "en": "partly true"},
    Verdict.TRUE: {"id": "benar", "en": "true"},
    Verdict.SATIRE: {"id": "satire/parodi", "en": "satire"},
    Verdict.UNPROVEN: {"id": "belum terbukti", "en": "unproven"},
    Verdict.UNKNOWN: {"id": "tanpa kelas", "en": "unclassified"},
}

_MONTHS = {
    "id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


def ui_language(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to talk to a person in: explicit choice, ``$FACTCHECK_UI_LANG``, the locale.

    An explicit value that is not available is bad input; an environment or locale that names
    another language (``fr_FR``, ``C``) falls back to Indonesian, the readers' language.
    """
    if explicit:
        return check_ui_language(explicit)
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_UI_LANG, "").strip()
    if chosen:
        return _language_of(chosen) or DEFAULT_UI_LANGUAGE
    for var in _LOCALE_VARS:
        value = env.get(var, "").strip()
        if value:  # the first set variable decides, as the C library does
            return _language_of(value) or DEFAULT_UI_LANGUAGE
    return DEFAULT_UI_LANGUAGE


def check_ui_language(value: str) -> str:
    found = _language_of(value)
    if found is None:
        from .errors import InvalidInput

        raise InvalidInput(
            f"UI language {value[:20]!r} is not available: use {', '.join(UI_LANGUAGES)}",
            key="error.ui_lang", value=repr(value[:20]), allowed=", ".join(UI_LANGUAGES),
        )
    return found


def _language_of(value: str) -> str | None:
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in UI_LANGUAGES else None


def text(key: str, lang: str, **params: Any) -> str:
    """The catalogue sentence ``key`` in ``lang`` with its placeholders filled."""
    entry = CATALOGUE[key]
    return (entry.get(lang) or entry[DEFAULT_UI_LANGUAGE]).format(**params)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def verdict_word(verdict: Verdict, lang: str) -> str:
    words = VERDICT_WORDS[verdict]
    return words.get(lang) or words[DEFAULT_UI_LANGUAGE]


def verdict_label(raw: str, verdict: Verdict, lang: str) -> str:
    """The publisher's label with the plain class word: ``HOAKS (salah)``, ``SALAH``."""
    word = verdict_word(verdict, lang)
    label = " ".join((raw or "").split())
    if not label:
        return text("hit.no_label", lang) if verdict is Verdict.UNKNOWN else word.upper()
    if label.casefold() == word.casefold():
        return label
    return f"{label} ({word})"


def format_date(value: str | None, lang: str) -> str:
    """``2026-05-04`` as ``4 Mei 2026``; anything unparseable as it is."""
    if not value:
        return text("hit.no_date", lang)
    head = value[:10]
    try:
        year, month, day = (int(p) for p in head.split("-"))
        name = _MONTHS.get(lang, _MONTHS[DEFAULT_UI_LANGUAGE])[month - 1]
    except (ValueError, IndexError):
        return value
    return f"{day} {name} {year}"


def error_text(exc: BaseException, lang: str) -> str:
    """An error as one line in ``lang``: the catalogue's sentence when the error names one."""
    key = getattr(exc, "key", None)
    params = dict(getattr(exc, "params", None) or {})
    for name, value in list(params.items()):  # ``field_key="field.publisher"`` -> ``field``
        if name.endswith("_key") and isinstance(value, str) and value in CATALOGUE:
            params[name[:-4]] = text(value, lang)
    if key and key in CATALOGUE:
        try:
            return text(key, lang, **params)
        except (KeyError, IndexError):  # pragma: no cover - a test checks the placeholders
            pass
    return str(exc)
