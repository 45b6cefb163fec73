"""The common passwords a person may not choose (NIST SP 800-63B 5.1.1.2: a new password is
compared with "values known to be commonly-used, expected, or compromised").

The list is Django's (``common-passwords.txt.gz``, 19,640 passwords, by Royce Williams from
leaked password sets; BSD-3-Clause, see ``LICENSE-django.txt`` beside it), shipped unchanged as
package data: no network is needed to check a password, and the list reviewed is the one used.

Since sealtrail's passwords have at least 12 characters, a common password is rarely chosen
as it is, but often padded to the length (``password1234``, ``!!qwertyuiop``): a password whose
letters between leading and trailing digits, spaces and punctuation are a listed password is
refused too.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib.resources import files

LIST_FILE = "common-passwords.txt.gz"
PADDING = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
"""What is stripped from either end of a password before it is compared again."""
MINIMUM_CORE = 4
"""A shorter core (``abc`` in ``123abc456789``) is not compared: it would refuse too much."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The listed passwords, lower case (read once, on first need)."""
    data = files(__package__).joinpath(LIST_FILE).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def is_common(password: str) -> bool:
    """True when ``password`` is a listed one, ignoring case, or one padded with digits,
    spaces or punctuation at either end."""
    listed = common_passwords()
    normalised = password.strip().lower()
    if normalised in listed:
        return True
    core = normalised.strip(PADDING)
    return len(core) >= MINIMUM_CORE and core in listed
