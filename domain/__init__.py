"""The trial's domain: aggregates, their events and the protocol rules they keep.

Imports only the standard library, eventsourcing's domain module and the pure functions of
``signatures`` (for the chain hash). No web, database or schema framework.
"""
