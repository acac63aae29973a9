"""The composition root: opens, wires, starts and closes every service in one visible order.

``open_services`` runs the ``init_*`` steps below in order, each building one part and
wiring it to what came before (MQTT handlers on the centre's one link, periodic jobs on the
one scheduler, incident-change listeners). Nothing connects or runs yet, so every handler is
registered before the first message can arrive. ``start_core`` then starts the scheduler and
connects the link (``start_jobs``, ``start_mqtt``). Every step that opens or subscribes
something registers its undo on the container, and ``Services.close`` runs them in reverse:
the link stops first (no new messages), then the jobs, the MQTT routes and dispatch, the
stream's listeners, ingest (drains what it holds), the incident notifier, and the database
last (docs/architecture.md lists the steps).

Only this module knows every service; ``app.py`` only knows every router.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlite_utils.migrations import Migrations

from protocol import Channel, Topics

from . import population
from .approvals import permissions as approvals_permissions
from .approvals import schema as approvals_schema
from .approvals.service import ApprovalsService
from .camrules import permissions as camrules_permissions
from .camrules import schema as camrules_schema
from .camrules.model_store import ModelStore
from .camrules.service import CamRulesService
from .container import Services
from .dispatch import permissions as dispatch_permissions
from .dispatch import schema as dispatch_schema
from .dispatch.service import DispatchService
from .enrolment import permissions as enrolment_permissions
from .enrolment import schema as enrolment_schema
from .enrolment.lifecycle import LifecycleService
from .enrolment.service import EnrolmentService, open_enrolment
from .fleet import permissions as fleet_permissions
from .fleet import schema as fleet_schema
from .fleet import snapshots
from .fleet.alert_groups import DownGrouping
from .fleet.owners import OwnerService
from .fleet.service import FleetService
from .fraud import permissions as fraud_permissions
from .fraud import schema as fraud_schema
from .fraud.service import FraudService
from .geo import permissions as geo_permissions
from .geo import schema as geo_schema
from .geo.service import GeoService
from .hall import permissions as hall_permissions
from .hall import schema as hall_schema
from .hall.catalogue import load as load_hall_catalogue
from .hall.service import HallService
from .hotline import permissions as hotline_permissions
from .hotline import schema as hotline_schema
from .hotline.service import HotlineService
from .hotline.service import load_catalogue as load_hotline_catalogue
from .identity import permissions as identity_permissions
from .identity import schema as identity_schema
from .identity.audit import AuditKey, AuditService
from .identity.auth import AuthService
from .identity.permissions import Declaration, Role
from .identity.permissions import role_matrix as merge_role_matrix
from .identity.throttle import LoginThrottle, ThrottlePolicy
from .identity.tickets import StreamTickets
from .incidents import permissions as incidents_permissions
from .incidents import schema as incidents_schema
from .incidents.evidence import EvidenceExporter
from .incidents.merge import rules_from
from .incidents.service import IncidentService
from .incidents.triage import Triage
from .incidents.tuning import TuningService
from .ingest import schema as ingest_schema
from .ingest.service import CHANNELS as INGEST_CHANNELS
from .ingest.service import IngestService, purge_raw_events
from .platform import filestore, integrity
from .platform.db import Database
from .platform.filestore import FileStore
from .platform.hub import StreamHub
from .platform.jobs import Jobs
from .platform.mqtt import MqttLink
from .population import permissions as population_permissions
from .settings import Settings, SettingsError
from .staff import permissions as staff_permissions
from .staff.service import StaffService

Closers = list[tuple[str, Callable[[], object]]]


def permission_declarations() -> list[Declaration]:
    """Every domain's permissions (each domain's ``permissions.py``; domains append theirs)."""
    return [
        identity_permissions.DECLARATION,
        approvals_permissions.DECLARATION,
        staff_permissions.DECLARATION,
        geo_permissions.DECLARATION,
        fleet_permissions.DECLARATION,
        incidents_permissions.DECLARATION,
        dispatch_permissions.DECLARATION,
        enrolment_permissions.DECLARATION,
        population_permissions.DECLARATION,
        fraud_permissions.DECLARATION,
        camrules_permissions.DECLARATION,
        hall_permissions.DECLARATION,
        hotline_permissions.DECLARATION,
    ]


def role_matrix() -> dict[Role, frozenset[str]]:
    """The one role matrix identity enforces, merged from every domain's declarations."""
    return merge_role_matrix(permission_declarations())


