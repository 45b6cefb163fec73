"""The audit trail's PDF with a time-stamping authority: PAdES B-T (its signature time-stamped
by the authority), validated by pyHanko; with the authority down, B-B, never no document."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.console import main
from infrastructure.bootstrap import Store
from infrastructure.documents.certificate import document_signer
from infrastructure.documents.signing import check_pdf_signature
from tests.reports.conftest import SUBJECT, reporter
from tests.tsa import LocalAuthority, running_authority


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAuthority]:
    with running_authority(tmp_path_factory.mktemp("tsa")) as running:
        yield running


def trail_pdf(store: Store, out: Path, tsa_url: str, tsa_certs: Path) -> bytes:
    """``sealtrail report audit-trail --format pdf`` with the authority configured."""
    env = {
        "SEALTRAIL_HOME": str(store.settings.home),
        "SEALTRAIL_DATABASE_URL": store.settings.database_url.render_as_string(False),
        "SEALTRAIL_TSA_URL": tsa_url,
        "SEALTRAIL_TSA_CERTS": str(tsa_certs),
        **reporter(store),
    }
    args = ["report", "audit-trail", "--subject", SUBJECT, "--format", "pdf", "--out", str(out)]
    done = CliRunner().invoke(main, [*args, "--chart-dpi", "40"], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return out.read_bytes()


@pytest.mark.parametrize("followed", ["sqlite"], indirect=True)
def test_the_audit_trail_pdf_is_pades_b_t_with_the_authority_s_time_stamp(
    followed: Store, authority: LocalAuthority, tmp_path: Path
) -> None:
    pdf = trail_pdf(followed, tmp_path / "trail.pdf", authority.url, authority.root_pem)
    signer = document_signer(followed.settings)

    check = check_pdf_signature(pdf, signer, [authority.root])

    assert check.ok and check.timestamped
    # A time-stamp by an authority the reader does not trust is not taken for one.
    with running_authority(tmp_path / "other", "another TSA") as other:
        assert not check_pdf_signature(pdf, signer, [other.root]).timestamped
    # A one-byte change breaks the signature the time-stamp is over.
    start = pdf.index(b"stream", pdf.index(b"/Length")) + len(b"stream\n") + 5
    altered = pdf[:start] + bytes([pdf[start] ^ 0x01]) + pdf[start + 1 :]
    assert not check_pdf_signature(altered, signer, [authority.root]).ok


@pytest.mark.parametrize("followed", ["sqlite"], indirect=True)
def test_with_the_authority_down_the_pdf_is_still_signed_without_a_time_stamp(
    followed: Store, authority: LocalAuthority, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}/tsa"

    pdf = trail_pdf(followed, tmp_path / "trail.pdf", down, authority.root_pem)

    check = check_pdf_signature(pdf, document_signer(followed.settings), [authority.root])
    assert check.ok and not check.timestamped
