"""benchmarks/scale.py refuses, in one line and with exit code 2, to build on what it did not
make or to resume a store whose database is gone, and touches nothing when it does. (Its run
itself takes hours at ten million events and is not part of the suite:
docs/benchmarks-scale.md.)"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from benchmarks import scale
from tests.conftest import require_postgres
from tests.postgres import conninfo

pytestmark = pytest.mark.postgres


def run_scale(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = scale.main(["--postgres-url", require_postgres(), *args])
    return code, capsys.readouterr().err.splitlines()


def test_a_database_it_did_not_make_is_left_alone(
    postgres_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_url(postgres_database)
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("CREATE TABLE someone_elses (value int)")
        connection.execute("INSERT INTO someone_elses VALUES (7)")
    home = tmp_path / "home"

    code, err = run_scale(capsys, "--database", str(url.database), "--home", str(home))

    assert code == 2
    assert len(err) == 1 and "not a store this benchmark made" in err[0]
    assert not home.exists()
    with psycopg.connect(conninfo(url)) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        assert tables == [("someone_elses",)]
        assert connection.execute("SELECT value FROM someone_elses").fetchall() == [(7,)]


def test_a_home_whose_database_is_gone_is_not_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    manifest = home / "bench-manifest.json"
    manifest.write_text('{"per_subject": 1000, "subjects": 40, "sites": 10}')
    missing = f"sealtrail_scale_gone_{tmp_path.name[-12:].lower()}"

    code, err = run_scale(capsys, "--database", missing, "--home", str(home))

    assert code == 2
    assert len(err) == 1 and "which is gone" in err[0]
    assert [path.name for path in home.iterdir()] == ["bench-manifest.json"]
    assert manifest.read_text() == '{"per_subject": 1000, "subjects": 40, "sites": 10}'
    with psycopg.connect(conninfo(make_url(require_postgres()))) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (missing,)
        ).fetchall()
        assert found == []


def test_an_unreachable_server_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    code = scale.main(
        [
            "--postgres-url",
            "postgresql+psycopg://postgres@127.0.0.1:1/postgres",
            "--home",
            str(home),
        ]
    )

    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert len(err) == 1 and "PostgreSQL cannot be reached" in err[0]
    assert not home.exists()
