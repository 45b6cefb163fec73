"""A subject's blood counts over time, with MSC infusions and transfusions marked.

Three panels sharing the date axis: haemoglobin (g/dL), absolute neutrophil count and
platelets (10^9/L). Each MSC infusion is a vertical line labelled with its number; red-cell
transfusions are marked on the haemoglobin panel and platelet transfusions on the platelet
panel, at the foot of the panel. The dashed lines are the protocol's Camitta thresholds
(severe disease below them) for neutrophils and platelets. Drawn with matplotlib's Agg backend
(no display), from the records that count (corrected, voids left out).

The documents take the chart as PNG (:func:`blood_count_chart`); the web pages take it as SVG
(:func:`blood_count_svg`), with the protocol's complete-response thresholds drawn too, and the
cyclosporine troughs against their target (:func:`trough_svg`). An SVG is drawn with a fixed
hash salt and no date, so the same records always give the same bytes.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.clinical import BloodCount, Transfusion, TransfusionProduct
from domain.subject import Subject
from domain.subject_facts import blood_counts, transfusions, trough_levels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Panel = Any
"""One panel of the chart (a matplotlib ``Axes``). Typed ``Any``: matplotlib places dates through
its units registry, and its stubs type every position as a float."""

PANELS = (
    ("haemoglobin", "Hemoglobina / Haemoglobin (g/dL)", "#b2182b"),
    ("neutrophils", "Neutrófilos / ANC (10^9/L)", "#2166ac"),
    ("platelets", "Plaquetas / Platelets (10^9/L)", "#1b7837"),
)
TRANSFUSED_ON_PANEL = {
    "haemoglobin": TransfusionProduct.RED_CELLS,
    "platelets": TransfusionProduct.PLATELETS,
}


def load_matplotlib() -> None:
    """Import matplotlib, on its Agg backend (no display), if not imported yet.

    It is imported when a chart is first drawn, not with this module: it costs most of a
    second of CPU, and most commands that import the documents (a packet built without its
    PDFs, ``sealtrail demo``, a page without a chart) draw none.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.figure


def _figure(width_inches: float, height_inches: float, dpi: int) -> Figure:
    """An empty figure, laid out by constrained layout."""
    load_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width_inches, height_inches), dpi=dpi, layout="constrained")


def has_chart(subject: Subject) -> bool:
    """True when the subject has a blood count to draw."""
    return bool(blood_counts(subject))


