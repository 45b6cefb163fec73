"""The sponsor's regulatory submission packet: built from the store, verified without it.

A packet is a zip whose every file is listed, with its SHA-256, in a manifest signed by the
sponsor's key. Its evidence is the log itself (every event as stored and as its author signed
it, every key with its validity, the latest checkpoint and an inclusion proof per event); every
other file (CDISC ODM, SDTM-shaped datasets, the Part 11 audit trail, the CONEP reports) is
derived from that evidence by the same functions at build time and at verification time, so a
verifier recomputes them and compares bytes.

- :mod:`.evidence`: the files of the log, line by line, and how they are read back;
- :mod:`.contents`: the derived files, from the events alone;
- :mod:`.archive`: the reproducible zip and the signed manifest;
- :mod:`.build`: reading the store into a packet;
- :mod:`.verify`: checking a packet offline (no database, no server).
"""
