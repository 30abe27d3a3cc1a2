"""`frontscan detect` end to end: stdin, files, HTML, e-mail, output formats, bad input."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from frontscan.cli import app
from frontscan.detect import detect_records
from frontscan.detector.files import MAX_INPUT_BYTES, load_text
from frontscan.errors import UsageError

UPS = "1Z999AA10123456784"
TEXT = f"Hi,\nyour UPS tracking number is {UPS}.\nThe LaserShip label reads LE12345678 maybe.\n"
HINT_TEXT = f"UPS: {UPS}\nReminder: LE12345678 is the value."
runner = CliRunner()


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


def test_stdin_jsonl() -> None:
    result = runner.invoke(app, ["detect"], input=TEXT)
    assert result.exit_code == 0, result.output
    records = _lines(result.stdout)
    assert [r["tracking_number"] for r in records] == [UPS, "LE12345678"]
    assert records[0] == {
        "tracking_number": UPS,
        "carrier": "ups",
        "format": "ups",
        "checksum_valid": True,
        "confidence": records[0]["confidence"],
        "start": TEXT.index(UPS),
        "end": TEXT.index(UPS) + len(UPS),
    }
    assert "hint" not in records[0]


def test_file_and_all_marks_hints(tmp_path: Path) -> None:
    path = tmp_path / "mail.txt"
    path.write_text(HINT_TEXT, encoding="utf-8")
    plain = _lines(runner.invoke(app, ["detect", str(path)]).stdout)
    assert [r["tracking_number"] for r in plain] == [UPS]
    result = runner.invoke(app, ["detect", "--all", str(path)])
    assert result.exit_code == 0
    every = _lines(result.stdout)
    assert [(r["tracking_number"], r["hint"]) for r in every] == [
        (UPS, False),
        ("LE12345678", True),
    ]


def test_table_output() -> None:
    result = runner.invoke(app, ["detect", "--format", "table", "--all"], input=HINT_TEXT)
    assert result.exit_code == 0
    assert UPS in result.stdout
    assert "(hint)" in result.stdout
    assert "lasership" in result.stdout


def test_html_and_eml_files(tmp_path: Path) -> None:
    html = tmp_path / "mail.html"
    html.write_text(f"<html><body><p>UPS tracking:<br><b>{UPS}</b></p></body></html>")
    assert [r["tracking_number"] for r in _lines(runner.invoke(app, ["detect", str(html)]).stdout)]
    message = EmailMessage()
    message["Subject"] = "Your order has shipped"
    message["From"] = "shop@example.com"
    message.set_content(f"Tracking: {UPS}")
    message.add_alternative(f"<p>Tracking: <b>{UPS}</b></p>", subtype="html")
    eml = tmp_path / "mail.eml"
    eml.write_bytes(bytes(message))
    text = load_text(eml)
    assert text.startswith("Subject: Your order has shipped")
    assert text.count(UPS) == 1
    records = _lines(runner.invoke(app, ["detect", str(eml)]).stdout)
    assert [r["tracking_number"] for r in records] == [UPS]


def test_html_only_email_from_stdin() -> None:
    message = EmailMessage()
    message["Subject"] = "hi"
    message.set_content(f"<div>UPS <i>{UPS}</i></div>", subtype="html")
    result = runner.invoke(app, ["detect"], input=bytes(message))
    assert [r["tracking_number"] for r in _lines(result.stdout)] == [UPS]


def test_empty_input_prints_nothing() -> None:
    for given in ("", "   \n\n"):
        result = runner.invoke(app, ["detect"], input=given)
        assert (result.exit_code, result.stdout) == (0, "")


def _fails(args: list[str], needle: str, given: bytes | None = None) -> None:
    result = runner.invoke(app, ["detect", *args], input=given)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message
    assert message.startswith("frontscan: ")
    assert needle in message
    assert "Traceback" not in result.output


def test_missing_file(tmp_path: Path) -> None:
    _fails([str(tmp_path / "nope.txt")], "no such file")


def test_directory(tmp_path: Path) -> None:
    _fails([str(tmp_path)], "directory")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    _fails([str(path)], "binary")


def test_binary_stdin() -> None:
    _fails([], "binary", given=b"abc\x00def")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Sendung für Müller".encode("latin-1"))
    _fails([str(path)], "not UTF-8")


def test_too_large_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_INPUT_BYTES + 1)
    _fails([str(path)], "larger than 20 MB")


def test_too_large_stdin() -> None:
    _fails([], "larger than 20 MB", given=b"a" * (MAX_INPUT_BYTES + 10))


def test_bad_format_option() -> None:
    _fails(["--format", "xml"], "--format")


def test_load_text_errors_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_text(tmp_path / "missing.eml")


def test_detect_records_deduplicates() -> None:
    records = detect_records(f"UPS {UPS} and again UPS {UPS}", include_hints=False)
    assert [r["tracking_number"] for r in records] == [UPS]
