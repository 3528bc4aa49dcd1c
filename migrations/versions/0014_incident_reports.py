"""incident_reports: a second caller about the same event, merged into its incident.

When several people ring about one fire, the call-taker keeps one incident and adds
each further caller to it ("gabungkan ke #N") instead of logging a duplicate that a
dispatcher must spot and cancel.  A report holds callers' data (name, phone), so it
sits under the same row-level security as its incident (policies and the masking
view ``incident_report_facts`` in app/incidents/sql/facts.sql); ``incident_facts``
gains ``report_count`` (the first caller plus the merged ones).  Retention erases
reports' callers with the incidents' (app/services/privacy.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from alembic import op

from app.incidents import facts

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE incident_reports (
    id                       bigserial PRIMARY KEY,
    incident_id              bigint NOT NULL REFERENCES incidents(id),
    received_at              timestamptz NOT NULL DEFAULT now(),
    actor                    text NOT NULL,
    source                   text NOT NULL,
    caller_name              text,
    caller_phone             text,
    description              text,
    address                  text,
    idempotency_key          text UNIQUE,
    idempotency_fingerprint  text,
    geom                     geometry(Point, 4326)
);
CREATE INDEX incident_reports_incident_idx ON incident_reports (incident_id, received_at);
CREATE INDEX incident_reports_geom_idx ON incident_reports USING gist (geom);
CREATE INDEX incident_reports_phone_idx ON incident_reports (caller_phone) WHERE caller_phone IS NOT NULL;
-- Reports are never deleted by the app (retention erases their callers' fields instead).
DO $do$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'peta112_app') THEN
    GRANT SELECT, INSERT, UPDATE ON incident_reports TO peta112_app;
    REVOKE DELETE ON incident_reports FROM peta112_app;
    GRANT USAGE, SELECT ON SEQUENCE incident_reports_id_seq TO peta112_app;
  END IF;
END
$do$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    facts.install(op.get_bind(), with_role=False)


def downgrade() -> None:
    conn = op.get_bind()
    facts.uninstall_reports(conn)
    # incident_facts counts reports: drop the views, then the table, then render them again without it.
    op.execute("DROP VIEW IF EXISTS incident_public; DROP VIEW IF EXISTS incident_facts; "
               "DROP TABLE IF EXISTS incident_reports")
    # incident_facts without report_count (the table is gone: install renders the count as 1)
    facts.install(conn, with_role=False)