def migration_sets() -> list[Migrations]:
    """Every domain's migrations, in dependency order (domains append theirs here)."""
    return [
        identity_schema.auth,
        identity_schema.audit,
        identity_schema.access,
        approvals_schema.migrations,
        filestore.migrations,
        fleet_schema.fleet,
        ingest_schema.migrations,
        incidents_schema.incidents,
        incidents_schema.tuning,
        population.migrations,
        fraud_schema.migrations,
        enrolment_schema.migrations,
        geo_schema.migrations,
        dispatch_schema.migrations,
        fleet_schema.snapshots,
        camrules_schema.migrations,
        hall_schema.migrations,
        hotline_schema.migrations,
    ]


def open_services(settings: Settings, *, init: bool = False) -> Services:
    """Open the database, apply migrations, build and wire every service (nothing started).

    ``init`` creates a new database where one was in use (``coordinator init``/``--init``).
    On a failure half-way, what was already opened is closed again before the error
    propagates.
    """
    closers: Closers = []
    try:
        return _build(settings, closers, init)
    except BaseException:
        Services.close_all(closers)
        raise


def _build(settings: Settings, closers: Closers, init: bool = False) -> Services:
    """The ``init_*`` steps, in order; each appends its undo to ``closers``."""
    db = init_database(settings, closers, init=init)
    auth_svc, audit_svc = init_identity(settings, db)
    throttle, tickets = init_access(settings, db, auth_svc)
    # A clean shutdown signs the audit chain's head, so no entry waits for the next start.
    closers.append(("audit checkpoint", audit_svc.checkpoint))
    topics = Topics(settings.topic_root)
    link = MqttLink(settings, topics)  # connects only in start_mqtt
    jobs = Jobs()  # runs only from start_jobs
    fleet, incidents, tuning = init_incidents(settings, db, topics, link, closers)
    camrules = init_camrules(db, topics, link, fleet, incidents, tuning, settings)
    ingest = init_ingest(settings, db, fleet, incidents, link, closers)
    # The owners' agreements: every event stamped on ingest, every frame request checked.
    owners = OwnerService(db, fleet, utc_offset_h=settings.alarms.utc_offset_h)
    ingest.share = owners.level
    stream = init_stream(fleet, incidents, closers)
    approvals, staff = init_approvals(db, auth_svc, audit_svc, closers)
    pop = population.PopulationService(db, audit_svc, settings, approvals=approvals)
    for kind in pop.approval_kinds():
        closers.append((f"approval kind {kind.name}", approvals.register(kind)))
    closers.append(("population imports", pop.uploads.close))  # stopped at a chunk boundary
    # Warnings go out on the centre's one MQTT link (retained board for market displays).
    # Its warnings' second investigator approves through the one approvals service; tips'
    # attachments are kept in the centre's encrypted file store.
    files = FileStore(db, settings.data_dir / "files", settings.data_key, audit_svc)
    fraud = FraudService(db, audit_svc, link, approvals=approvals, files=files)
    for kind in fraud.desk.kinds():
        closers.append((f"approval kind {kind.name}", approvals.register(kind)))
    hall, hotline = init_hall(settings, db, audit_svc, pop, files)
    geo, dispatch = init_dispatch(settings, db, incidents, link, closers)
    init_centres(db, geo, fleet, incidents, dispatch, pop, closers)
    # A board may never take a patrol unit's name (one client-id namespace on the broker).
    enrolment = open_enrolment(
        settings,
        db,
        audit_svc,
        fleet=lambda: fleet,
        taken_names=lambda: list(dispatch.units.units),
        placement=geo.placement_problem,
    )
    lifecycle = init_lifecycle(enrolment)
    snaps = init_snapshots(settings, db, audit_svc, topics, link, closers)
    snaps.owners = owners
    services = Services(
        settings=settings,
        db=db,
        auth=auth_svc,
        audit=audit_svc,
        mqtt=link,
        jobs=jobs,
        fleet=fleet,
        incidents=incidents,
        tuning=tuning,
        ingest=ingest,
        stream=stream,
        population=pop,
        fraud=fraud,
        hall=hall,
        hotline=hotline,
        geo=geo,
        dispatch=dispatch,
        snapshots=snaps,
        owners=owners,
        camrules=camrules,
        evidence=EvidenceExporter(db, audit_svc, owners),
        throttle=throttle,
        tickets=tickets,
        approvals=approvals,
        staff=staff,
        enrolment=enrolment,
        lifecycle=lifecycle,
        closers=closers,
    )
    init_jobs(services)
    return services


