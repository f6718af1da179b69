"""A one-thread web process for tests/integration/test_faults.py: the production settings and
WSGI application behind wsgiref, which, like a gunicorn sync worker, serves every request on
one thread and so reuses one database connection (CONN_MAX_AGE) from request to request.

python -m tests.integration.web_server PORT
"""

import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


if __name__ == "__main__":
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1", int(sys.argv[1]), get_wsgi_application(), handler_class=QuietHandler
    )
    print("ready", flush=True)
    server.serve_forever()
