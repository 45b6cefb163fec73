"""benchmarks/scale.py refuses, in one line and with exit code 2, to build on what it did not
make (a database, or a home it would remove at the end), to resume a store whose database is
gone or with another store's home, and touches nothing when it does. (Its run
itself takes hours at ten million events and is not part of the suite:
docs/benchmarks-scale.md.)"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from benchmarks import scale
from tests.conftest import require_postgres
from tests.postgres import conninfo

pytestmark = pytest.mark.postgres


def run_scale(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    # The smallest store it builds: were a refusal lost, the test would not run for hours.
    code = scale.main(["--postgres-url", require_postgres(), "--events", "10000", *args])
    return code, capsys.readouterr().err.splitlines()


def database_exists(name: str) -> bool:
    with psycopg.connect(conninfo(make_url(require_postgres()))) as connection:
        return bool(
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchall()
        )


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
    missing = f"sealtrail_scale_gone_{uuid.uuid4().hex[:12]}"
    (home / "bench-database").write_text(missing)

    code, err = run_scale(capsys, "--database", missing, "--home", str(home))

    assert code == 2
    assert len(err) == 1 and "which is gone" in err[0]
    assert sorted(path.name for path in home.iterdir()) == ["bench-database", "bench-manifest.json"]
    assert manifest.read_text() == '{"per_subject": 1000, "subjects": 40, "sites": 10}'
    assert not database_exists(missing)


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


def test_a_home_holding_other_files_is_not_taken_and_no_database_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A run that ends removes its home: a folder of someone else's files must never become one.
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    database = f"sealtrail_scale_new_{uuid.uuid4().hex[:12]}"

    code, err = run_scale(capsys, "--database", database, "--home", str(home))

    assert code == 2
    assert len(err) == 1 and "holds files this benchmark did not make" in err[0]
    assert [path.name for path in home.iterdir()] == ["thesis.tex"]
    assert (home / "thesis.tex").read_text() == "years of work"
    assert not database_exists(database)


def test_the_home_of_another_databases_store_is_not_resumed_on_this_one(
    postgres_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "bench-manifest.json").write_text('{"per_subject": 1000, "subjects": 40}')
    (home / "bench-database").write_text("sealtrail_scale_elsewhere")
    database = str(make_url(postgres_database).database)

    code, err = run_scale(capsys, "--database", database, "--home", str(home))

    assert code == 2
    assert len(err) == 1 and "holds the store of database sealtrail_scale_elsewhere" in err[0]
    assert (home / "bench-database").read_text() == "sealtrail_scale_elsewhere"
    with psycopg.connect(conninfo(make_url(postgres_database))) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        assert tables == []


@pytest.mark.parametrize("name", ['x"; DROP DATABASE test; --', "Upper", "a" * 51, ""])
def test_a_database_name_that_is_not_plain_is_refused_before_anything(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    with pytest.raises(SystemExit) as exited:
        scale.main(["--database", name, "--home", str(home)])

    assert exited.value.code == 2
    assert "--database must be lower-case letters" in capsys.readouterr().err
    assert not home.exists()
