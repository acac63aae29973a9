"""Every attack the adversarial suite tries: what is tried, what must happen, and the tests
that try it (node ids without parameters). docs/security.md is generated from this list and
the suite's recorded results (``scripts/gen_security_doc.py``); a test checks that the
committed document names every attack here and that every listed test exists.

``before`` names the attack's *controls* (``tests/security/test_before_fix.py``): the same
attack, with the same real components, run against the system with that one defence
removed, asserting that the attack gets through there. A control shows that the attack's
tests detect the weakness they guard against: a test that passes whether or not the
defence exists proves nothing.

Most tests are in ``tests/security/`` against a production-style set-up
(``tests/harness/prod_city.py``); an attack already tried elsewhere with the same real
components is referenced from here rather than copied.
"""

from __future__ import annotations

from dataclasses import dataclass

SEC = "tests/security/"
PROD = SEC + "test_attacks_production.py::"
FUZZ = SEC + "test_fuzz.py::"
BEFORE = SEC + "test_before_fix.py::"


@dataclass(frozen=True)
class Attack:
    """One attack or fault."""

    id: str
    group: str
    tried: str
    expected: str
    tests: tuple[str, ...]
    #: Controls: node ids of tests running this attack with its defence removed, each
    #: asserting that the attack succeeds there.
    before: tuple[str, ...] = ()


def _a(
    id: str, group: str, tried: str, expected: str, *tests: str, before: tuple[str, ...] = ()
) -> Attack:
    return Attack(id, group, tried, expected, tests, before)


NAMES = "Names and sessions"
BROKER = "Broker: durability and bounds"
IMPORTS = "Heavy work and personal data"
AUDIT = "Audit"
ACCESS = "Access needs two people"
INTEGRITY = "Database integrity"
HTTP = "HTTP"
MQTT = "Boards, certificates and topics"
FUZZING = "Fuzzing"

