"""The model families, declared once: the registry checks `register_model(family=...)` against them, the
CLI's `--family` and the report's family labels read them. Imports nothing, so neither pays for torch."""

FAMILY_LABELS = {"cnn": "CNN", "cnn_rnn": "CNN+RNN", "transformer": "transformer"}  # name → how reports write it
FAMILIES = tuple(FAMILY_LABELS)
