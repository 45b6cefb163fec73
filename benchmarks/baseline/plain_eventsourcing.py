"""eventsourcing as it comes, over sealtrail's database settings: what the benchmarks compare to.

The database, driver, pool and lock settings are sealtrail's; a recorder (or mapper,
transcoder...) topic that names one of sealtrail's own classes is dropped, so the application
runs eventsourcing's own. sealtrail's transcodings are registered, so the same Python values
(dates, quantities, enums) are stored the same way.
"""

from __future__ import annotations

import uuid

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from infrastructure.settings import Settings
from infrastructure.transcodings import register_domain_transcodings

SEALTRAIL_PACKAGES = ("api.", "domain.", "infrastructure.", "projections.", "signatures.")


class PlainApplication(Application[uuid.UUID]):
    """A plain eventsourcing application: no signatures, no chain, no receipts."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def plain_env(settings: Settings) -> dict[str, str]:
    """sealtrail's persistence settings without the topics that name sealtrail's own classes."""
    return {
        name: value
        for name, value in settings.eventsourcing_env().items()
        if not (name.endswith("_TOPIC") and value.startswith(SEALTRAIL_PACKAGES))
    }
