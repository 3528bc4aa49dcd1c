"""``peta112 channels send``: deliver the replies queued for reporters (app/calls/outbox.py).

Runs beside ``peta112 serve`` (a systemd unit or a second terminal): each round sends the
oldest pending replies of the configured channels and sleeps ``--interval`` seconds;
``--once`` sends one round and exits (cron).  Failures are recorded on the reply and retried.
"""

from __future__ import annotations

import time

import click

from app.cli.common import UserError, cli_session, friendly, settings


@click.group("channels")
def channels() -> None:
    """Chat and SMS channels: send the replies queued for reporters."""


@channels.command("send")
@click.option("--once", is_flag=True, help="Send one round and exit.")
@click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(min=1.0),
              help="Seconds between rounds.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="Replies sent per round at most.")
@click.pass_context
@friendly
def send(ctx: click.Context, once: bool, interval: float, limit: int) -> None:
    """Send pending replies through Telegram, WhatsApp and the SMS gateway."""
    from app.calls import outbox

    config = settings(ctx)
    if not outbox.configured(config):
        raise UserError("no channel is configured: set PETA112_TELEGRAM_BOT_TOKEN, PETA112_WHATSAPP_TOKEN with "
                        "PETA112_WHATSAPP_PHONE_NUMBER_ID, or PETA112_SMS_GATEWAY_URL")
    session = cli_session(ctx)
    try:
        while True:
            done = outbox.send_pending(session, config, limit)
            if done.sent or done.failed or once:
                click.echo(f"{done.sent} sent, {done.failed} failed ({', '.join(done.channels)})")
            if once:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        return
    finally:
        session.close()
