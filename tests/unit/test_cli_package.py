"""The CLI package (app/cli/): commands and options keep their names, and no module imports a sibling command.

Scripts, cron jobs and the README call these names; a rename breaks a city's
installation silently, so the whole tree is pinned here.  Command modules may
import only app.cli.common from the package: that is what keeps the package free
of the import circle the old app/cli.py + app/cli_*.py had.
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
from click.testing import CliRunner

from app.cli import cli

CLI_DIR = Path(__file__).resolve().parents[2] / "app" / "cli"

# command path -> option and argument names, as they were before the package (app/cli.py, 2026-11),
# and city setup's (issue 17: the documented names docs/your-city.md uses).
PINNED = {
    "peta112": "--version",
    "peta112 analytics": "",
    "peta112 analytics refresh": "--rebuild",
    "peta112 channels": "",
    "peta112 channels send": "--interval --limit --once",
    "peta112 city setup": "--check --kecamatan --kelurahan --largest-component --name --name-field --osm "
                          "--parent-field --stations --timezone --utm-epsg",
    "peta112 db": "",
    "peta112 db backup": "--out",
    "peta112 db down": "",
    "peta112 db migrate": "--downgrade --revision",
    "peta112 db reset": "--yes",
    "peta112 db restore": "--yes file",
    "peta112 db status": "",
    "peta112 db up": "",
    "peta112 demo": "--if-empty --manifest --replace --scale --seed --until --years",
    "peta112 import": "",
    "peta112 import areas": "--code-field --level --name-field --parent-field --replace file",
    "peta112 import incidents": "--replace --timezone file",
    "peta112 import osm": "--largest-component --replace file",
    "peta112 import stations": "--replace file",
    "peta112 incident": "",
    "peta112 incident add": "--actor --address --caller-name --caller-phone --category --description "
                            "--idempotency-key --json --lat --lon --source",
    "peta112 incident show": "--json incident_id",
    "peta112 incident status": "--actor --note incident_id status",
    "peta112 nearest": "--agency --by --include-busy --json --k --lat --lon --unit-type",
    "peta112 privacy": "",
    "peta112 privacy purge": "--days",
    "peta112 report": "",
    "peta112 report map": "--category --lang --out --since --until",
    "peta112 report weekly": "--category --lang --out --until",
    "peta112 serve": "--host --port --workers",
    "peta112 token": "",
    "peta112 token create": "--days --name --user",
    "peta112 token list": "--user",
    "peta112 token revoke": "prefix_or_id",
    "peta112 user": "",
    "peta112 user add": "--agency --name --password --role username",
    "peta112 user demo": "",
    "peta112 user disable": "username",
    "peta112 user enable": "username",
    "peta112 user list": "",
    "peta112 user passwd": "--password username",
}


def _tree(cmd: click.Command, path: str) -> dict[str, set[str]]:
    names = {o for p in cmd.params for o in (p.opts if isinstance(p, click.Option) else [p.name or ""])}
    out = {path: names}
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            out |= _tree(sub, f"{path} {name}")
    return out


def test_every_pinned_command_and_option_still_exists():
    tree = _tree(cli, "peta112")
    for path, options in PINNED.items():
        assert path in tree, f"command {path!r} disappeared"
        missing = set(options.split()) - tree[path]
        assert not missing, f"{path}: options {sorted(missing)} disappeared"


def test_command_modules_import_only_common_from_the_package():
    for f in sorted(CLI_DIR.glob("*.py")):
        if f.name in ("__init__.py", "__main__.py", "common.py"):
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                mod = node.module
                assert not (mod == "app.cli" or (mod.startswith("app.cli.") and mod != "app.cli.common")), \
                    f"{f.name} imports {mod}: command modules share only app.cli.common"
    assert not list(CLI_DIR.parent.glob("cli_*.py")) or [p.name for p in CLI_DIR.parent.glob("cli_*.py")] \
        == ["cli_main.py"], "command modules live in app/cli/"


def test_a_bad_setting_is_one_line_without_traceback():
    res = CliRunner().invoke(cli, ["db", "status"], env={"PETA112_UTM_EPSG": "not-a-number"})
    assert res.exit_code != 0
    assert "Traceback" not in res.output and res.output.strip().startswith("error:")
