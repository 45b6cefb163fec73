"""``sealtrail verify`` names a change of each input of a stored event's chain hash (issue 16.13).

The chain hash covers the previous hash, the signed body and the signature (docs/signing.md).
For values Hypothesis draws, one of them is changed in the stored row of RP-101's version 3, as
someone at the database's SQL prompt would, the store is verified, and the row is put back for
the next example. Whatever the new value, the same findings name it: the event itself (its
signature, or its link, and its Merkle leaf, which commits to its chain hash) and the next
event of the subject, which committed to the old chain hash. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure.bootstrap import Store
from signatures.canonical import canonicalize
from tests.conftest import PersonFactory
from tests.integration.test_tamper_evidence import drop_triggers
from tests.integration.test_tamper_suite import (
    RP101,
    Cohort,
    cohort,
    findings_of,
    set_state,
    stored_state,
)

EXAMPLES = settings(
    max_examples=6,
    deadline=None,
    # One store per test, put back after each example: the fixture is meant to be shared.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

quantities = st.from_regex(r"\A[1-9][0-9]?\.[0-9]\Z")


def expected(c: Cohort, first: str) -> list[tuple[int | None, str | None, int | None, str]]:
    """What verify names when version 3's chain hash inputs change: ``first`` at version 3,
    its leaf, and the broken link of version 4."""
    return sorted(
        [
            (c.at(RP101, 3), RP101, 3, first),
            (c.at(RP101, 3), RP101, 3, "leaf-mismatch"),
            (c.at(RP101, 4), RP101, 4, "chain-broken"),
        ]
    )


def with_changed(
    store: Store, change: Any, c: Cohort, first: str
) -> list[tuple[int | None, str | None, int | None, str]]:
    """Verify with version 3's stored state changed by ``change``; then put it back."""
    original = stored_state(store, RP101, 3)
    state = json.loads(original)
    change(state)
    set_state(store, RP101, 3, json.dumps(state).encode())
    try:
        return findings_of(store)
    finally:
        set_state(store, RP101, 3, original)


def test_verify_names_a_change_of_each_input_of_the_chain_hash(
    store: Store, person_in: PersonFactory
) -> None:
    c = cohort(store, person_in)
    drop_triggers(store)
    assert findings_of(store) == []

    honest = json.loads(stored_state(store, RP101, 3))["previous_hash"]

    @EXAMPLES
    @given(new=st.binary(min_size=32, max_size=32).filter(lambda h: h.hex() != honest))
    def previous_hash(new: bytes) -> None:
        def change(state: dict[str, Any]) -> None:
            state["previous_hash"] = new.hex()

        assert with_changed(store, change, c, "chain-broken") == expected(c, "chain-broken")

    @EXAMPLES
    @given(value=quantities.filter(lambda v: v != "7.2"))
    def signed_body(value: str) -> None:
        def change(state: dict[str, Any]) -> None:
            authorship = state["authorship"]["_data_"]
            body = json.loads(authorship["signed_body"])
            body["data"]["results"]["haemoglobin"]["value"] = value
            authorship["signed_body"] = canonicalize(body).decode("utf-8")

        assert with_changed(store, change, c, "signature-invalid") == expected(
            c, "signature-invalid"
        )

    @EXAMPLES
    @given(new=st.binary(min_size=64, max_size=64))
    def signature(new: bytes) -> None:
        def change(state: dict[str, Any]) -> None:
            state["authorship"]["_data_"]["signature"] = base64.b64encode(new).decode("ascii")

        assert with_changed(store, change, c, "signature-invalid") == expected(
            c, "signature-invalid"
        )

    previous_hash()
    signed_body()
    signature()
    assert findings_of(store) == []
