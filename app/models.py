"""SQLAlchemy Core description of the schema created by the Alembic migrations.

Migrations (``migrations/versions``) are the source of truth for DDL; this module
lets Python code build queries against the same tables.  docs/schema.md
explains each table; tests/integration/test_migrations.py checks that the
columns here match the migrated database.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()


def _ts(name: str, nullable: bool = True) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _geom(kind: str, nullable: bool = False) -> Column:
    return Column("geom", Geometry(kind, srid=4326, spatial_index=False), nullable=nullable)


agencies = Table(
    "agencies", metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("phone", Text),
    Column("color", Text, nullable=False),
    _ts("retired_at"),
    Column("unit_types", ARRAY(Text), nullable=False),
)

incident_categories = Table(
    "incident_categories", metadata,
    Column("code", Text, primary_key=True),
    Column("name_id", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("priority", SmallInteger, nullable=False),
    Column("target_response_s", Integer, nullable=False),
    Column("is_emergency", Boolean, nullable=False),
    Column("response_plan", JSONB, nullable=False),
    Column("icon", Text),
    Column("color", Text, nullable=False),
    Column("is_public", Boolean, nullable=False),
    Column("public_description", Boolean, nullable=False),
    _ts("retired_at"),
    Column("related", ARRAY(Text), nullable=False),
)

category_agencies = Table(
    "category_agencies", metadata,
    Column("category_code", Text, ForeignKey("incident_categories.code"), primary_key=True),
    Column("agency_code", Text, ForeignKey("agencies.code"), primary_key=True),
    Column("role", Text, nullable=False),
    Column("task_target_s", Integer),
)

admin_areas = Table(
    "admin_areas", metadata,
    Column("id", Integer, primary_key=True),
    Column("level", Text, nullable=False),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("parent_id", Integer, ForeignKey("admin_areas.id")),
    Column("population", Integer),
    Column("props", JSONB, nullable=False),
    _geom("MULTIPOLYGON"),
)

road_nodes = Table(
    "road_nodes", metadata,
    Column("id", BigInteger, primary_key=True),
    _geom("POINT"),
)

road_edges = Table(
    "road_edges", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("source", BigInteger, ForeignKey("road_nodes.id"), nullable=False),
    Column("target", BigInteger, ForeignKey("road_nodes.id"), nullable=False),
    Column("name", Text),
    Column("highway", Text, nullable=False),
    Column("oneway", Boolean, nullable=False),
    Column("length_m", Float, nullable=False),
    Column("speed_kmh", Float, nullable=False),
    Column("cost", Float, nullable=False),
    Column("reverse_cost", Float, nullable=False),
    Column("osm_id", BigInteger),
    Column("props", JSONB, nullable=False),
    _geom("LINESTRING"),
)

places = Table(
    "places", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("area_id", Integer, ForeignKey("admin_areas.id")),
    Column("props", JSONB, nullable=False),
    Column("name_norm", Text, Computed("peta112_norm_place(name)", persisted=True)),
    _geom("GEOMETRY"),
)

stations = Table(
    "stations", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_code", Text, ForeignKey("agencies.code"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("address", Text),
    Column("osm_id", BigInteger),
    Column("props", JSONB, nullable=False),
    _geom("POINT"),
)

units = Table(
    "units", metadata,
    Column("id", Integer, primary_key=True),
    Column("station_id", Integer, ForeignKey("stations.id")),
    Column("agency_code", Text, ForeignKey("agencies.code"), nullable=False),
    Column("callsign", Text, nullable=False, unique=True),
    Column("unit_type", Text, nullable=False),
    Column("status", Text, nullable=False),
    _ts("status_since", nullable=False),  # stamped by a trigger when status changes (migration 0015)
    Column("current_incident_id", BigInteger, ForeignKey("incidents.id")),
    _ts("position_at"),
    Column("version", Integer, nullable=False),
    _geom("POINT", nullable=True),
)

incidents = Table(
    "incidents", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("category_code", Text, ForeignKey("incident_categories.code"), nullable=False),
    Column("status", Text, nullable=False),
    Column("priority", SmallInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("address", Text),
    Column("kelurahan_id", Integer, ForeignKey("admin_areas.id")),
    Column("kecamatan_id", Integer, ForeignKey("admin_areas.id")),
    Column("caller_name", Text),
    Column("caller_phone", Text),
    Column("description", Text),
    Column("is_prank", Boolean, nullable=False),
    Column("duplicate_of", BigInteger, ForeignKey("incidents.id")),
    Column("idempotency_key", Text, unique=True),
    Column("idempotency_fingerprint", Text),
    _ts("received_at", nullable=False),
    _ts("verified_at"),
    _ts("dispatched_at"),
    _ts("en_route_at"),
    _ts("on_scene_at"),
    _ts("resolved_at"),
    _ts("closed_at"),
    _ts("cancelled_at"),
    _ts("updated_at", nullable=False),
    _geom("POINT", nullable=True),
)

incident_tasks = Table(
    "incident_tasks", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("incident_id", BigInteger, ForeignKey("incidents.id"), nullable=False),
    Column("agency_code", Text, ForeignKey("agencies.code"), nullable=False),
    Column("status", Text, nullable=False),
    _ts("forwarded_at", nullable=False),
    _ts("acknowledged_at"),
    _ts("en_route_at"),
    _ts("on_scene_at"),
    _ts("resolved_at"),
    _ts("rejected_at"),
    Column("reject_reason", Text),
)

assignments = Table(
    "assignments", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("incident_id", BigInteger, ForeignKey("incidents.id"), nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("task_id", BigInteger, ForeignKey("incident_tasks.id")),
    Column("eta_s", Float),
    _ts("assigned_at", nullable=False),
    _ts("released_at"),
    Column("actor", Text),
)

incident_events = Table(
    "incident_events", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("incident_id", BigInteger, ForeignKey("incidents.id"), nullable=False),
    _ts("at", nullable=False),
    Column("actor", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("data", JSONB, nullable=False),
)

incident_reports = Table(
    "incident_reports", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("incident_id", BigInteger, ForeignKey("incidents.id"), nullable=False),
    _ts("received_at", nullable=False),
    Column("actor", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("caller_name", Text),
    Column("caller_phone", Text),
    Column("description", Text),
    Column("address", Text),
    Column("idempotency_key", Text, unique=True),
    Column("idempotency_fingerprint", Text),
    _geom("POINT", nullable=True),
)

flood_states = Table(
    "flood_states", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("kelurahan_id", Integer, ForeignKey("admin_areas.id"), nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("note", Text),
    Column("set_by", Text, nullable=False),
    _ts("set_at", nullable=False),
    _ts("cleared_at"),
    Column("cleared_by", Text),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text),
    Column("role", Text, nullable=False),
    Column("agency_code", Text, ForeignKey("agencies.code")),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    _ts("created_at", nullable=False),
    _ts("last_login_at"),
    Column("is_demo", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    _ts("locked_until"),
    _ts("password_changed_at"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("token_sha256", Text, nullable=False, unique=True),
    Column("prefix", Text, nullable=False),
    _ts("created_at", nullable=False),
    _ts("expires_at"),
    _ts("last_used_at"),
    _ts("revoked_at"),
    Column("parent_id", Integer, ForeignKey("api_tokens.id")),
)

sessions = Table(
    "sessions", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("id_hmac", Text, nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    _ts("created_at", nullable=False),
    _ts("last_seen_at", nullable=False),
    Column("ip", Text),
    Column("user_agent", Text),
)

account_events = Table(
    "account_events", metadata,
    Column("id", BigInteger, primary_key=True),
    _ts("at", nullable=False),
    Column("kind", Text, nullable=False),
    Column("user_id", Integer),
    Column("username", Text),
    Column("actor", Text, nullable=False),
    Column("ip", Text),
    Column("data", JSONB, nullable=False),
)

catalog_events = Table(
    "catalog_events", metadata,
    Column("id", BigInteger, primary_key=True),
    _ts("at", nullable=False),
    Column("kind", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("source", Text),
    Column("data", JSONB, nullable=False),
)

read_audit = Table(
    "read_audit", metadata,
    Column("id", BigInteger, primary_key=True),
    _ts("at", nullable=False),
    Column("username", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("surface", Text, nullable=False),
    Column("filter", JSONB, nullable=False),
    Column("count", Integer, nullable=False),
    Column("personal_data", Boolean, nullable=False),
)

unit_positions = Table(
    "unit_positions", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("actor", Text, nullable=False),
    _ts("at", nullable=False),
    _geom("POINT"),
)

city_profile = Table(
    "city_profile", metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("name", Text, nullable=False),
    Column("utm_epsg", Integer, nullable=False),
    Column("utm_epsg_auto", Integer),
    Column("timezone", Text, nullable=False),
    Column("extent", Geometry("POLYGON", srid=4326, spatial_index=False)),
    Column("sources", JSONB, nullable=False),
    Column("readiness", JSONB),
    _ts("set_up_at", nullable=False),
)

# Tables whose row counts /healthz and `peta112 db status` report.
COUNTED_TABLES = (
    "agencies", "incident_categories", "admin_areas", "road_nodes", "road_edges",
    "places", "stations", "units", "incidents", "incident_tasks", "incident_events",
)

calls = Table(
    "calls", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("caller_phone", Text),
    Column("line", Text),
    Column("external_id", Text, unique=True),
    Column("operator", Text),
    _ts("offered_at", nullable=False),
    _ts("answered_at"),
    _ts("ended_at"),
    Column("disposition", Text),
    Column("forwarded_to", Text),
    Column("incident_id", BigInteger, ForeignKey("incidents.id")),
    Column("kelurahan_id", Integer, ForeignKey("admin_areas.id")),
    Column("note", Text),
    Column("created_by", Text, nullable=False),
    _ts("updated_at", nullable=False),
)

conversations = Table(
    "conversations", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("external_chat", Text, nullable=False),
    Column("contact_name", Text),
    Column("caller_phone", Text),
    Column("status", Text, nullable=False),
    Column("call_id", BigInteger, ForeignKey("calls.id")),
    Column("incident_id", BigInteger, ForeignKey("incidents.id")),
    Column("category_code", Text, ForeignKey("incident_categories.code")),
    Column("token_sha256", Text, unique=True),
    _ts("opened_at", nullable=False),
    _ts("last_message_at", nullable=False),
    _ts("updated_at", nullable=False),
    _geom("POINT", nullable=True),
)

conversation_messages = Table(
    "conversation_messages", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("conversation_id", BigInteger, ForeignKey("conversations.id"), nullable=False),
    Column("direction", Text, nullable=False),
    Column("external_id", Text),
    _ts("at", nullable=False),
    Column("body", Text),
    Column("media", JSONB),
    Column("actor", Text, nullable=False),
    _geom("POINT", nullable=True),
)

channel_outbox = Table(
    "channel_outbox", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("conversation_id", BigInteger, ForeignKey("conversations.id"), nullable=False),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("body", Text, nullable=False),
    _ts("created_at", nullable=False),
    _ts("sent_at"),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
)

prank_reviews = Table(
    "prank_reviews", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("caller_phone", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("actor", Text, nullable=False),
    _ts("at", nullable=False),
    Column("note", Text, nullable=False),
    Column("evidence", JSONB, nullable=False),
)

caller_locations = Table(
    "caller_locations", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("caller_phone", Text, nullable=False),
    Column("call_id", BigInteger, ForeignKey("calls.id")),
    Column("source", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("radius_m", Float, nullable=False),
    Column("confidence", SmallInteger),
    _ts("positioned_at", nullable=False),
    _ts("received_at", nullable=False),
    Column("kelurahan_id", Integer, ForeignKey("admin_areas.id")),
    Column("actor", Text, nullable=False),
    _geom("POINT"),
)
