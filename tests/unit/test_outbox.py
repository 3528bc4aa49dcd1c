"""The reply sender's requests per channel, its settings, and its command's one-line failures."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.calls.outbox import configured, request_for
from app.cli import cli
from app.config import Settings, from_env

CHANNEL_ENV = ("PETA112_TELEGRAM_BOT_TOKEN", "PETA112_WHATSAPP_TOKEN", "PETA112_WHATSAPP_PHONE_NUMBER_ID",
               "PETA112_SMS_GATEWAY_URL")


def test_each_channel_gets_its_api_request_and_unconfigured_ones_none():
    s = Settings(telegram_bot_token="1:t", whatsapp_token="wa", whatsapp_phone_number_id="999",
                 sms_gateway_url="https://sms.example/send", sms_gateway_key="k")
    tg = request_for(s, "telegram", "555001", "Laporan diterima")
    assert tg.url == "https://api.telegram.org/bot1:t/sendMessage" and tg.body == {"chat_id": "555001",
                                                                                   "text": "Laporan diterima"}
    wa = request_for(s, "whatsapp", "+6281200000001", "halo")
    assert wa.url == "https://graph.facebook.com/v21.0/999/messages" and wa.headers["Authorization"] == "Bearer wa"
    assert wa.body["to"] == "6281200000001" and wa.body["text"]["body"] == "halo" and wa.body["type"] == "text"
    sms = request_for(s, "sms", "+6281200000001", "halo")
    assert sms.url == "https://sms.example/send" and sms.headers == {"Authorization": "Bearer k"}
    assert configured(s) == ["telegram", "whatsapp", "sms"]
    assert configured(Settings(whatsapp_token="wa")) == []  # no sender number: not configured
    assert request_for(Settings(), "telegram", "1", "x") is None


def test_api_roots_come_from_the_environment_and_must_be_http():
    s = from_env({"PETA112_TELEGRAM_API": "http://127.0.0.1:8081/", "PETA112_SMS_GATEWAY_URL": "https://gw.example/x"})
    assert (s.telegram_api, s.sms_gateway_url) == ("http://127.0.0.1:8081", "https://gw.example/x")
    with pytest.raises(ValueError, match="PETA112_SMS_GATEWAY_URL"):
        from_env({"PETA112_SMS_GATEWAY_URL": "file:///etc/passwd"})


@pytest.mark.parametrize(("env", "says"), [({}, "no channel is configured"),
                                           ({"PETA112_SMS_GATEWAY_URL": "ftp://gw"}, "PETA112_SMS_GATEWAY_URL")])
def test_send_without_a_channel_is_one_readable_line(monkeypatch, env, says):
    for name in CHANNEL_ENV:
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["channels", "send", "--once"], env=env)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.strip().startswith("error: ") and says in result.output
    assert len(result.output.strip().splitlines()) == 1
