"""Initial schema: agencies, categories, stations, units, incidents, audit, areas, roads.

The DDL is plain SQL because most of it is PostGIS/pgRouting-specific; the
same tables are described for SQLAlchemy in app/models.py and documented in
docs/schema.md (a test checks the two agree).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE agencies (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    name_en     text NOT NULL,
    kind        text NOT NULL DEFAULT 'government',
    phone       text,
    color       text NOT NULL DEFAULT '#555555'
);

CREATE TABLE incident_categories (
    code              text PRIMARY KEY,
    name_id           text NOT NULL,
    name_en           text NOT NULL,
    priority          smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    target_response_s integer NOT NULL CHECK (target_response_s > 0),
    is_emergency      boolean NOT NULL DEFAULT false,
    response_plan     jsonb NOT NULL DEFAULT '[]'::jsonb,
    icon              text,
    color             text NOT NULL DEFAULT '#777777'
);

CREATE TABLE category_agencies (
    category_code text NOT NULL REFERENCES incident_categories(code) ON DELETE CASCADE,
    agency_code   text NOT NULL REFERENCES agencies(code) ON DELETE CASCADE,
    role          text NOT NULL DEFAULT 'primary' CHECK (role IN ('primary', 'support')),
    PRIMARY KEY (category_code, agency_code)
);

CREATE TABLE admin_areas (
    id          serial PRIMARY KEY,
    level       text NOT NULL CHECK (level IN ('kecamatan', 'kelurahan')),
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    parent_id   integer REFERENCES admin_areas(id) ON DELETE SET NULL,
    population  integer,
    props       jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom        geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX admin_areas_geom_idx ON admin_areas USING gist (geom);
CREATE INDEX admin_areas_level_idx ON admin_areas (level);

CREATE TABLE road_nodes (
    id    bigint PRIMARY KEY,
    geom  geometry(Point, 4326) NOT NULL
);
CREATE INDEX road_nodes_geom_idx ON road_nodes USING gist (geom);

-- One row per road segment, pgRouting style: cost is the travel time in
-- seconds from source to target, reverse_cost the other way; a negative cost
-- means that direction is closed (one-way street).
CREATE TABLE road_edges (
    id            bigint PRIMARY KEY,
    source        bigint NOT NULL REFERENCES road_nodes(id),
    target        bigint NOT NULL REFERENCES road_nodes(id),
    name          text,
    highway       text NOT NULL,
    oneway        boolean NOT NULL DEFAULT false,
    length_m      double precision NOT NULL CHECK (length_m >= 0),
    speed_kmh     double precision NOT NULL CHECK (speed_kmh > 0),
    cost          double precision NOT NULL,
    reverse_cost  double precision NOT NULL,
    osm_id        bigint,
    props         jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom          geometry(LineString, 4326) NOT NULL
);
CREATE INDEX road_edges_geom_idx ON road_edges USING gist (geom);
CREATE INDEX road_edges_source_idx ON road_edges (source);
CREATE INDEX road_edges_target_idx ON road_edges (target);

-- Named things a caller may say: streets, landmarks, kelurahan (geocoding).
CREATE TABLE places (
    id         serial PRIMARY KEY,
    kind       text NOT NULL,
    name       text NOT NULL,
    area_id    integer REFERENCES admin_areas(id) ON DELETE SET NULL,
    props      jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom       geometry(Geometry, 4326) NOT NULL
);
CREATE INDEX places_geom_idx ON places USING gist (geom);
CREATE INDEX places_name_trgm_idx ON places USING gin (lower(name) gin_trgm_ops);

CREATE TABLE stations (
    id           serial PRIMARY KEY,
    agency_code  text NOT NULL REFERENCES agencies(code),
    kind         text NOT NULL,
    name         text NOT NULL,
    address      text,
    osm_id       bigint,
    props        jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom         geometry(Point, 4326) NOT NULL
);
CREATE INDEX stations_geom_idx ON stations USING gist (geom);
CREATE INDEX stations_agency_idx ON stations (agency_code);

CREATE TABLE units (
    id                   serial PRIMARY KEY,
    station_id           integer REFERENCES stations(id) ON DELETE SET NULL,
    agency_code          text NOT NULL REFERENCES agencies(code),
    callsign             text NOT NULL UNIQUE,
    unit_type            text NOT NULL,
    status               text NOT NULL DEFAULT 'available'
                         CHECK (status IN ('available', 'dispatched', 'en_route', 'on_scene',
                                           'returning', 'out_of_service')),
    current_incident_id  bigint,
    position_at          timestamptz,
    version              integer NOT NULL DEFAULT 0,
    geom                 geometry(Point, 4326)
);
CREATE INDEX units_geom_idx ON units USING gist (geom);
CREATE INDEX units_agency_status_idx ON units (agency_code, status);

CREATE TABLE incidents (
    id               bigserial PRIMARY KEY,
    category_code    text NOT NULL REFERENCES incident_categories(code),
    status           text NOT NULL DEFAULT 'received'
                     CHECK (status IN ('received', 'verified', 'dispatched', 'en_route', 'on_scene',
                                       'resolved', 'closed', 'cancelled', 'prank')),
    priority         smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    source           text NOT NULL DEFAULT 'phone',
    address          text,
    kelurahan_id     integer REFERENCES admin_areas(id) ON DELETE SET NULL,
    kecamatan_id     integer REFERENCES admin_areas(id) ON DELETE SET NULL,
    caller_name      text,
    caller_phone     text,
    description      text,
    is_prank         boolean NOT NULL DEFAULT false,
    duplicate_of     bigint REFERENCES incidents(id) ON DELETE SET NULL,
    idempotency_key  text UNIQUE,
    received_at      timestamptz NOT NULL DEFAULT now(),
    verified_at      timestamptz,
    dispatched_at    timestamptz,
    en_route_at      timestamptz,
    on_scene_at      timestamptz,
    resolved_at      timestamptz,
    closed_at        timestamptz,
    cancelled_at     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    geom             geometry(Point, 4326)
);
CREATE INDEX incidents_geom_idx ON incidents USING gist (geom);
CREATE INDEX incidents_received_idx ON incidents (received_at);
CREATE INDEX incidents_category_idx ON incidents (category_code, received_at);
CREATE INDEX incidents_status_idx ON incidents (status);
CREATE INDEX incidents_kelurahan_idx ON incidents (kelurahan_id);
CREATE INDEX incidents_phone_idx ON incidents (caller_phone);
ALTER TABLE units ADD CONSTRAINT units_incident_fk
    FOREIGN KEY (current_incident_id) REFERENCES incidents(id) ON DELETE SET NULL;

-- One task per responsible agency (OPD) of an incident, each with its own clock.
CREATE TABLE incident_tasks (
    id               bigserial PRIMARY KEY,
    incident_id      bigint NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    agency_code      text NOT NULL REFERENCES agencies(code),
    status           text NOT NULL DEFAULT 'forwarded'
                     CHECK (status IN ('forwarded', 'acknowledged', 'en_route', 'on_scene',
                                       'resolved', 'rejected')),
    forwarded_at     timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    en_route_at      timestamptz,
    on_scene_at      timestamptz,
    resolved_at      timestamptz,
    rejected_at      timestamptz,
    reject_reason    text,
    UNIQUE (incident_id, agency_code)
);
CREATE INDEX incident_tasks_agency_idx ON incident_tasks (agency_code, status);

CREATE TABLE assignments (
    id           bigserial PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    unit_id      integer NOT NULL REFERENCES units(id),
    task_id      bigint REFERENCES incident_tasks(id) ON DELETE SET NULL,
    eta_s        double precision,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz,
    actor        text
);
CREATE INDEX assignments_incident_idx ON assignments (incident_id);
-- A unit can hold at most one open assignment: the database, not the app, prevents double-booking.
CREATE UNIQUE INDEX assignments_one_open_per_unit ON assignments (unit_id) WHERE released_at IS NULL;

-- Append-only audit trail: every change to an incident, with who and when.
-- Rows cannot be updated or deleted one by one; only TRUNCATE (a demo reset) clears them.
CREATE TABLE incident_events (
    id           bigserial PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    kind         text NOT NULL,
    from_status  text,
    to_status    text,
    data         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, at);

CREATE FUNCTION incident_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER incident_events_no_update BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS incident_events, assignments, incident_tasks CASCADE;
DROP FUNCTION IF EXISTS incident_events_append_only();
ALTER TABLE IF EXISTS units DROP CONSTRAINT IF EXISTS units_incident_fk;
DROP TABLE IF EXISTS incidents, units, stations, places, road_edges, road_nodes,
    admin_areas, category_agencies, incident_categories, agencies CASCADE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
