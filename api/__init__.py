"""The ways in: the HTTP API (:mod:`api.http.app`, one blueprint per resource, errors mapped once)
and the console (:mod:`api.console`).

Kept empty so that a console command imports the console alone, not the web application.
"""
