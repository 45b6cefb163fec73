"""Installation qualification (IQ): ``sealtrail check-install``'s checks of an installation,
each a line (its name, PASS, WARN, FAIL or SKIP, and what was found), and the signed record of a
run (docs/validation/installation-qualification.md).

The checks read; they change nothing in the store. In particular they never open the store
through :func:`infrastructure.bootstrap.open_store`, which installs the append-only triggers
again: a trigger someone dropped would then be back before it was looked for.
"""