ATTACKS: list[Attack] = [
    # -- 1. session takeover ------------------------------------------------------------
    _a("names.reserved-board-name", NAMES,
       "a technician asks for enrolment tokens for `coordinator`, a broker account (`ops`), a "
       "patrol unit's name (`car-12`) and their case and separator look-alikes (`COORDINATOR`, "
       "`Ops`, `car_12`); a board sends a CSR for `coordinator` with another name's token",
       "refused at token issue and at enrolment; no certificate is issued under the name",
       PROD + "test_a_board_cannot_be_enrolled_under_a_service_name",
       "tests/provisioning/test_reserved_names.py::test_tokens_for_reserved_or_taken_names_are_refused",
       before=(BEFORE + "test_a_board_enrolled_as_coordinator_kicks_the_coordinator_off",)),
    _a("names.accounts-imitating", NAMES,
       "`provision broker-config` asked for accounts differing only in case or separators",
       "refused: one client-id namespace cannot hold look-alikes",
       "tests/provisioning/test_reserved_names.py::test_broker_config_refuses_accounts_that_imitate_each_other"),
    _a("names.client-id-takeover", NAMES,
       "an enrolled board connects ten times in two seconds asking for client id `coordinator` "
       "with a clean start, while another board publishes 200 events",
       "the board gets its own id (CN); the coordinator is never kicked off, its persistent "
       "session is kept and every acknowledged event is stored",
       PROD + "test_a_board_cannot_take_the_coordinators_session",
       "tests/provisioning/test_attacks.py::test_client_id_takeover_is_impossible",
       before=(BEFORE + "test_a_board_asking_for_the_coordinators_client_id_takes_its_session",)),
    # -- 2./3. broker ---------------------------------------------------------------------
    _a("broker.sigkill-centre-offline", BROKER,
       "centre offline; a board sends 3,000 events which the broker PUBACKs; the broker is "
       "SIGKILLed before its save, then restarted, then the centre comes back",
       "0 events lost: the board deletes from its spool only up to the centre's committed "
       "watermark and resends the rest",
       "tests/coordinator/ingest/test_committed.py::test_broker_sigkill_with_the_centre_offline_loses_no_event",
       "tests/edge_agent/test_end_to_end_ack.py::test_broker_sigkill_with_the_centre_offline_loses_no_event",
       before=(BEFORE + "test_a_board_on_puback_only_loses_what_the_broker_acknowledged",)),
    _a("broker.old-firmware", BROKER,
       "a board on today's firmware that never reads the watermark",
       "keeps working: events stored, PUBACK deletes as before",
       "tests/coordinator/ingest/test_committed.py::test_a_board_on_older_firmware_ignores_the_watermark"),
    _a("broker.bounds-generated", BROKER,
       "read the mosquitto.conf `provision broker-config` generated",
       "`max_packet_size` above the protocol's largest payload, `max_queued_bytes` and "
       "`max_queued_messages` per client, persistence on",
       PROD + "test_the_generated_broker_config_carries_bounds"),
    _a("broker.oversized-packet", BROKER,
       "an enrolled board publishes a 2 MiB payload on its own event topic",
       "the broker refuses the packet and drops that connection; nothing stored; the centre "
       "and other boards carry on",
       PROD + "test_an_oversized_packet_is_refused_and_ingest_goes_on",
       "tests/provisioning/test_broker_bounds.py::test_largest_protocol_payload_passes_and_an_oversized_packet_is_refused",
       before=(BEFORE + "test_without_the_packet_bound_a_2mib_payload_is_stored_and_delivered",)),
    _a("broker.queue-bytes", BROKER,
       "a client's persistent session is offline while 200 KiB are published for it (the "
       "broker bounded to 64 KiB per client)",
       "the broker queues at most `max_queued_bytes` for it; the rest is not kept",
       "tests/provisioning/test_broker_bounds.py::test_an_offline_session_queue_is_bounded_in_bytes",
       before=(BEFORE + "test_without_the_queue_bound_an_offline_session_keeps_everything",)),
    _a("broker.retained-telemetry", BROKER,
       "a board publishes a retained message on its own health topic; the coordinator "
       "reconnects (restart)",
       "the retain flag is ignored: no dead letter, none again on reconnect",
       PROD + "test_coordinator_kill9_and_restarts_keep_every_event",
       "tests/coordinator/ingest/test_ingest.py::test_a_retained_telemetry_message_is_not_dead_lettered_on_every_connect",
       before=(BEFORE + "test_without_the_retain_skip_a_stale_message_is_dead_lettered_on_every_connect",)),
    _a("faults.kill9-and-broker-restart", BROKER,
       "a board streams events; `coordinator run` is killed with SIGKILL mid-stream and "
       "restarted; then the broker is restarted",
       "every PUBACKed event stored exactly once",
       PROD + "test_coordinator_kill9_and_restarts_keep_every_event",
       "tests/coordinator/ingest/test_durability.py::test_kill9_coordinator_mid_stream_loses_and_duplicates_nothing",
       "tests/coordinator/ingest/test_durability.py::test_broker_restart_with_persistence_loses_nothing"),
    # -- 4./5. imports and plaintext -----------------------------------------------------
    _a("import.n-squared", IMPORTS,
       "import 20,000 rows, 5,000 of them repeating one ID number, while a camera publishes; "
       "import 300 documents sharing one passport number (300 nationalities)",
       "at most K duplicate candidates per row, at most one chunk of rows per transaction, "
       "camera events commit between chunks",
       SEC + "test_import_isolation.py::test_bounded_chunks_bounded_candidates_and_events_commit_between_chunks",
       SEC + "test_import_isolation.py::test_one_number_on_many_documents_gets_at_most_k_candidates_per_row",
       before=(BEFORE + "test_without_the_limit_candidates_grow_with_the_square_of_the_repeats",
               BEFORE + "test_without_chunks_one_import_transaction_holds_the_whole_file")),
    _a("import.cancel", IMPORTS,
       "cancel an import through the API, the command and SIGTERM",
       "it stops at the next chunk; committed chunks kept; the same file resumes",
       SEC + "test_import_isolation.py::test_api_upload_in_chunks_progress_and_cancel_keep_committed_chunks",
       SEC + "test_import_isolation.py::test_cli_import_stops_cleanly_and_resumes"),
    _a("import.upload-cap", IMPORTS,
       "declare a 3 GiB upload; send a chunk over 8 MiB",
       "refused before anything is stored",
       SEC + "test_import_isolation.py::test_uploads_are_capped"),
    _a("privacy.import-errors", IMPORTS,
       "import rejected rows carrying full ID numbers (also typed into the wrong column)",
       "no ID number in clear anywhere in the data folder (database, WAL, temp files); no "
       "error file left unless asked for (0600)",
       SEC + "test_import_privacy.py::test_a_failed_import_leaves_no_plaintext_id_number_on_disk",
       SEC + "test_import_privacy.py::test_the_dashboard_import_leaves_no_error_file_or_upload_behind",
       before=(BEFORE + "test_without_masking_rejected_rows_leave_id_numbers_on_disk",)),
    _a("privacy.old-raw-lines", IMPORTS,
       "a database of the earlier version with raw rejected lines",
       "the migration scrubs them; nothing left in the file or its WAL",
       SEC + "test_import_privacy.py::test_the_migration_scrubs_raw_lines_kept_by_earlier_versions"),
    # -- 6. audit --------------------------------------------------------------------------
    _a("audit.insert-or-replace", AUDIT,
       "`INSERT OR REPLACE` over an audit entry",
       "refused by the chain's triggers",
       SEC + "test_audit_chain.py::test_insert_or_replace_over_an_entry_is_refused",
       before=(BEFORE + "test_without_the_guards_insert_or_replace_rewrites_an_entry",)),
    _a("audit.rewrite", AUDIT,
       "an entry's actor or subject rewritten with the guards dropped",
       "`coordinator audit verify` names the altered entry",
       SEC + "test_audit_chain.py::test_a_rewritten_entry_is_detected",
       before=(BEFORE + "test_without_the_entry_hashes_a_rewritten_entry_passes",)),
    _a("audit.delete-insert", AUDIT,
       "entries deleted, or inserted, and the triggers re-created",
       "verify reports the gap or the broken link",
       SEC + "test_audit_chain.py::test_a_deleted_entry_is_detected",
       SEC + "test_audit_chain.py::test_an_inserted_entry_is_detected",
       SEC + "test_audit_chain.py::test_truncating_the_log_and_recreating_the_guards_is_detected",
       before=(BEFORE + "test_without_checkpoints_a_truncated_log_verifies",)),
    _a("audit.recomputed-chain", AUDIT,
       "the whole chain recomputed by someone without the signing key; checkpoints deleted "
       "or forged",
       "verify reports the checkpoint mismatch, the missing or the foreign-signed checkpoint",
       SEC + "test_audit_chain.py::test_a_chain_recomputed_without_the_key_is_detected",
       SEC + "test_audit_chain.py::test_removing_the_checkpoints_too_is_detected_by_the_copy_outside",
       SEC + "test_audit_chain.py::test_a_checkpoint_signed_with_another_key_is_detected",
       before=(BEFORE + "test_without_checkpoints_a_recomputed_chain_verifies",)),
    _a("audit.two-writers", AUDIT,
       "two processes append at once",
       "one unbroken chain",
       SEC + "test_audit_chain.py::test_two_processes_writing_at_once_form_one_chain"),
    _a("audit.admin-reads", AUDIT,
       "the administrator reads the audit log",
       "403; the auditor reads it",
       SEC + "test_audit_access.py::test_the_auditor_reads_the_log_and_the_administrator_does_not"),
    _a("audit.denied-reads", AUDIT,
       "an officer opens a person outside their zones; a role without the permission calls a "
       "personal-data route",
       "403 and a `denied` audit entry each",
       SEC + "test_audit_access.py::test_denied_personal_data_reads_are_audited",
       SEC + "test_access_break_glass.py::test_denied_personal_data_reads_are_audited"),
    # -- 7. two people ---------------------------------------------------------------------
    _a("access.self-granted-zone", ACCESS,
       "an officer grants themselves a whole zone for an hour with a 10-character junk reason",
       "pending until a data-access approver approves; junk reasons 422; at most an hour",
       SEC + "test_access_break_glass.py::test_officer_cannot_grant_themselves_a_zone",
       SEC + "test_access_break_glass.py::test_junk_reasons_are_refused",
       SEC + "test_access_break_glass.py::test_only_a_data_access_approver_approves",
       SEC + "test_access_break_glass.py::test_more_than_an_hour_is_refused",
       before=(BEFORE + "test_without_the_second_person_an_officer_grants_themselves_a_zone",)),
    _a("access.emergency", ACCESS,
       "emergency grants for a zone, or a fourth in a day",
       "refused; one person, 15 minutes, flagged for review",
       SEC + "test_access_break_glass.py::test_emergency_grant_is_one_person_fifteen_minutes_and_reviewed",
       SEC + "test_access_break_glass.py::test_emergency_grants_are_rationed"),
    _a("access.admin-mints-officer", ACCESS,
       "the administrator alone creates an all-zone officer, a second investigator or "
       "another administrator, or adds personal-data roles",
       "pending until a second administrator approves; the account cannot log in meanwhile",
       SEC + "test_access_staff.py::test_admin_alone_cannot_create_an_all_zone_officer",
       SEC + "test_access_staff.py::test_admin_cannot_mint_a_second_investigator_alone",
       SEC + "test_access_staff.py::test_admin_cannot_mint_an_admin_alone",
       SEC + "test_access_staff.py::test_admin_cannot_add_personal_data_access_alone",
       before=(BEFORE + "test_without_the_second_person_an_admin_mints_an_all_zone_officer",)),
    _a("access.disable-and-password", ACCESS,
       "a disabled, re-passworded or expired user keeps using a live token",
       "401 at once; login refused",
       SEC + "test_access_staff.py::test_disabled_users_token_is_refused",
       SEC + "test_access_staff.py::test_new_password_ends_every_session",
       SEC + "test_access_staff.py::test_expired_account_stops_working"),
    _a("access.second-factor", ACCESS,
       "an officer's password alone; guessed and replayed TOTP codes",
       "no session without the code; 5 wrong codes end the attempt; a code works once",
       SEC + "test_access_second_factor.py::test_password_alone_gives_no_session",
       SEC + "test_access_second_factor.py::test_wrong_codes_burn_the_challenge",
       SEC + "test_access_second_factor.py::test_a_code_is_accepted_once"),
    # -- 8. integrity ----------------------------------------------------------------------
    _a("integrity.empty-database", INTEGRITY,
       "the database file deleted or truncated to zero bytes, then the centre started",
       "refused with a clear message; only an explicit init creates a new one",
       "tests/coordinator/platform/test_integrity.py::test_a_lost_database_refuses_to_start_until_init",
       "tests/coordinator/platform/test_integrity.py::test_outside_dev_mode_a_new_database_needs_init",
       before=(BEFORE + "test_without_the_in_use_marker_an_emptied_database_starts_fresh",)),
    _a("integrity.mid-file", INTEGRITY,
       "garbage written over pages in the middle of the database",
       "found at start after an unclean shutdown, by the scheduled check and `coordinator "
       "check`; health answers 503",
       "tests/coordinator/platform/test_integrity.py::test_mid_file_corruption_is_found_at_start_by_the_check_and_in_health",
       "tests/coordinator/platform/test_integrity.py::test_quick_check_runs_after_an_unclean_shutdown_only",
       before=(BEFORE + "test_without_the_start_check_a_corrupt_database_starts_after_a_crash",)),
    # -- also partial: HTTP ----------------------------------------------------------------
    _a("http.body-limit", HTTP,
       "an unauthenticated 100 MB POST, declared and chunked; a malformed Content-Length",
       "413 before the body is read (RSS flat); 400 for the bad length",
       SEC + "test_http_limits.py::test_a_declared_100mb_body_is_refused_before_a_byte_is_read",
       SEC + "test_http_limits.py::test_a_chunked_100mb_body_is_cut_off_at_the_limit",
       SEC + "test_http_limits.py::test_a_malformed_content_length_is_refused",
       SEC + "test_http_limits.py::test_many_refused_bodies_do_not_accumulate"),
    _a("http.spray", HTTP,
       "1,000 password guesses from one address across 50 names; forged X-Forwarded-For",
       "at most 30 password checks, the rest 429; the real user logs in from another "
       "address at the first try",
       SEC + "test_http_throttle.py::test_a_spray_of_1000_guesses_across_50_names_from_one_address_is_throttled",
       SEC + "test_http_throttle.py::test_a_forged_x_forwarded_for_from_an_untrusted_address_changes_nothing",
       SEC + "test_http_throttle.py::test_a_second_api_process_on_the_same_database_sees_the_throttle"),
    _a("http.admin-lockout", HTTP,
       "5+ wrong passwords for the administrator from an attacker's address",
       "the attacker is throttled; the administrator is never locked out",
       SEC + "test_http_throttle.py::test_locking_out_the_administrator_by_name_does_not_lock_the_administrator_out"),
    _a("http.token-in-url", HTTP,
       "`?access_token=` on every route of the OpenAPI document",
       "401 everywhere; the live stream takes a single-use ticket instead",
       SEC + "test_http_tokens.py::test_a_token_in_the_query_is_refused_on_every_route",
       SEC + "test_http_tokens.py::test_a_stream_ticket_opens_the_stream_once"),
    _a("http.headers", HTTP,
       "framing, MIME sniffing, inline script, caching of personal data",
       "CSP, frame, nosniff, referrer headers on every answer; no-store on the API",
       SEC + "test_http_headers.py::test_every_answer_carries_the_security_headers",
       SEC + "test_http_headers.py::test_answers_with_personal_data_are_never_cached"),
    _a("http.host-header", HTTP,
       "a forged Host / X-Forwarded-Host on the warnings' Atom feed",
       "links from the configured public URL; the forged host nowhere",
       SEC + "test_http_headers.py::test_a_forged_host_header_does_not_move_the_feeds_links"),
    _a("http.metrics", HTTP,
       "`/metrics` anonymously or with a forged token",
       "401 unless configured open",
       SEC + "test_http_headers.py::test_metrics_need_a_user_who_reads_events_or_the_scrape_token",
       SEC + "test_http_headers.py::test_metrics_are_open_only_when_configured_open"),
    _a("http.private-files", HTTP,
       "a data folder the coordinator creates itself; an existing 0755 folder",
       "0700 folders, 0600 files (database, -wal, -shm, keys, spool)",
       SEC + "test_http_files.py::test_the_running_coordinators_data_is_private",
       SEC + "test_http_files.py::test_a_command_creating_the_data_folder_makes_it_private",
       SEC + "test_http_files.py::test_an_existing_world_readable_data_folder_is_tightened"),
    _a("http.tls", HTTP,
       "a client not trusting the centre's CA; plain HTTP to the HTTPS port; a server "
       "started without a certificate",
       "handshake refused; no answer in the clear; `coordinator run` refuses to start",
       SEC + "test_http_tls.py::test_a_client_that_does_not_trust_the_centres_ca_refuses_the_connection",
       SEC + "test_http_tls.py::test_plain_http_to_the_tls_port_gets_no_answer_in_the_clear",
       SEC + "test_http_tls.py::test_run_refuses_to_serve_passwords_in_the_clear"),
    _a("http.anonymous-routes", HTTP,
       "every route of the OpenAPI document called without a token",
       "401 on every route but the public ones (health, login, enrolment with its token)",
       PROD + "test_every_route_refuses_an_anonymous_caller"),
    _a("roles.route-matrix", HTTP,
       "every role × every route",
       "0 mismatches against the permission table",
       "tests/coordinator/identity/test_auth.py::test_role_matrix_is_enforced_on_every_route"),
    _a("http.injection", HTTP,
       "SQL and FTS5 syntax (quotes, `OR 1=1`, `UNION SELECT`, `*`, `NEAR(`, `\"`) in every "
       "search parameter",
       "no 500, no SQL error text, nothing beyond what a plain search finds",
       PROD + "test_sql_and_fts_injection_find_nothing_extra",
       "tests/coordinator/population/test_search_dups.py::test_injection_attempts_in_search_find_nothing_extra"),
    _a("http.path-traversal", HTTP,
       "`..`, `%2e%2e`, `%2f`, absolute paths and NUL in dashboard and file URLs",
       "404/400; no file outside the served folders is read",
       PROD + "test_path_traversal_reads_nothing"),
    _a("http.stored-xss", HTTP,
       "markup (`<img src=x onerror=…>`, `<svg onload>`, `</script><script>`, `<iframe "
       "srcdoc>`, `javascript:` links, `{{ }}`/`${}` template text) stored through the API "
       "by the roles that write them in every text a screen shows (names, addresses, notes, "
       "call signs, organisation, company and case texts, reasons, purposes)",
       "returned as JSON data only; every screen of every role, rendered in Chromium with "
       "that data, shows it as text: no injected element in the DOM, no script run, no "
       "dialog; the template helper escapes every interpolation; the CSP forbids inline script",
       PROD + "test_stored_markup_comes_back_as_data",
       "tests/e2e/test_stored_xss.py::test_every_screen_shows_stored_markup_as_text",
       "tests/web/test_templates.py::test_html_helper_escapes_every_interpolation_and_keeps_nested_templates"),
    # -- boards, certificates, topics --------------------------------------------------------
    _a("mqtt.topic-acl", MQTT,
       "an enrolled board publishes on another board's event/state/config topics and a unit's",
       "PUBACK 0x87 not authorised; nothing stored under the other board",
       PROD + "test_publishing_on_another_boards_topics_is_refused"),
    _a("mqtt.wildcards", MQTT,
       "an enrolled board subscribes to `#`, `cw/v1/dev/+/event`, another board's config, `$SYS/#`",
       "nothing delivered but its own retained config",
       PROD + "test_wildcard_subscriptions_deliver_nothing_of_others"),
    _a("pki.bad-certificates", MQTT,
       "no certificate; one from another CA with the legitimate board's CN; an expired one; "
       "a self-signed one",
       "TLS handshake refused",
       PROD + "test_foreign_expired_and_self_signed_certificates_are_refused"),
    _a("pki.revocation", MQTT,
       "a board revoked through the API while connected",
       "live session dropped within seconds (figure recorded); reconnect refused",
       PROD + "test_a_revoked_board_is_dropped_and_cannot_return"),
    _a("mqtt.malformed", MQTT,
       "an enrolled board interleaves malformed messages (garbage, truncated JSON, wrong "
       "types, huge numbers, wrong device id) with good events",
       "every good event stored; each bad one dead-lettered with a reason; the centre stays up",
       PROD + "test_malformed_messages_never_lose_a_good_event"),
    # -- fuzzing ---------------------------------------------------------------------------------
    _a("fuzz.openapi", FUZZING,
       "requests generated from the OpenAPI document (valid and broken bodies, parameters and "
       "paths) as an administrator, an operator, an officer and anonymously",
       "no 500; the coordinator process stays up",
       FUZZ + "test_requests_generated_from_the_openapi_document_never_get_a_500",
       FUZZ + "test_ids_past_64_bits_are_bad_input_not_a_fault"),
    _a("fuzz.mqtt", FUZZING,
       "messages generated from the protocol's JSON schemas, valid and mutated, on a board's "
       "own topics, interleaved with good events",
       "every good event stored; the coordinator stays up",
       FUZZ + "test_messages_generated_from_the_protocol_schemas_never_lose_a_good_event"),
]  # fmt: skip

BY_ID: dict[str, Attack] = {a.id: a for a in ATTACKS}
#: The attacks that once broke through an earlier release: each must name a control.
BROKE_THROUGH: tuple[str, ...] = (
    "names.reserved-board-name", "names.client-id-takeover",
    "broker.sigkill-centre-offline",
    "broker.oversized-packet", "broker.queue-bytes", "broker.retained-telemetry",
    "import.n-squared",
    "privacy.import-errors",
    "audit.insert-or-replace", "audit.rewrite", "audit.delete-insert", "audit.recomputed-chain",
    "access.self-granted-zone", "access.admin-mints-officer",
    "integrity.empty-database", "integrity.mid-file",
)  # fmt: skip
GROUPS: list[str] = list(dict.fromkeys(a.group for a in ATTACKS))


def tests_of(attack_id: str) -> tuple[str, ...]:
    """The node ids (without parameters) that try ``attack_id``."""
    return BY_ID[attack_id].tests