def init_hall(
    settings: Settings,
    db: Database,
    audit: AuditService,
    pop: population.PopulationService,
    files: FileStore,
) -> tuple[HallService, HotlineService]:
    """The foreigners' service hall (its documents in the encrypted file store) and the
    service hotline; both encrypt with the population data key."""
    hall = HallService(db, audit, pop.ctx.keyring, files, load_hall_catalogue())
    hotline = HotlineService(db, audit, pop.ctx.keyring, load_hotline_catalogue())
    return hall, hotline


def init_database(settings: Settings, closers: Closers, *, init: bool = False) -> Database:
    """Check the file (in use before? shut down cleanly? sound?), open it and apply every
    domain's migrations (``platform/integrity.py``)."""
    problem = settings.database_problem()
    if problem:
        raise SettingsError(problem)
    path = settings.db_path
    state = integrity.prepare(path, init=init, allow_fresh=settings.dev_mode)
    if state.unclean:
        problems = Database(path).quick_check()
        integrity.record_check(path, problems, reason="start after an unclean shutdown")
        if problems:
            raise integrity.DatabaseMissing(
                f"database {path} is damaged ({problems[0]}): restore the last backup "
                "(coordinator restore BACKUP) before starting"
            )
    db = Database(path).open()
    flag = integrity.RunFlag(path)

    def close() -> None:
        db.close()
        flag.clear()

    closers.append(("database", close))
    applied = _applied_migrations(db)
    db.migrate(*migration_sets())
    if _applied_migrations(db) != applied:
        # A migration may have scrubbed personal data: no old page image stays in the WAL.
        db.truncate_wal()
    return db


def _applied_migrations(db: Database) -> int:
    """How many migrations the database records (sqlite-utils' bookkeeping table)."""
    if not db.columns("_sqlite_migrations"):
        return 0
    return int(db.query("select count(*) n from _sqlite_migrations")[0]["n"])


def init_identity(settings: Settings, db: Database) -> tuple[AuthService, AuditService]:
    """Users, sessions and roles; the audit log."""
    auth_svc = AuthService(
        db,
        settings.secret_key,
        settings.token_ttl_s,
        role_permissions=role_matrix(),
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
    )
    key = AuditKey(settings.audit_key_path)
    key.private()  # created (0600) on the first start, so checkpoints can always be signed
    return auth_svc, AuditService(db, key)


def init_access(
    settings: Settings, db: Database, auth_svc: AuthService
) -> tuple[LoginThrottle, StreamTickets]:
    """Login throttling by client address and the live stream's single-use tickets."""
    policy = ThrottlePolicy(
        address_free=settings.login_address_free,
        user_free=settings.login_user_free,
        window_s=settings.login_window_s,
        max_wait_s=settings.login_backoff_max_s,
    )
    tickets = StreamTickets(db, auth_svc, settings.secret_key, settings.stream_ticket_ttl_s)
    return LoginThrottle(db, policy), tickets


