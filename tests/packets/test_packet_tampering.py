"""A packet verifies offline, and every kind of tampering is caught and named.

Each test changes the demonstration cohort's packet the way someone holding it could: a byte of
a file, an event taken out, a key swapped, a dataset value edited. Where the manifest alone
would catch it, the test also signs the manifest again with the sponsor's own key, to show that
the packet's content is checked against its events, not only against its manifest.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from infrastructure.packets.evidence import (
    CHECKPOINT,
    EVENTS,
    MANIFEST,
    MANIFEST_SIGNATURE,
    PROOFS,
    SERVER_KEY,
)
from infrastructure.packets.verify import PacketFinding, PacketReport, verify_packet
from projections.odm import check_odm_schema
from signatures.keys import generate_private_key, key_id, public_key_to_text
from tests.packets.conftest import BuiltPacket, tampered

AUDIT_CSV = "audit-trail/audit-trail.csv"


def verify(data: bytes, **options: object) -> PacketReport:
    return verify_packet(data, **options)  # type: ignore[arg-type]


def kinds(report: PacketReport, file: str | None = None) -> set[str]:
    return {f.kind for f in report.findings if file is None or f.file == file}


def only(report: PacketReport, kind: str) -> list[PacketFinding]:
    return [f for f in report.findings if f.kind == kind]


def flip(content: bytes) -> bytes:
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]


def event_lines(packet: BuiltPacket) -> list[str]:
    return packet.files()[EVENTS].decode("utf-8").splitlines()


@pytest.mark.requirement("P11-11.10c-2")
def test_a_clean_packet_verifies_every_event_and_every_file(demo_packet: BuiltPacket) -> None:
    report = verify(demo_packet.data)

    assert report.findings == []
    assert report.ok
    assert report.events == len(event_lines(demo_packet)) == report.tree_size
    assert report.files == len(demo_packet.files())
    assert report.signer is not None and report.signer.user_id == "sponsor"


def test_the_verifier_names_each_part_it_checks_as_it_goes(demo_packet: BuiltPacket) -> None:
    stages: list[str] = []

    report = verify_packet(demo_packet.data, redraw_documents=False, progress=stages.append)

    assert report.ok
    assert stages == [
        "manifest",
        "events",
        "witnesses",
        "derived files",
        "datasets",
        "CDISC ODM",
        "audit trail",
        "CONEP reports",
    ]


@pytest.mark.requirement("P11-11.10c-2")
def test_every_event_of_the_store_is_in_the_packet_with_its_proof(
    demo_packet: BuiltPacket,
) -> None:
    files = demo_packet.files()
    events = [json.loads(line) for line in event_lines(demo_packet)]
    proofs = [json.loads(line) for line in files[PROOFS].decode().splitlines()]

    assert [e["leaf_index"] for e in events] == list(range(len(events)))
    assert [p["position"] for p in proofs] == [e["position"] for e in events]
    assert {e["kind"] for e in events} >= {"Screened", "MscInfusionGiven", "EntryCorrected"}
    assert files[CHECKPOINT].decode().splitlines()[1] == str(len(events))


def test_the_packet_holds_every_file_the_issue_names(demo_packet: BuiltPacket) -> None:
    paths = set(demo_packet.files())

    assert {MANIFEST, MANIFEST_SIGNATURE, EVENTS, PROOFS, CHECKPOINT, SERVER_KEY} <= paths
    assert {"log/keys.json", AUDIT_CSV, "audit-trail/audit-trail.json"} <= paths
    assert "odm/NCT01297972.odm.xml" in paths
    assert {f"datasets/{name}.csv" for name in ("DM", "EX", "LB", "AE", "DS")} <= paths
    assert "datasets/data-dictionary.csv" in paths
    assert "conep/progress-report.json" in paths
    assert any(path.startswith("conep/sae/") for path in paths)


@pytest.mark.requirement("P11-11.10c-2")
def test_a_changed_byte_in_every_file_is_caught_and_each_file_named(
    demo_packet: BuiltPacket,
) -> None:
    # Every file but the manifest and its signature changed at once: each file's digest is
    # checked on its own, so each is named (one verification instead of one per file).
    files = [p for p in demo_packet.files() if p not in (MANIFEST, MANIFEST_SIGNATURE)]

    report = verify(tampered(demo_packet, dict.fromkeys(files, flip)))

    assert not report.ok
    assert {f.file for f in only(report, "file-altered")} == set(files)


@pytest.mark.parametrize("path", [MANIFEST, MANIFEST_SIGNATURE])
def test_a_changed_byte_in_the_manifest_or_its_signature_is_caught(
    demo_packet: BuiltPacket, path: str
) -> None:
    report = verify(tampered(demo_packet, {path: flip}))

    # Unreadable, or readable but no longer what the sponsor signed.
    assert not report.ok
    assert kinds(report, MANIFEST) | kinds(report, MANIFEST_SIGNATURE) & {
        "manifest-malformed",
        "manifest-signature-invalid",
    }


def test_a_changed_byte_in_the_manifest_breaks_its_signature(demo_packet: BuiltPacket) -> None:
    manifest = demo_packet.files()[MANIFEST]
    edited = manifest.replace(b'"tree_size":', b'"tree_size": ', 1)

    report = verify(tampered(demo_packet, {MANIFEST: edited}))

    assert "manifest-signature-invalid" in kinds(report, MANIFEST_SIGNATURE)


def test_a_byte_changed_inside_the_zip_names_its_entry(demo_packet: BuiltPacket) -> None:
    with zipfile.ZipFile(io.BytesIO(demo_packet.data)) as archive:
        info = archive.getinfo(AUDIT_CSV)
    # Past the local header (30 bytes, the name and the extra field) into the deflated data.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 100
    data = bytearray(demo_packet.data)
    data[start] ^= 0xFF

    report = verify(bytes(data))

    assert AUDIT_CSV in {f.file for f in report.findings}
    assert kinds(report, AUDIT_CSV) & {"file-unreadable", "file-altered"}


@pytest.mark.requirement("P11-11.10c-2")
def test_a_removed_event_is_caught_even_with_the_manifest_signed_again(
    demo_packet: BuiltPacket,
) -> None:
    lines = event_lines(demo_packet)
    removed = json.loads(lines[500])
    rest = "".join(line + "\n" for index, line in enumerate(lines) if index != 500)

    report = verify(tampered(demo_packet, {EVENTS: rest.encode()}, resign=True))

    missing = only(report, "event-missing")
    assert [(f.file, f.position) for f in missing] == [(EVENTS, removed["position"])]
    assert "leaf 500" in missing[0].detail
    # The subject's next event no longer follows the one before it.
    assert only(report, "version-gap")[0].stream == removed["stream"]
    # The subject cannot even be folded from what is left: nothing derived can be trusted.
    assert "derived-unbuildable" in kinds(report)


def test_the_newest_events_cut_off_are_caught(demo_packet: BuiltPacket) -> None:
    lines = event_lines(demo_packet)
    rest = "".join(line + "\n" for line in lines[:-3])

    report = verify(tampered(demo_packet, {EVENTS: rest.encode()}, resign=True))

    assert len(only(report, "event-missing")) == 3


def test_a_reordered_log_is_caught(demo_packet: BuiltPacket) -> None:
    lines = event_lines(demo_packet)
    lines[700], lines[701] = lines[701], lines[700]

    report = verify(
        tampered(demo_packet, {EVENTS: "".join(x + "\n" for x in lines).encode()}, resign=True)
    )

    assert "log-reordered" in kinds(report, EVENTS)


def test_an_edited_event_value_is_caught_at_its_position(demo_packet: BuiltPacket) -> None:
    lines = event_lines(demo_packet)
    index, line = next(
        (i, json.loads(text)) for i, text in enumerate(lines) if '"BloodCountRecorded"' in text
    )
    state = json.loads(line["state"])
    results = state["results"]
    first = next(iter(results))
    results[first]["_data_"]["value"] = "99.9"
    line["state"] = json.dumps(state, separators=(",", ":"))
    lines[index] = json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    report = verify(
        tampered(demo_packet, {EVENTS: "".join(x + "\n" for x in lines).encode()}, resign=True)
    )

    found = only(report, "content-mismatch")
    assert [(f.position, f.version) for f in found] == [(line["position"], line["version"])]
    assert "derived-mismatch" in kinds(report, AUDIT_CSV)


def test_an_edited_signed_body_fails_its_signature(demo_packet: BuiltPacket) -> None:
    lines = event_lines(demo_packet)
    line = json.loads(lines[900])
    line["signed_body"] = line["signed_body"].replace('"meaning":"', '"meaning":"x', 1)
    lines[900] = json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    report = verify(
        tampered(demo_packet, {EVENTS: "".join(x + "\n" for x in lines).encode()}, resign=True)
    )

    assert {f.position for f in report.findings if f.file == EVENTS} == {line["position"]}
    assert "line-mismatch" in kinds(report, EVENTS)


def test_a_line_unread_one_undecoded_and_one_unlike_its_event_are_named_in_the_log_s_order(
    demo_packet: BuiltPacket,
) -> None:
    # The lines are read, decoded and compared with their events in one pass, a line at a
    # time; the findings still come as a reader expects them: the lines that do not parse,
    # then those whose state does not decode, then each line unlike its event.
    lines = event_lines(demo_packet)
    undecodable, unlike = json.loads(lines[300]), json.loads(lines[600])
    undecodable["state"] = "{not the stored state"
    unlike["kind"] = "Withdrawn"
    lines[300] = json.dumps(undecodable, sort_keys=True, separators=(",", ":"))
    lines[600] = json.dumps(unlike, sort_keys=True, separators=(",", ":"))
    lines[900] = lines[900][:40]

    report = verify(
        tampered(demo_packet, {EVENTS: "".join(x + "\n" for x in lines).encode()}, resign=True)
    )

    named = [
        (f.kind, f.position)
        for f in report.findings
        if f.kind in {"line-malformed", "undecodable", "line-mismatch"}
    ]
    assert named == [
        ("line-malformed", None),
        ("undecodable", undecodable["position"]),
        ("line-mismatch", unlike["position"]),
    ]
    assert only(report, "line-malformed")[0].detail.startswith(f"{EVENTS} line 901 is not JSON")
    stored_kind = json.loads(event_lines(demo_packet)[600])["kind"]
    assert only(report, "line-mismatch")[0].detail == (
        f"the line's kind is 'Withdrawn'; the stored event's is {stored_kind!r}"
    )


def test_a_swapped_server_key_breaks_the_checkpoint_and_the_accounts(
    demo_packet: BuiltPacket,
) -> None:
    impostor = public_key_to_text(generate_private_key().public_key())

    report = verify(tampered(demo_packet, {SERVER_KEY: (impostor + "\n").encode()}, resign=True))

    assert "checkpoint-invalid" in kinds(report, CHECKPOINT)
    assert "server-key-mismatch" in kinds(report, SERVER_KEY)
    # Every event the server signed (its own account, and the accounts it opened at init and
    # for the demonstration) is now signed by a key that is not the packet's server key.
    server_signed = [f for f in report.findings if f.file == EVENTS]
    assert kinds(report, EVENTS) == {"unknown-key"}
    assert all("is not the server's key" in str(f) for f in server_signed)
    assert {1, 2, 3} <= {f.position for f in server_signed}


def test_a_server_key_other_than_the_one_trusted_is_named(demo_packet: BuiltPacket) -> None:
    stranger = key_id(generate_private_key().public_key())

    report = verify(demo_packet.data, trusted_server_key=stranger)

    assert kinds(report) == {"server-key-untrusted"}


def test_the_server_key_the_reader_trusts_passes(demo_packet: BuiltPacket) -> None:
    server_key = demo_packet.files()[SERVER_KEY].decode().strip()

    assert verify(demo_packet.data, trusted_server_key=server_key).ok


def test_a_swapped_key_in_the_key_list_is_caught(demo_packet: BuiltPacket) -> None:
    keys = json.loads(demo_packet.files()["log/keys.json"])
    keys["keys"][1]["public_key"] = public_key_to_text(generate_private_key().public_key())
    edited = (json.dumps(keys, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()

    report = verify(tampered(demo_packet, {"log/keys.json": edited}, resign=True))

    assert kinds(report) == {"derived-mismatch"}
    assert {f.file for f in report.findings} == {"log/keys.json"}


def test_an_edited_dataset_value_is_caught_and_named_with_its_line(
    demo_packet: BuiltPacket,
) -> None:
    rows = demo_packet.files()[AUDIT_CSV].decode("utf-8").split("\r\n")
    rows[40] = rows[40].replace("Demo Coordinator", "Someone Else", 1)
    edited = "\r\n".join(rows).encode("utf-8")

    report = verify(tampered(demo_packet, {AUDIT_CSV: edited}, resign=True))

    assert kinds(report) == {"derived-mismatch"}
    (finding,) = report.findings
    assert finding.file == AUDIT_CSV
    assert "line 41" in finding.detail and "Someone Else" in finding.detail


def test_an_edited_laboratory_value_is_caught_in_the_dataset_and_named(
    demo_packet: BuiltPacket,
) -> None:
    path = "datasets/LB.csv"
    rows = demo_packet.files()[path].decode("utf-8").split("\r\n")
    header = rows[0].split(",")
    cells = rows[5].split(",")
    column = header.index("LBORRES")
    cells[column] = "999"
    rows[5] = ",".join(cells)

    report = verify(tampered(demo_packet, {path: "\r\n".join(rows).encode()}, resign=True))

    assert [(f.kind, f.file) for f in report.findings] == [("derived-mismatch", path)]
    assert "line 6" in report.findings[0].detail


def test_an_edited_odm_audit_record_is_caught(demo_packet: BuiltPacket) -> None:
    path = "odm/NCT01297972.odm.xml"
    edited = demo_packet.files()[path].replace(b"<SourceID>", b"<SourceID>1", 1)

    report = verify(tampered(demo_packet, {path: edited}, resign=True))

    assert [(f.kind, f.file) for f in report.findings] == [("derived-mismatch", path)]


def test_the_odm_file_is_valid_against_the_odm_1_3_2_schema(demo_packet: BuiltPacket) -> None:
    check_odm_schema(demo_packet.files()["odm/NCT01297972.odm.xml"])


def test_a_manifest_signed_by_another_key_is_refused(demo_packet: BuiltPacket) -> None:
    other = BuiltPacket(demo_packet.data, demo_packet.home, generate_private_key())

    report = verify(tampered(other, {}, resign=True))

    assert kinds(report) == {"manifest-signature-invalid"}


def test_an_unlisted_file_and_a_missing_file_are_named(demo_packet: BuiltPacket) -> None:
    report = verify(
        tampered(demo_packet, {"extra/notes.txt": b"trust me\n", "log/keys.json": None})
    )

    assert ("file-unlisted", "extra/notes.txt") in {(f.kind, f.file) for f in report.findings}
    assert ("file-missing", "log/keys.json") in {(f.kind, f.file) for f in report.findings}


def test_a_packet_without_a_manifest_is_named_and_its_log_still_checked(
    demo_packet: BuiltPacket,
) -> None:
    report = verify(tampered(demo_packet, {MANIFEST: None}))

    assert "manifest-missing" in kinds(report)
    assert report.events == len(event_lines(demo_packet))


def test_what_is_not_a_zip_is_one_finding() -> None:
    report = verify(b"this is not a packet")

    assert [(f.kind, f.file) for f in report.findings] == [("packet-unreadable", None)]


def test_an_entry_that_leaves_the_folder_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../outside.txt", b"x")

    report = verify(buffer.getvalue())

    assert kinds(report) == {"packet-unreadable"}
    assert "leaves the packet's folder" in report.findings[0].detail
