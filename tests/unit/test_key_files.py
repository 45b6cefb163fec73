"""The store's secret files: private, never overwritten, made once however many make them."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from infrastructure.errors import StoreNotInitialised
from infrastructure.identity.key_files import read_key, write_private, write_private_once
from signatures.keys import generate_private_key, private_key_from_pem, private_key_to_pem


def _make_secret(path_and_content: tuple[str, bytes]) -> bytes:
    path, content = path_and_content
    write_private_once(Path(path), lambda: content)
    return Path(path).read_bytes()


@pytest.mark.requirement("P11-11.300e-1")
def test_a_private_file_is_for_its_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "secret"

    write_private(path, b"first")

    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_private(path, b"second")
    assert path.read_bytes() == b"first"


def test_processes_making_one_secret_at_once_all_keep_the_first(tmp_path: Path) -> None:
    path = tmp_path / "token-secret"
    contents = [f"secret of process {n}".encode() for n in range(6)]

    with multiprocessing.get_context("spawn").Pool(3) as pool:
        seen = pool.map(_make_secret, [(str(path), content) for content in contents])

    assert len(set(seen)) == 1
    assert seen[0] in contents
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["token-secret"]  # no draft left behind


def test_a_secret_that_exists_is_not_made_again(tmp_path: Path) -> None:
    path = tmp_path / "token-secret"
    write_private(path, b"kept")

    write_private_once(path, lambda: pytest.fail("made again"))

    assert path.read_bytes() == b"kept"


def test_a_key_is_read_and_parsed(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "key.pem"
    write_private(path, private_key_to_pem(key))

    read = read_key(path, private_key_from_pem, name="test key", missing="no test key")

    assert private_key_to_pem(read) == private_key_to_pem(key)


@pytest.mark.requirement("P11-11.300e-1")
def test_a_missing_key_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StoreNotInitialised, match=r"^no test key: run init$"):
        read_key(
            tmp_path / "absent.pem",
            private_key_from_pem,
            name="test key",
            missing="no test key: run init",
        )


@pytest.mark.requirement("P11-11.300e-1")
def test_an_unreadable_key_names_the_key_and_its_file(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_private(path, b"not a key")

    with pytest.raises(StoreNotInitialised, match=r"^the test key at .*key\.pem is unreadable: "):
        read_key(path, private_key_from_pem, name="test key", missing="no test key")
