"""``POST /api/v1/public/reports`` (the /lapor form) and ``GET /api/v1/public/reports/<token>`` (its status).

Anonymous by design: the report is filed as the ``integration`` viewer (it may create
incidents and reads nothing back), rate limited per address like public reads, and the
reporter learns only the status of their own report, through the token they were given.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify, request

from app.calls import public_reports
from app.db import get_session, use_viewer
from app.incidents.viewer import INTEGRATION, Viewer
from app.services.errors import InvalidInput
from app.web.api import bp
from app.web.api.incidents import json_body


def upload_dir() -> Path:
    return Path(current_app.extensions["peta112.settings"].var_dir) / "uploads"


@bp.post("/public/reports")
def public_report():
    """A public, non-emergency report: category, point or address, words, optional photo and phone."""
    use_viewer(Viewer(INTEGRATION, username="public-web"))
    photo = None
    if request.mimetype == "multipart/form-data":
        form = request.form.to_dict()
        try:
            upload = request.files.get("photo")
            if upload is not None and upload.filename:
                photo = upload.stream.read(public_reports.MAX_PHOTO_BYTES + 1)
                if not photo:
                    raise InvalidInput("the photo is empty", "photo")
        finally:
            for f in request.files.values():  # spooled to a temporary file when large: close it now
                f.close()
    elif request.is_json:
        form = json_body()
    else:
        form = request.form.to_dict()
    return jsonify(public_reports.submit(get_session(), form, photo, upload_dir())), 201


@bp.get("/public/reports/<token>")
def public_report_status(token: str):
    """What became of my report: its status and the agencies working on it, nothing else."""
    return jsonify(public_reports.status(get_session(), token))
