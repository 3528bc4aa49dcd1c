#!/usr/bin/env python3
"""The README's screenshots: one per role, from the demo city, in a real Chromium.

Run it against a server on the demo city, e.g. ``make run`` in one terminal and in another:

    .venv/bin/python scripts/screenshots.py                 # http://127.0.0.1:5000 -> docs/screenshots/
    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:5415 --out /tmp/shots

It signs in with the demo logins ``make run`` creates (password = username + "-112") and changes
nothing on the server: the call-taker's call is typed but not saved, the dispatcher and the agency
open an incident, BPBD widens the clusters' window in its own browser and opens a kelurahan's
popup, the official opens the dashboard.  Pages at 1366x768 in Bahasa Indonesia; each PNG is
reduced to 256 colours (Pillow) to stay small.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--lang=id-ID", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 30_000


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", username + "-112")
    page.click("button[type=submit]")
    page.wait_for_url("**/map**", wait_until="commit")
    page.wait_for_selector("body.ready", timeout=TIMEOUT_MS)
    page.evaluate("""() => { const m = window.peta112.map; window.__moving = 0;
        m.on('movestart', () => { window.__moving += 1; });
        m.on('moveend', () => { window.__moving = Math.max(0, window.__moving - 1); }); }""")


def settle(page) -> None:
    """The map at rest (no fly-to under way), tiles drawn and no request in flight."""
    if page.evaluate("() => !!(window.peta112 && window.peta112.map)"):
        page.wait_for_function("() => !window.__moving && !window.peta112.map._animatingZoom", timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    page.wait_for_timeout(800)  # the label canvas paints on the next frames


def tidy_map(page, legend: bool = False) -> None:
    """Layer switcher folded (as on a phone), the legend folded unless the screen is about it."""
    if "folded" not in (page.locator(".leaflet-control-layers").get_attribute("class") or ""):
        page.click(".layers-toggle")
    if not legend:
        page.evaluate("document.getElementById('map-legend').open = false")


def open_first_incident(page, where: str = "") -> None:
    """From the queue to the detail as a user does: the row, its marker's popup, "Detail"."""
    page.locator(f"#incident-list li{where} button").first.click()
    page.locator(".leaflet-popup-content button").first.click()
    page.locator("#detail h2").wait_for(timeout=TIMEOUT_MS)


