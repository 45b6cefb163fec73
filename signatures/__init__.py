"""Pure functions over bytes: canonical form, Ed25519 authorship, the per-subject hash chain.

Nothing here touches a database, a network or a framework, so an auditor can run exactly this
code on a laptop against exported events and get the same answers the server got.
"""
