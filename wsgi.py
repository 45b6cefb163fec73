"""The WSGI entry point: ``gunicorn 'wsgi:app'`` (``sealtrail serve`` does this for you)."""

from api.app import create_app

app = create_app()
