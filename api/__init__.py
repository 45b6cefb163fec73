"""The ways in: the HTTP API (:mod:`api.app`, one blueprint per resource, errors mapped once)
and the console (:mod:`api.cli`).

Kept empty so that a console command imports the console alone, not the web application.
"""
