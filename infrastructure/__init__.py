"""Where the domain meets storage: the eventsourcing application and what it stands on, in
drawers by what they are about: :mod:`.store` (the sealed event store, its recorders and the
Merkle log), :mod:`.identity` (credentials, keys, the authentication log), :mod:`.views` (view
tables, the projections runner, replay), :mod:`.verification` (``sealtrail verify``),
:mod:`.documents` (PDF reports) and :mod:`.packets` (the submission packet)."""
