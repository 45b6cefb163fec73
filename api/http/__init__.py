"""The HTTP API: the Flask app factory (:mod:`api.http.app`), one flask-smorest blueprint per
resource, bearer tokens, the store opened once per process, and every error answered as
problem+json (:mod:`api.http.problems`). ``wsgi.py`` serves it; it speaks the wire format of
:mod:`api.schemas`, which the console shares, and never imports the console.
"""