def init_approvals(
    db: Database, auth_svc: AuthService, audit_svc: AuditService, closers: Closers
) -> tuple[ApprovalsService, StaffService]:
    """The one approvals service, and staff administration with its approval kinds (the
    other domains register theirs as they are built)."""
    approvals = ApprovalsService(db, audit_svc)
    staff = StaffService(db, auth_svc, audit_svc, approvals)
    for kind in staff.kinds():
        closers.append((f"approval kind {kind.name}", approvals.register(kind)))
    return approvals, staff


def init_incidents(
    settings: Settings, db: Database, topics: Topics, link: MqttLink, closers: Closers
) -> tuple[FleetService, IncidentService, TuningService]:
    """The fleet registry, the incident service and false-alarm tuning (configs on the link)."""
    fleet = FleetService(
        db, health_stale_s=settings.health_stale_s, cert_warn_days=settings.cert_warn_days
    )
    incidents = IncidentService(
        db,
        fleet,
        rules=rules_from(settings.incident_rules),
        zone_boost=dict(settings.zone_priority),
    )
    closers.append(("incident notifier", incidents.close))
    tuning = TuningService(
        db,
        topics,
        min_dismissals=settings.false_alarm_min_dismissals,
        rate=settings.false_alarm_rate,
        publisher=link,
    )
    incidents.tuning = tuning
    incidents.triage = Triage(settings.alarms, settings.zone_priority)
    fleet.grouping = DownGrouping.from_settings(settings.alarms)
    return fleet, incidents, tuning


def init_camrules(
    db: Database,
    topics: Topics,
    link: MqttLink,
    fleet: FleetService,
    incidents: IncidentService,
    tuning: TuningService,
    settings: Settings,
) -> CamRulesService:
    """Camera rules: seeded when a board is registered, published on the centre's link
    (naming the store's model to boards that understand it), re-rendered when a board
    reports another config level; tuning approvals go through it."""
    creating = {kind for kind, rule in incidents.rules.items() if rule.creates}
    store = ModelStore(settings.model_store_dir)
    rules = CamRulesService(db, topics, publisher=link, creating_kinds=creating, models=store)
    fleet.hooks.registered.append(rules.seed)
    fleet.hooks.state.append(rules.on_state)
    fleet.hooks.view.append(lambda dev: {"rules": rules.status(dev)})
    tuning.rules = rules
    return rules


def init_ingest(
    settings: Settings,
    db: Database,
    fleet: FleetService,
    incidents: IncidentService,
    link: MqttLink,
    closers: Closers,
) -> IngestService:
    """Ingest: events, state and health from the link, acked after commit."""
    ingest = IngestService(settings, db, fleet, incidents, link).start()
    closers.append(("ingest", ingest.stop))
    for channel in INGEST_CHANNELS:
        closers.append((f"mqtt sink {channel.value}", link.add_sink(channel, ingest.sink)))
    link.on_error = ingest.dead_letter
    return ingest


def init_stream(fleet: FleetService, incidents: IncidentService, closers: Closers) -> StreamHub:
    """The live stream's hub, subscribed now (not on a first browser request)."""
    hub = StreamHub()
    closers.append(
        (
            "stream: incidents",
            incidents.on_change(
                lambda inc, change: hub.publish(
                    "incident",
                    {"change": change, "incident": inc},
                    _centre_tags(inc.get("centre_id"), inc.get("handed_from")),
                )
            ),
        )
    )
    closers.append(
        (
            "stream: alerts",
            fleet.on_alert(
                lambda alert: hub.publish(
                    "device_alert",
                    {k: v for k, v in alert.items() if k != "device_ids"},
                    _centre_tags(*(fleet.centre_of(d) for d in alert.get("device_ids") or []))
                    if alert.get("kind") == "group"
                    else _centre_tags(fleet.centre_of(alert["device_id"])),
                )
            ),
        )
    )
    closers.append(("stream: open streams", hub.end_all))
    return hub


