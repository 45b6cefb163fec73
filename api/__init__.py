"""The ways in, side by side, none importing another's: the HTTP API (:mod:`api.http`, its app
factory served by ``wsgi.py``) and the console (:mod:`api.console`, ``sealtrail``); the web
pages will be a third. Both speak the wire format of :mod:`api.schemas`; the demonstration
cohort (:mod:`api.demonstration`) goes through it too, and only the console runs it.

Kept empty so that a console command imports the console alone, not the web application.
"""
