"""The carrier-notification corpus (tests/corpus/*.eml): the detector, `detect`, and a scan.

34 multipart notifications in English, German, French, Spanish and Polish (HTML tables,
numbers split into spans, tracking links, stub or missing plain parts, footers full of
ids and timestamps, several parcels per e-mail). Every expected number must be found
with the carrier the e-mail names and nothing else may be stored; numbers of formats the
detector does not know must at least be hints, so `--llm auto` asks the model. The same
files served by the simulator must end up in the ledger exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from frontscan.cli import app
from frontscan.detector.carriers import find_candidates
from frontscan.detector.files import load_document
from frontscan.simulator.runtime import running_simulator
from tests.scanning import START, fast_options, run_scan, settings_for, stored

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, list[dict[str, str]]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8")
)
runner = CliRunner()


def test_corpus_is_realistic_and_large() -> None:
    files = sorted(CORPUS.glob("*.eml"))
    assert len(files) >= 30
    assert {f.name for f in files} == set(EXPECTED)
    texts = [f.read_text(encoding="utf-8") for f in files]
    assert sum("multipart/alternative" in t for t in texts) >= 25
    assert sum(len(EXPECTED[f.name]) > 1 for f in files) >= 8
    languages = {f.stem.rsplit("-", 1)[1] for f in files}
    assert {"en", "de", "fr", "es", "pl"} <= languages


def test_detector_recall_and_precision_on_the_corpus() -> None:
    missed: list[str] = []
    false: list[str] = []
    for name, rows in EXPECTED.items():
        document = load_document(CORPUS / name)
        found = find_candidates(document.text, document.links)
        stored_ = {(c.number, c.carrier) for c in found if c.storable}
        hints = {c.number for c in found if not c.storable}
        want = {(r["tracking_number"], r["carrier"]) for r in rows if r["via"] == "detector"}
        for_model = {r["tracking_number"] for r in rows if r["via"] == "model"}
        missed += [f"{name}: {n}" for n in sorted(want - stored_)]
        missed += [f"{name}: {n} (no hint)" for n in sorted(for_model - hints)]
        false += [f"{name}: {n}" for n in sorted(stored_ - want)]
    assert not missed, missed
    assert not false, false


def test_the_plain_part_alone_would_miss_stub_mails() -> None:
    stubs = [n for n in EXPECTED if 0 < len(_plain(CORPUS / n)) < 300]
    assert len(stubs) >= 5
    for name in stubs:
        assert not [c for c in find_candidates(_plain(CORPUS / name)) if c.storable]


def _plain(path: Path) -> str:
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    part = message.get_body(("plain",))
    return str(part.get_content()) if part is not None else ""


def test_detect_command_reads_both_parts_and_links() -> None:
    name = "03-fedex-smartpost-en.eml"
    result = runner.invoke(app, ["detect", str(CORPUS / name)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["tracking_number"], r["carrier"]) for r in records] == [
        (r["tracking_number"], r["carrier"]) for r in EXPECTED[name]
    ]


async def test_a_scan_of_the_corpus_stores_exactly_the_expected_rows(database_url: str) -> None:
    async with running_simulator(fast_options(corpus=CORPUS)) as sim:
        settings = settings_for(sim, database_url)
        result = await run_scan(settings, after=START.timestamp())
        rows = await stored(database_url)
        truth = {
            (t.conversation_id, t.message_id, t.tracking_number, t.carrier)
            for t in sim.mailbox.truth
        }
    assert result.summary.status == "succeeded"
    assert len(truth) == sum(len(rows_) for rows_ in EXPECTED.values())
    false, missing = sorted(set(rows) - truth), sorted(truth - set(rows))
    assert not false, f"stored but not true: {false}"
    assert not missing, f"true but not stored: {missing}"
