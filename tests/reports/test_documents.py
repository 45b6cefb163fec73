"""Signed PDFs: the signature validates with pyHanko and fails after a one-byte change; every
page renders to something; the cover ties the paper to the log."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy
import pypdfium2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from infrastructure.bootstrap import Store
from infrastructure.documents import charts
from infrastructure.documents.certificate import CERTIFICATE_FILE, document_signer
from tests.reports.conftest import CHART_DPI, SUBJECT, report


@pytest.fixture(scope="module")
def trail_pdf(followed: Store, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("pdf") / "trail.pdf"
    done = report(
        followed,
        "audit-trail",
        "--subject",
        SUBJECT,
        "--format",
        "pdf",
        "--out",
        str(out),
        "--chart-dpi",
        str(CHART_DPI),
    )
    assert done.exit_code == 0, done.output
    assert done.stdout == f"{out}\n"
    # off a terminal, at most a progress line every few seconds
    assert all(line.startswith("audit trail: ") for line in done.stderr.splitlines())
    return out.read_bytes()


@pytest.fixture(scope="module")
def sae_pdf(followed: Store, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("pdf") / "sae.pdf"
    done = report(
        followed, "conep-sae", "--event", f"{SUBJECT}/AE-01", "--out", str(out), "--chart-dpi", "40"
    )
    assert done.exit_code == 0, done.output
    assert done.stdout == f"{out}\n"
    return out.read_bytes()


@pytest.fixture(scope="module")
def progress_pdf(followed: Store, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("pdf") / "progress.pdf"
    done = report(followed, "conep-progress", "--final", "--out", str(out))
    assert done.exit_code == 0, done.output
    return out.read_bytes()


def validate(pdf: bytes, certificate_file: Path) -> tuple[bool, bool]:
    """pyHanko's own verdict: (intact and valid, trusted) against the server's certificate."""
    certificate = load_cert_from_pemder(str(certificate_file))
    (signature,) = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[certificate]))
    return status.intact and status.valid, status.trusted


def flip_a_byte_of_a_stream(pdf: bytes) -> bytes:
    """One bit of the first content stream changed: the file still parses, its hash does not."""
    start = pdf.index(b"stream", pdf.index(b"/Length")) + len(b"stream\n") + 5
    return pdf[:start] + bytes([pdf[start] ^ 0x01]) + pdf[start + 1 :]


def page_texts(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def page_images(pdf: bytes) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf)
    return [document[i].render(scale=0.6).to_pil().convert("RGB") for i in range(len(document))]


def ink(image: Image.Image) -> float:
    """The share of the page that is not white."""
    grey = image.convert("L")
    histogram = grey.histogram()
    return 1 - sum(histogram[250:]) / (grey.width * grey.height)


def reddish(image: Image.Image) -> int:
    """How many pixels are red-dominated (the haemoglobin line, anti-aliased or not)."""
    pixels = numpy.asarray(image, dtype=numpy.int16)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(((red > green + 60) & (red > blue + 50)).sum())


@pytest.mark.requirement("P11-11.10b-2")
@pytest.mark.parametrize("which", ["trail_pdf", "sae_pdf", "progress_pdf"])
def test_each_pdf_is_signed_and_validates_against_the_servers_certificate(
    followed: Store, which: str, request: pytest.FixtureRequest
) -> None:
    pdf: bytes = request.getfixturevalue(which)

    assert validate(pdf, followed.settings.keys_dir / CERTIFICATE_FILE) == (True, True)


@pytest.mark.requirement("P11-11.10b-2")
def test_a_one_byte_change_breaks_the_signature(followed: Store, trail_pdf: bytes) -> None:
    altered = flip_a_byte_of_a_stream(trail_pdf)

    assert altered != trail_pdf
    intact, _ = validate(altered, followed.settings.keys_dir / CERTIFICATE_FILE)
    assert not intact


@pytest.mark.requirement("P11-11.10b-2")
def test_the_cover_names_the_checkpoint_and_the_certificate(
    followed: Store, trail_pdf: bytes
) -> None:
    cover = " ".join(page_texts(trail_pdf)[0].split())
    # The log grows after the PDF is made (sign-ins are events), so the checkpoint the cover
    # names is looked up by the size it prints, then its root and signer are compared.
    printed = re.search(r"Tree size (\d+)", cover)
    assert printed is not None, cover
    checkpoint = followed.app.checkpoints.at_size(int(printed[1]))
    assert checkpoint is not None

    assert base64.b64encode(checkpoint.root).decode() in cover.replace(" ", "")
    assert followed.app.checkpoints.origin in cover
    assert document_signer(followed.settings).fingerprint in cover.replace(" ", "")


@pytest.mark.requirement("P11-11.10b-1")
def test_every_page_of_every_pdf_renders_and_is_not_blank(
    trail_pdf: bytes, sae_pdf: bytes, progress_pdf: bytes
) -> None:
    for pdf in (trail_pdf, sae_pdf, progress_pdf):
        pages = page_images(pdf)
        assert pages
        assert all(ink(page) > 0.005 for page in pages)


def test_the_subjects_pdfs_show_its_chart(
    trail_pdf: bytes, sae_pdf: bytes, progress_pdf: bytes
) -> None:
    # The haemoglobin line is drawn in one red; nothing else on these pages is.
    assert max(reddish(page) for page in page_images(trail_pdf)) > 50
    assert max(reddish(page) for page in page_images(sae_pdf)) > 50
    assert max(reddish(page) for page in page_images(progress_pdf)) < 50


def test_the_chart_is_a_png_of_the_asked_resolution(followed: Store) -> None:
    subject = followed.app.find_subject(f"NCT01297972/{SUBJECT}")
    assert subject is not None

    png = charts.blood_count_chart(subject, dpi=40)

    image = Image.open(io.BytesIO(png))
    assert png.startswith(b"\x89PNG") and image.size == (360, 264)


def test_the_document_certificate_is_ecdsa_p256_kept_private_and_made_once(followed: Store) -> None:
    first = document_signer(followed.settings)
    second = document_signer(followed.settings)

    assert isinstance(first.private_key, ec.EllipticCurvePrivateKey)
    assert first.private_key.curve.name == "secp256r1"
    assert first.fingerprint == second.fingerprint
    assert first.path.stat().st_mode & 0o777 == 0o600
    public = (followed.settings.keys_dir / CERTIFICATE_FILE).read_bytes()
    assert public == first.certificate.public_bytes(serialization.Encoding.PEM)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", first.fingerprint)


def test_the_sae_notification_pdf_is_in_portuguese_with_english_beside(sae_pdf: bytes) -> None:
    text = " ".join(" ".join(page_texts(sae_pdf)).split())

    assert "Notificação de evento adverso grave / Serious adverse event notification" in text
    assert "Critérios de gravidade / Seriousness criteria" in text
    assert "MSC-2011-014" in text


def test_the_progress_pdf_labels_deaths_in_both_languages(progress_pdf: bytes) -> None:
    text = " ".join(" ".join(page_texts(progress_pdf)).split())

    assert "Óbitos / Deaths" in text
    assert "Relatório final / Final report" in text
    assert "CONEP 16119" in text
