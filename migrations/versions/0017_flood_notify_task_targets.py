"""Flood states reach open maps live; every agency's task on a category has a target of its own.

* ``flood_states`` notifies channel ``peta112`` on commit (as incidents and units do since
  0004), so a level BPBD sets or clears is on every open map without a reload. The payload
  is the kelurahan and the level, nothing personal: flood states are shown to every role.
* ``category_agencies.task_target_s``: how long *this* agency may take from being forwarded
  the task to being on scene. A support agency (PLN cutting the power at a fire, DISHUB
  directing traffic at an accident) was measured against the call's own target (8 minutes
  for a fire, from the call) and so showed 0 % on time; its job has its own clock. NULL
  keeps the category's target (from the call) or the agency's standard (NFPA-style for
  DAMKAR and DINKES). The seeds are a sensible start; a city sets its own in its catalog
  file (``task_target`` on the rule's agency, ``peta112 city catalog apply``; docs/your-city.md).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# (category, support agency, minutes from forwarded to on scene)
SUPPORT_TARGETS = [
    ("kebakaran", "POLRI", 20),        # cordon and traffic around the fire
    ("kebakaran", "PLN", 45),          # cut the power to the building
    ("tanah_longsor", "DAMKAR", 30),   # rescue support to BPBD
    ("kecelakaan", "DISHUB", 30),      # traffic management, tow truck
    ("pohon_tumbang", "DLH", 120),     # cutting and removing the tree
    ("pohon_tumbang", "PU", 120),      # road and drainage clearance
    ("narkoba", "BNN", 240),
    ("gepeng", "DINSOS", 240),         # social assessment after Satpol PP
    ("perjudian", "SATPOLPP", 120),
    ("gangguan_ketertiban", "POLRI", 60),
]

UPGRADE = r"""
CREATE FUNCTION peta112_notify_flood() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('peta112', json_build_object(
    'table', 'flood_states', 'op', lower(TG_OP), 'id', NEW.id, 'kelurahan_id', NEW.kelurahan_id,
    'code', (SELECT code FROM admin_areas WHERE id = NEW.kelurahan_id),
    'level', CASE WHEN NEW.cleared_at IS NULL THEN NEW.level END,
    'cleared', NEW.cleared_at IS NOT NULL)::text);
  RETURN NULL;
END
$fn$;

CREATE TRIGGER flood_states_notify AFTER INSERT OR UPDATE ON flood_states
  FOR EACH ROW EXECUTE FUNCTION peta112_notify_flood();

ALTER TABLE category_agencies ADD COLUMN task_target_s integer
  CHECK (task_target_s IS NULL OR task_target_s > 0);
"""

DOWNGRADE = """
ALTER TABLE category_agencies DROP COLUMN IF EXISTS task_target_s;
DROP TRIGGER IF EXISTS flood_states_notify ON flood_states;
DROP FUNCTION IF EXISTS peta112_notify_flood();
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for category, agency, minutes in SUPPORT_TARGETS:
        op.execute(f"UPDATE category_agencies SET task_target_s = {minutes * 60} "
                   f"WHERE category_code = '{category}' AND agency_code = '{agency}'")


def downgrade() -> None:
    op.execute(DOWNGRADE)
