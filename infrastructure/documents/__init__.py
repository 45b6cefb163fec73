"""Documents the store issues on paper: PDF rendering, charts, and PAdES signatures.

- :mod:`.certificate`: the server's document-signing key and self-signed X.509 certificate,
  made under ``$SEALTRAIL_HOME/keys`` on first need.
- :mod:`.charts`: a subject's blood counts over time (matplotlib, Agg backend).
- :mod:`.pdf`: a small block layout (headings, labelled fields, tables, images) drawn with
  reportlab.
- :mod:`.signing`: PAdES signatures with pyHanko, and their validation.
- :mod:`.reports`: the audit trail and CONEP reports, assembled from the store.
"""
