"""Calls before incidents: every contact with the centre, and where the caller's phone says it is.

Until now peta112 began at the incident, so the calls that are not incidents (information,
wrong numbers, silent lines, pranks, requests forwarded to PMI), how long callers waited and
who answered were nowhere.  ``calls`` holds one row per contact (phone, chat, web, SMS) with
its times, operator, disposition and at most one incident; ``caller_locations`` holds the
Advanced Mobile Location fixes a caller's handset sends (the newest one is the position).
Both carry callers' data, so both are under row-level security, rendered from
app/calls/sql/calls.sql by :func:`app.calls.visibility.install`.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28
"""

from alembic import op

from app.calls import visibility

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

UPGRADE = r"""
-- A phone number as the desk compares it: E.164 for Indonesian numbers typed nationally
-- (0812... and 62812... become +62812...); anything else keeps its digits and a leading +.
CREATE FUNCTION peta112_norm_phone(raw text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN d = '' THEN NULL
              WHEN d LIKE '62%' THEN '+' || d
              WHEN d LIKE '0%' THEN '+62' || substr(d, 2)
              WHEN raw ~ '^\s*\+' THEN '+' || d
              ELSE d END
  FROM (SELECT regexp_replace(coalesce(raw, ''), '[^0-9]', '', 'g') AS d) s
$$;
CREATE INDEX incidents_caller_phone_norm_idx ON incidents (peta112_norm_phone(caller_phone))
  WHERE caller_phone IS NOT NULL;

CREATE TABLE calls (
    id            bigserial PRIMARY KEY,
    channel       text NOT NULL DEFAULT 'phone' CHECK (channel IN ('phone', 'chat', 'web', 'sms')),
    caller_phone  text CHECK (length(caller_phone) <= 40),
    line          text CHECK (length(line) <= 100),
    external_id   text UNIQUE CHECK (length(external_id) <= 200),
    operator      text CHECK (length(operator) <= 100),
    offered_at    timestamptz NOT NULL DEFAULT now(),
    answered_at   timestamptz CHECK (answered_at >= offered_at),
    ended_at      timestamptz CHECK (ended_at >= offered_at AND (answered_at IS NULL OR ended_at >= answered_at)),
    disposition   text CHECK (disposition IN ('incident', 'informasi', 'salah_sambung', 'diam', 'iseng', 'tes',
                                              'diteruskan')),
    forwarded_to  text CHECK (length(forwarded_to) <= 100),
    incident_id   bigint REFERENCES incidents(id),
    kelurahan_id  integer REFERENCES admin_areas(id),
    note          text CHECK (length(note) <= 2000),
    created_by    text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (forwarded_to IS NULL OR disposition = 'diteruskan'),
    CHECK (disposition <> 'diteruskan' OR forwarded_to IS NOT NULL)
);
CREATE INDEX calls_offered_at_idx ON calls (offered_at);
CREATE INDEX calls_caller_phone_idx ON calls (caller_phone, offered_at) WHERE caller_phone IS NOT NULL;
CREATE INDEX calls_incident_idx ON calls (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX calls_operator_idx ON calls (operator, offered_at) WHERE operator IS NOT NULL;

CREATE TABLE caller_locations (
    id             bigserial PRIMARY KEY,
    caller_phone   text NOT NULL CHECK (length(caller_phone) <= 40),
    call_id        bigint REFERENCES calls(id),
    source         text NOT NULL CHECK (source IN ('aml_sms', 'aml_https')),
    method         text NOT NULL CHECK (method IN ('gnss', 'wifi', 'cell', 'hybrid', 'unknown')),
    radius_m       real NOT NULL CHECK (radius_m > 0 AND radius_m <= 100000),
    confidence     smallint CHECK (confidence BETWEEN 0 AND 100),
    positioned_at  timestamptz NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    kelurahan_id   integer REFERENCES admin_areas(id),
    actor          text NOT NULL,
    geom           geometry(Point, 4326) NOT NULL
);
CREATE INDEX caller_locations_phone_idx ON caller_locations (caller_phone, positioned_at);
CREATE INDEX caller_locations_call_idx ON caller_locations (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX caller_locations_geom_idx ON caller_locations USING gist (geom);

-- Open consoles learn of a ringing, answered or ended call on the live stream's channel; the
-- payload carries no number (the console asks for the call, as the desk viewer it is).
CREATE FUNCTION peta112_notify_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('peta112', json_build_object(
        'table', 'calls', 'op', lower(TG_OP), 'id', NEW.id, 'channel', NEW.channel,
        'state', CASE WHEN NEW.ended_at IS NOT NULL THEN 'ended'
                      WHEN NEW.answered_at IS NOT NULL THEN 'answered' ELSE 'ringing' END,
        'operator', NEW.operator)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER calls_notify AFTER INSERT OR UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION peta112_notify_call();
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS caller_locations;
DROP TABLE IF EXISTS calls;
DROP FUNCTION IF EXISTS peta112_notify_call();
DROP INDEX IF EXISTS incidents_caller_phone_norm_idx;
DROP FUNCTION IF EXISTS peta112_norm_phone(text);
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    visibility.install(op.get_bind())


def downgrade() -> None:
    visibility.uninstall(op.get_bind())
    op.execute(DOWNGRADE)