def blood_count_chart(
    subject: Subject,
    *,
    dpi: int = 150,
    width_inches: float = 9.0,
    event_on: date | None = None,
    event_label: str = "",
) -> bytes:
    """The subject's chart as PNG bytes; ``event_on`` marks an adverse event's onset."""
    figure = _blood_count_figure(
        subject, dpi=dpi, width_inches=width_inches, event_on=event_on, event_label=event_label
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def blood_count_svg(subject: Subject, *, width_inches: float = 9.0) -> str:
    """The subject's chart as an SVG document, the protocol's complete-response thresholds
    (solid) drawn beside its Camitta thresholds (dashed)."""
    response = subject.protocol.response
    complete = {
        "haemoglobin": response.complete_haemoglobin_at_least,
        "neutrophils": response.complete_neutrophils_at_least,
        "platelets": response.complete_platelets_at_least,
    }
    figure = _blood_count_figure(subject, dpi=100, width_inches=width_inches, complete=complete)
    return _svg(figure)


def _blood_count_figure(
    subject: Subject,
    *,
    dpi: int,
    width_inches: float,
    event_on: date | None = None,
    event_label: str = "",
    complete: dict[str, Decimal] | None = None,
) -> Figure:
    """The three panels; ``complete`` adds a complete-response threshold line per analyte."""
    counts = [c for _, c in blood_counts(subject)]
    given = transfusions(subject)
    infusions = _infusions(subject)
    severity = subject.protocol.severity
    thresholds: dict[str, Decimal] = {
        "neutrophils": severity.neutrophils_below,
        "platelets": severity.platelets_below,
    }
    figure = _figure(width_inches, 6.6, dpi)
    axes = figure.subplots(len(PANELS), 1, sharex=True)
    figure.suptitle(_title(subject), fontsize=10)
    # Drawn in this order on every panel: the order sets the legend's and the PNG's bytes.
    for ax, (analyte, name, colour) in zip(axes, PANELS, strict=True):
        _plot_counts(ax, counts, analyte, colour)
        if analyte in thresholds:
            ax.axhline(float(thresholds[analyte]), color="grey", linestyle="--", linewidth=0.8)
        if complete is not None and analyte in complete:
            ax.axhline(
                float(complete[analyte]),
                color="#4d4d4d",
                linestyle="-",
                linewidth=0.8,
                label="resposta completa / complete response",
            )
        _mark_infusions(ax, infusions, numbered=analyte == PANELS[0][0])
        if event_on is not None:
            _mark_onset(ax, event_on, event_label)
        marked = _mark_transfusions(ax, given, TRANSFUSED_ON_PANEL.get(analyte))
        if infusions or marked or event_on is not None or complete is not None:
            ax.legend(loc="upper left", fontsize=6, frameon=False)
        ax.set_ylabel(name, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(True, linewidth=0.3, alpha=0.5)
        ax.set_ylim(bottom=0)
    axes[-1].set_xlabel("Data da coleta / Collection date", fontsize=8)
    figure.autofmt_xdate()
    return figure


def has_troughs(subject: Subject) -> bool:
    """True when the subject has a cyclosporine trough level to draw."""
    return bool(trough_levels(subject))


def trough_svg(subject: Subject, *, width_inches: float = 9.0) -> str:
    """The subject's cyclosporine trough levels over time as an SVG document, the protocol's
    target range shaded and its ends drawn, each MSC infusion a vertical line."""
    course = subject.protocol.cyclosporine
    target = course.trough_target
    figure = _figure(width_inches, 2.6, 100)
    ax: Panel = figure.subplots()
    figure.suptitle(_title(subject), fontsize=10)
    ax.axhspan(
        float(target.low),
        float(target.high),
        color="#fee08b",
        alpha=0.5,
        label=f"alvo / target {target.low}-{target.high} {course.trough_unit}",
    )
    _plot_points(ax, [(day, float(level)) for _, day, level in trough_levels(subject)], "#8c510a")
    infusions = _infusions(subject)
    _mark_infusions(ax, infusions, numbered=True)
    ax.legend(loc="upper left", fontsize=6, frameon=False)
    ax.set_ylabel(f"Ciclosporina, vale / trough ({course.trough_unit})", fontsize=7)
    ax.set_xlabel("Data da coleta / Collection date", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    ax.set_ylim(bottom=0)
    figure.autofmt_xdate()
    return _svg(figure)


def _svg(figure: Figure) -> str:
    """The figure as an SVG document without a creation date."""
    import matplotlib  # imported already: the figure was made by _figure

    buffer = io.StringIO()
    # A fixed salt for the ids matplotlib writes (else random), and text as text (smaller than
    # glyph outlines, and read by a screen reader or a search).
    with matplotlib.rc_context({"svg.hashsalt": "sealtrail", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _title(subject: Subject) -> str:
    title = f"{subject.study_id} {subject.subject_code}"
    if subject.synthetic:
        title += " - DADOS SINTÉTICOS / SYNTHETIC DATA"
    return title


def _infusions(subject: Subject) -> list[tuple[int, date]]:
    """Each MSC infusion's number and day."""
    return [
        (entry["infusion_number"], day)
        for entry in subject.infusions
        if (day := subject.dated_on(entry)) is not None
    ]


def _plot_counts(ax: Panel, counts: list[BloodCount], analyte: str, colour: str) -> None:
    """The analyte's recorded values over time, a point per count."""
    points = [
        (c.collected_on, float(value)) for c in counts if (value := getattr(c, analyte)) is not None
    ]
    if points:
        _plot_points(ax, points, colour)


def _plot_points(ax: Panel, points: list[tuple[date, float]], colour: str) -> None:
    """A line through the points, each marked."""
    ax.plot(
        [d for d, _ in points],
        [v for _, v in points],
        marker="o",
        markersize=3,
        linewidth=1.2,
        color=colour,
    )


def _mark_infusions(ax: Panel, infusions: list[tuple[int, date]], *, numbered: bool) -> None:
    """A vertical line per MSC infusion, numbered above the panel when ``numbered``."""
    for index, (number, day) in enumerate(infusions):
        ax.axvline(
            day,
            color="#762a83",
            linewidth=0.9,
            alpha=0.7,
            label="infusão de MSC / MSC infusion" if index == 0 else None,
        )
        if numbered:
            ax.annotate(
                str(number),
                xy=(day, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2),
                textcoords="offset points",
                fontsize=6,
                color="#762a83",
                ha="center",
                va="bottom",
            )


def _mark_onset(ax: Panel, event_on: date, event_label: str) -> None:
    """The onset of the adverse event the chart is drawn for."""
    ax.axvline(
        event_on,
        color="#e08214",
        linestyle="-.",
        linewidth=1.2,
        label=f"início / onset {event_label}".rstrip(),
    )


def _mark_transfusions(
    ax: Panel, given: list[Transfusion], product: TransfusionProduct | None
) -> list[date]:
    """The panel's transfusions of ``product`` at the foot of the panel; returns their days."""
    marked: list[date] = [t.given_on for t in given if t.product is product]
    if marked:
        ax.plot(
            marked,
            [0.02] * len(marked),
            linestyle="none",
            marker="^",
            markersize=5,
            color="black",
            transform=ax.get_xaxis_transform(),
            label=f"transfusão / transfusion ({product.value if product else ''})",
        )
    return marked
