"""The process engine: one object that wires the services over one database."""

from __future__ import annotations

from datetime import timedelta

from engine import deadlines
from engine.business_calendar import load_calendar
from engine.clock import Clock
from engine.config import Settings
from engine.notifications import EmailNotifier
from engine.serialization import Serializer
from engine.services.connectors import default_connectors
from engine.services.definitions import DefinitionService, SpecCache
from engine.services.deployments import DeploymentService
from engine.services.external_tasks import ExternalTaskService
from engine.services.history import HistoryService
from engine.services.inbox import InboxService
from engine.services.incidents import IncidentService
from engine.services.instance_store import InstanceStore
from engine.services.instances import InstanceService
from engine.services.job_signal import JobSignal
from engine.services.jobs import JobService
from engine.services.messages import MessageService
from engine.services.sign_in import SignInService
from engine.services.tasks import TaskService
from engine.services.users import UserService
from engine.storage.database import Database


class ProcessEngine:
    """Entry points (REST API, CLI, tests) reach every capability through this."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, notifier: EmailNotifier | None = None
    ) -> None:
        self.settings = settings
        # A bad calendar file stops the start, with the file and entry named.
        deadlines.use_calendar(load_calendar(settings.calendar_file))
        self.clock = clock or Clock()
        self.db = Database(settings.database_url, pool_size=settings.pool_size)
        self.serializer = Serializer()
        self.specs = SpecCache(self.db, self.serializer, settings.spec_cache_size)
        #: Wakes this process's scheduler when a commit schedules a job.
        self.job_signal = JobSignal()
        store = InstanceStore(self.serializer, self.specs, job_retries=settings.job_retries, signal=self.job_signal)
        self.definitions = DefinitionService(self.db)
        self.deployments = DeploymentService(
            self.db, self.serializer, self.specs, self.clock, job_retries=settings.job_retries, signal=self.job_signal
        )
        self.instances = InstanceService(self.db, store, self.serializer, self.clock)
        self.tasks = TaskService(self.db, store, self.definitions, self.serializer, self.clock)
        self.incidents = IncidentService(self.db)
        self.messages = MessageService(self.db, store, self.serializer, self.clock)
        store.message_router = self.messages.route_thrown
        self.jobs = JobService(
            self.db,
            store,
            self.serializer,
            self.clock,
            lease=timedelta(seconds=settings.job_lease_seconds),
            retry_delay=timedelta(seconds=settings.job_retry_delay_seconds),
            connectors=default_connectors(notifier or EmailNotifier.from_env()),
        )
        #: Camunda's external tasks: workers fetch, lock and complete the work of external service tasks.
        self.external_tasks = ExternalTaskService(self.db, store, self.serializer, self.clock)
        store.on_external_tasks = self.external_tasks.notify_available
        self.history = HistoryService(self.db)
        self.users = UserService(self.db, settings.auth_cache_seconds)
        self.sign_in = SignInService(self.db, self.users, self.clock)
        self.inbox = InboxService(self.db, self.clock)

    def close(self) -> None:
        self.db.dispose()
