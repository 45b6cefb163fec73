"""The sealed event store: the one save path every event takes, the recorders that write each
event and its Merkle leaf in one transaction on SQLite or PostgreSQL, the Merkle log and its signed
checkpoints, how domain values are encoded in a stored event and read back, the database
connections, locks and outages, the checks ``sealtrail init`` makes of a database, and
``sealtrail backup``.
"""
