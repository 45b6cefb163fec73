"""The receipt of a site's own copy of its data (issue 18, point 8).

A site's investigator takes a copy of the site's data whenever they choose and at close-out, so
that the sponsor never holds it alone (ICH E6(R3); the EMA guideline on computerised systems,
2023). Taking it is recorded as a signed event of the investigator's account,
``Account.SiteCopyReceived``: which site, the zip's SHA-256 and the checkpoint it was built at.
"""

from __future__ import annotations

import base64
import binascii
import re

from domain.errors import SiteCopyReceiptInvalid

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_site_copy_receipt(packet_sha256: str, tree_size: int, root: str) -> None:
    """A receipt names a packet by its SHA-256 and a checkpoint by its size and root.

    Raises:
        SiteCopyReceiptInvalid: any of them not as written.
    """
    if not SHA256_HEX.fullmatch(packet_sha256):
        raise SiteCopyReceiptInvalid(
            "the packet's SHA-256 must be 64 lowercase hexadecimal digits, not %(packet_sha256)r",
            packet_sha256=packet_sha256,
        )
    if isinstance(tree_size, bool) or not 1 <= tree_size <= 2**63 - 1:
        raise SiteCopyReceiptInvalid(
            "a checkpoint's tree size is at least 1, not %(tree_size)s", tree_size=tree_size
        )
    try:
        decoded = base64.b64decode(root, validate=True)
    except binascii.Error:
        decoded = b""
    if len(decoded) != 32:
        raise SiteCopyReceiptInvalid(
            "a checkpoint's root is 32 bytes in base64, not %(root)r", root=root
        )
