"""WSGI entry point for gunicorn: ``gunicorn web.wsgi:app``.

Each worker process imports this after the fork and runs its own job scheduler (unless
``PLUSMA_SCHEDULER_IN_SERVER=off``, when ``plusma worker`` processes run the jobs instead).
"""

from web.app import create_app
from web.server import start_scheduler

app = create_app()
start_scheduler(app)
