"""Labels in Portuguese with English beside them ("Óbitos / Deaths"), the way every CONEP
document and the store's PDFs are worded, and the phrases they share."""

from __future__ import annotations

COUNTRIES = {"BR": "Brasil / Brazil"}
NOT_RECORDED = "não registrado / not recorded"
SYNTHETIC_NOTICE = (
    "DADOS SINTÉTICOS: nenhuma pessoa real está por trás destes registros. / "
    "SYNTHETIC DATA: no person stands behind these records."
)


def label(portuguese: str, english: str) -> str:
    """A label in Portuguese with the English beside it."""
    return f"{portuguese} / {english}"


ENTRY_COLUMN = label("Registro", "Entry")
"""The column that names the entry (version) a row came from."""


def yes_no(value: bool) -> str:
    return label("sim", "yes") if value else label("não", "no")