def _centre_tags(*centres: str | None) -> frozenset[str]:
    """The stream tags of a change: the centres it concerns ("-" for none)."""
    return frozenset(c or "-" for c in centres if c is not None) or frozenset({"-"})


def init_lifecycle(enrolment: EnrolmentService | None) -> LifecycleService | None:
    """Revocation, rotation and the CRL, when enrolment is configured; the CRL is
    re-signed now if it is close to expiry (an expired CRL locks every board out)."""
    if enrolment is None:
        return None
    lifecycle = LifecycleService(enrolment)
    lifecycle.refresh_crl_if_due()
    return lifecycle


def init_dispatch(
    settings: Settings,
    db: Database,
    incidents: IncidentService,
    link: MqttLink,
    closers: Closers,
) -> tuple[GeoService, DispatchService]:
    """Geo layers and dispatch: orders out, positions and acks in, on the centre's link."""
    geo = GeoService(db)
    dispatch = DispatchService(
        db,
        geo,
        incidents=incidents,
        publisher=link,
        topics=Topics(settings.topic_root),
        settings=settings.dispatch,
    )
    closers.append(("dispatch", dispatch.close))
    for channel, handler in dispatch.handlers().items():
        closers.append((f"mqtt handler {channel.value}", link.add_handler(channel, handler)))
    return geo, dispatch


def init_centres(
    db: Database,
    geo: GeoService,
    fleet: FleetService,
    incidents: IncidentService,
    dispatch: DispatchService,
    pop: population.PopulationService,
    closers: Closers,
) -> None:
    """One area hierarchy for everyone: cameras take their centre from their place when
    registered, and cameras, units and incidents re-derive it when zones are loaded (an
    incident keeps the centre it has); population jurisdiction and statistics roll zones
    up through it. Rows from before centres existed are filled now."""
    fleet.hooks.centre = geo.centre_for
    incidents.address_of = geo.address_of
    pop.ctx.areas = lambda: geo.zones.hierarchy if geo.zones is not None else None

    def reassign(_zones: object) -> None:
        fleet.assign_centres(geo.centre_for)
        dispatch.units.assign_centres()
        incidents.assign_centres(geo.centre_for)

    closers.append(("centres: zones listener", geo.on_zones(reassign)))
    if geo.zones is not None and db.query(
        "select 1 from devices where centre_id is null union all "
        "select 1 from incidents where centre_id is null union all "
        "select 1 from units where centre_id is null and home_zone is not null limit 1"
    ):
        reassign(geo.zones)


def init_snapshots(
    settings: Settings,
    db: Database,
    audit_svc: AuditService,
    topics: Topics,
    link: MqttLink,
    closers: Closers,
) -> snapshots.SnapshotService:
    """Snapshots on demand: requests out and answers in on the centre's link (retried by the
    ``retry-snapshots`` job); incidents are exported as evidence from them."""
    svc = snapshots.SnapshotService(
        db,
        audit_svc,
        topics,
        timeout_s=settings.snapshot_timeout_s,
        attempts=settings.snapshot_attempts,
        max_frames=settings.evidence_max_frames,
    )
    svc.publisher = link
    svc.can_send = link.connected.is_set
    closers.append(("mqtt handler snapshot", link.add_handler(Channel.SNAPSHOT, svc.handle)))
    return svc