def call_taker(page, base: str) -> None:
    """A fire near a market typed by keyboard: the landmark suggestion with its precision, open calls
    nearby before saving, the caller's details.  Not saved."""
    sign_in(page, base, "operator")
    page.click("#tab-new")
    page.select_option("#c-category", "kebakaran")
    page.focus("#c-address")
    page.keyboard.type("dkt pasar pleburan", delay=20)
    options = page.locator("#address-suggestions li[role=option]")
    options.first.wait_for(timeout=TIMEOUT_MS)
    names = options.all_inner_texts()
    market = next((i for i, t in enumerate(names) if t.startswith("Pasar Pleburan")), 0)  # else the first
    for _ in range(market + 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator("#loc-precision").wait_for(timeout=TIMEOUT_MS)
    page.fill("#c-caller-name", "Siti Aminah")
    page.fill("#c-caller-phone", "081234567890")
    page.fill("#c-description", "Asap tebal dari kios di sisi utara pasar, belum ada korban.")
    tidy_map(page)
    settle(page)


def dispatcher(page, base: str) -> None:
    """The queue (overdue P1 first) and an overdue call's response plan: slots filled by drive time."""
    sign_in(page, base, "dispatcher")
    open_first_incident(page)
    page.locator("#plan-slots > li").first.wait_for(timeout=TIMEOUT_MS)
    page.evaluate("() => { window.peta112.map.closePopup(); }")
    tidy_map(page)
    settle(page)
    page.locator("#plan-slots").evaluate("e => e.closest('h3, section, div').scrollIntoView({block: 'start'})")
    page.wait_for_timeout(200)


def agency(page, base: str) -> None:
    """DAMKAR: its own tasks in the queue, its task's buttons in the detail, nothing else."""
    sign_in(page, base, "damkar")
    open_first_incident(page)
    page.locator('#tasks [data-agency="DAMKAR"]').wait_for(timeout=TIMEOUT_MS)
    page.evaluate("() => { window.peta112.map.closePopup(); }")
    tidy_map(page)
    settle(page)


def bpbd(page, base: str) -> None:
    """Clusters of the last year's flood calls (window widened in the legend's form), a flood-prone
    kelurahan's popup with the flood-level buttons."""
    sign_in(page, base, "bpbd")
    tidy_map(page, legend=True)
    page.evaluate("() => { window.peta112.state.overlays.clusters.addTo(window.peta112.map); }")
    form = page.locator('#map-legend form.layer-params[data-layer="clusters"]')
    form.locator('input[name="window_days"]').fill("365")
    form.locator(".params-apply").click()
    page.wait_for_function("() => window.peta112.state.analytic.clusters.loading === false", timeout=TIMEOUT_MS)
    centre = page.evaluate("""() => {
        const g = window.peta112.state.overlays.clusters;
        let best = null;
        g.eachLayer(l => { if (!best || l.feature.properties.count > best.feature.properties.count) { best = l; } });
        const c = best ? best.getBounds().getCenter() : window.peta112.map.getCenter();
        return [c.lat, c.lng];
    }""")
    page.evaluate("c => { window.peta112.map.setView(c, 14, {animate: false}); }", centre)
    page.wait_for_function("c => window.peta112.featuresAt(L.latLng(c[0], c[1])).some(h => h.def.id === 'kelurahan')",
                           arg=centre, timeout=TIMEOUT_MS)
    settle(page)
    # A spot a little above the cluster where only the kelurahan answers (no road, no cluster polygon),
    # so the popup is the kelurahan's with BPBD's flood-level buttons.
    spot = page.evaluate("""c => {
        const map = window.peta112.map, box = document.getElementById('map').getBoundingClientRect();
        const p0 = map.latLngToContainerPoint(c);
        const only = (x, y) => {  // the kelurahan (and a road at most) answers here and a finger's width around
            for (const [dx, dy] of [[0, 0], [9, 0], [-9, 0], [0, 9], [0, -9]]) {
                const hits = window.peta112.featuresAt(map.containerPointToLatLng([x + dx, y + dy]));
                const onTop = document.elementFromPoint(box.left + x + dx, box.top + y + dy);
                if (!hits.length || !hits.every(h => ['kelurahan', 'kecamatan', 'roads'].includes(h.def.id))
                    || !onTop || onTop.tagName === 'path') { return false; }
            }
            return true;
        };
        for (let r = 40; r < 400; r += 10) {
            for (let a = 0; a < 360; a += 20) {
                const x = p0.x + r * Math.cos(a * Math.PI / 180), y = p0.y + r * Math.sin(a * Math.PI / 180);
                if (x < 300 || x > box.width - 80 || y < 420 || y > box.height - 60) { continue; }
                if (only(x, y)) { return [box.left + x, box.top + y]; }
            }
        }
        return [box.left + p0.x, box.top + p0.y];
    }""", centre)
    page.mouse.click(*spot)
    page.locator(".flood-control").wait_for(timeout=TIMEOUT_MS)
    settle(page)


def official(page, base: str) -> None:
    """The mayor's dashboard: figures, on-time per agency against its own target, hotspots."""
    sign_in(page, base, "walikota")
    page.goto(base + "/dashboard")
    page.wait_for_selector("body.ready", timeout=TIMEOUT_MS)
    page.locator("#hotspot-map path").first.wait_for(timeout=TIMEOUT_MS)
    settle(page)


SHOTS: dict[str, Callable] = {"call-taker": call_taker, "dispatcher": dispatcher, "agency": agency,
                              "bpbd": bpbd, "official": official}


def shrink(path: Path) -> None:
    """256 colours, optimised: a map screen is mostly flat colour, so it loses little."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", default="http://127.0.0.1:5000")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    ap.add_argument("--chromium", default=CHROMIUM)
    ap.add_argument("--only", choices=sorted(SHOTS), action="append", help="one role (repeatable)")
    args = ap.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"screenshots: no Chromium at {args.chromium} (Debian package chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    base = args.base_url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            for name in args.only or SHOTS:
                ctx = browser.new_context(viewport=VIEWPORT, locale="id-ID", timezone_id="Asia/Jakarta")
                page = ctx.new_page()
                try:
                    SHOTS[name](page, base)
                    path = args.out / f"{name}.png"
                    page.screenshot(path=str(path))
                    shrink(path)
                    print(f"{path} ({path.stat().st_size // 1024} KiB)")
                except PlaywrightError as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    print(f"screenshots: {name}: {first} (is {base} serving the demo city? make run)",
                          file=sys.stderr)
                    return 1
                finally:
                    ctx.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
