"""The WSGI entry point: ``gunicorn 'wsgi:app'`` (``sealtrail serve`` does this for you)."""

from api.http.app import create_app

app = create_app()