def init_jobs(services: Services) -> None:
    """Every periodic job, on the one scheduler (``coordinator jobs`` runs only these)."""
    s, db, jobs = services.settings, services.db, services.jobs
    jobs.every("fleet-stale", min(15.0, s.health_stale_s / 4), services.fleet.check_stale)
    jobs.every(
        "purge-raw-events",
        600.0,
        lambda: purge_raw_events(db, time.time() - s.raw_event_retention_days * 86400),
    )
    jobs.every(
        "expire-snapshots",
        600.0,
        lambda: snapshots.expire_snapshots(db, time.time() - s.snapshot_retention_hours * 3600),
    )
    # Frames past the retention their owner agreed to, or of cameras no longer sharing.
    jobs.every("expire-agreed-frames", 600.0, services.owners.expire_frames)
    jobs.every("retry-snapshots", min(1.0, s.snapshot_timeout_s / 2), services.snapshots.retry_due)
    jobs.every("trim-dead-letters", 600.0, services.ingest.trim_dead_letters)
    jobs.every("purge-sessions", 3600.0, services.auth.purge_expired)
    jobs.every("purge-login-throttle", 600.0, services.throttle.purge)
    jobs.every("purge-stream-tickets", 600.0, services.tickets.purge)
    jobs.every("expire-approvals", 60.0, services.approvals.expire_due)
    # Camera-rule revisions saved where the link is not running (the command line).
    jobs.every("camrules-publish", 15.0, services.camrules.publish_pending)
    jobs.every(
        "population-retention",
        s.population_retention_check_hours * 3600,
        services.population.run_scheduled,
    )
    # Overdue detection is automatic: a sweep at start, then every five minutes.
    jobs.every("fraud-overdue", 300.0, services.fraud.sweep_overdue, first_after_s=0.0)
    jobs.every("expire-uploads", 3600.0, services.population.uploads.expire)
    # Deadline alerts of the hall's cases; documents past their retention; enquiry windows.
    jobs.every("hall-deadlines", 300.0, services.hall.sweep, first_after_s=0.0)
    jobs.every("purge-documents", 3600.0, services.hall.files.purge_expired)
    jobs.every("purge-hall-enquiries", 900.0, services.hall.purge_enquiries)
    jobs.every("audit-checkpoint", s.audit_checkpoint_s, services.audit.checkpoint)
    jobs.every("integrity-check", 600.0, lambda: scheduled_integrity_check(s, db))
    if s.backup_every_hours is not None:
        jobs.every("backup", s.backup_every_hours * 3600, lambda: online_backup(s, db))
    if services.lifecycle is not None:
        # An expired CRL would lock every board out: re-sign it well before it lapses.
        jobs.every("crl-refresh", 3600.0, services.lifecycle.refresh_crl_if_due)


def scheduled_integrity_check(settings: Settings, db: Database) -> dict | None:
    """SQLite's ``quick_check`` on a reader connection when due, in the off-peak hour."""
    last = integrity.last_check(settings.db_path)
    every = settings.integrity_check_hours * 3600
    if not integrity.due(last, every, settings.integrity_check_hour, time.time()):
        return None
    return integrity.record_check(settings.db_path, db.quick_check(), reason="scheduled")


def online_backup(settings: Settings, db: Database, dest: Path | None = None) -> Path:
    """An online backup (SQLite's backup API) into the backup folder, checked, with only
    the newest ``backup_keep`` kept, and the document bodies of the encrypted file store
    mirrored beside it (``files/``, incremental: bodies never change); returns its path."""
    folder = settings.backup_path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    dest = dest or folder / f"{settings.db_path.stem}-{stamp}.db"
    db.backup(dest)
    problems = Database(dest).quick_check()
    if problems:
        dest.unlink(missing_ok=True)
        raise integrity.DatabaseMissing(f"the backup failed its check: {problems[0]}")
    filestore.mirror_bodies(settings.data_dir / "files", dest.parent / "files")
    if dest.parent == folder:
        old = sorted(folder.glob(f"{settings.db_path.stem}-*.db"))
        for p in old[: max(0, len(old) - settings.backup_keep)]:
            p.unlink(missing_ok=True)
    return dest


def start_jobs(services: Services) -> None:
    """Start the one scheduler thread."""
    services.jobs.start()
    services.closers.append(("jobs", services.jobs.close))


def start_mqtt(services: Services) -> None:
    """Connect the centre's one MQTT link (retrying in the background)."""
    services.mqtt.start()
    services.closers.append(("mqtt link", services.mqtt.stop))


def start_core(services: Services) -> None:
    """Start the periodic jobs, then connect the MQTT link (closed in reverse)."""
    start_jobs(services)
    start_mqtt(services)
