"""CAP alerts as pages a person reads: GET /alerts/flood/<id> and /alerts/cluster/<n>.

The CAP 1.2 XML (``/api/v1/cap/flood/<id>.xml``, ``/api/v1/analytics/clusters/<n>/cap``) is
for aggregators; a BPBD officer or an official who follows the map's link wants to read
the alert and forward it, so the page shows the same ``CapMessage`` (built once by the
service, serialised to XML or rendered here) with the area drawn, and links to the XML
as a download. The flood page is public like its XML; the cluster page is for analysts
like the cluster API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from app.db import get_session
from app.services import floods
from app.services.analytics import clusters as cl
from app.services.cap_page import outline
from app.services.locale_id import local_time
from app.web.api.analytics import _cluster_query

bp = Blueprint("alerts", __name__, template_folder="templates")

# The query parameters of a cluster alert: the same ones pick the same cluster number.
CLUSTER_ARGS = ("category", "since", "until", "eps_m", "min_points", "hull", "within")


def _epsg() -> int:
    return current_app.extensions["peta112.settings"].utm_epsg


def _sender() -> dict[str, str]:
    extra = current_app.extensions["peta112.settings"].extra
    return {"sender": extra.get("cap_sender", cl.DEFAULT_SENDER),
            "sender_name": extra.get("cap_sender_name", cl.DEFAULT_SENDER_NAME)}


def _render(msg: cl.CapMessage, xml_url: str, filename: str, back: str | None) -> str:
    areas: list[dict[str, Any]] = [{"desc": a.desc, "svg": outline(a.polygon) if a.polygon else None,
                                    "geocodes": a.geocodes} for a in msg.areas]
    return render_template("alert.html", m=msg, areas=areas, sent=local_time(msg.sent, msg.sent.tzinfo),
                           xml_url=xml_url, filename=filename, back=back)


@bp.get("/alerts/flood/<int:state_id>")
def flood_alert(state_id: int) -> str:
    msg = floods.cap_message(get_session(), state_id, _epsg(), **_sender())
    return _render(msg, url_for("api.cap_flood_alert", state_id=state_id), f"{msg.identifier}.xml",
                   url_for("map.page"))


@bp.get("/alerts/cluster/<int:number>")
def cluster_alert(number: int) -> str:
    msg = cl.cap_message(get_session(), _cluster_query(), number, _epsg(), **_sender())
    query = urlencode([(k, request.args[k]) for k in CLUSTER_ARGS if request.args.get(k)])
    xml_url = url_for("api.analytics_cluster_cap", number=number) + (f"?{query}" if query else "")
    return _render(msg, xml_url, f"{msg.identifier}.xml", url_for("map.page"))
