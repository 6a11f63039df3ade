"""Disk full, for real: the data folder on a 6 MB filesystem that a participant's checkpoints
fill. Each write that cannot be stored is answered 507 with one sentence and Retry-After (it
was an unexplained 500 before), nothing acknowledged is lost, and recording resumes once space
is free."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LiveServer, enrolled_researcher, start_live_server, stop_live_server
from fault_helpers import (
    assert_one_sentence,
    checkpoint,
    fill_disk,
    publish_and_start,
    small_filesystem,
    submit,
    trial,
)

BATCH = 10
FILLER = 2000  # bytes of text per trial: the WAL must grow past what it already holds


@pytest.fixture(scope="module")
def small_disk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with small_filesystem(tmp_path_factory.mktemp("small-disk") / "mnt") as mnt:
        live = start_live_server(mnt / "data")
        try:
            yield live
        finally:
            stop_live_server(live)


def test_disk_full_is_507_with_a_sentence_and_nothing_acknowledged_is_lost(
    small_disk_server: LiveServer,
) -> None:
    live = small_disk_server
    url = live.url
    reader = enrolled_researcher(live)  # signs in (writes) while there is still space
    run_id = publish_and_start(url)
    mnt = live.data_dir.parent

    acknowledged: dict[int, dict] = {}
    first = [trial(i, FILLER) for i in range(BATCH)]
    assert checkpoint(url, run_id, first, 0).status_code == 200
    acknowledged.update({t["trial_index"]: t for t in first})

    filler = fill_disk(mnt)
    refused = None
    for n in range(1, 200):  # the WAL may still take a batch or two in space it already has
        batch = [trial(n * BATCH + i, FILLER) for i in range(BATCH)]
        resp = checkpoint(url, run_id, batch, n)
        if resp.status_code == 200:
            acknowledged.update({t["trial_index"]: t for t in batch})
            continue
        refused = (n, batch, resp)
        break
    assert refused is not None, "the small disk never filled up"
    n, batch, resp = refused
    assert_one_sentence(resp, 507, "disk", "full")

    final = [*acknowledged.values(), *batch]
    assert_one_sentence(submit(url, run_id, final), 507, "disk", "full")
    # Still full: asking again gets the same answer, not a 500.
    assert checkpoint(url, run_id, batch, n).status_code == 507

    filler.unlink()  # the experimenter frees some space
    resumed = checkpoint(url, run_id, batch, n)
    assert resumed.status_code == 200, resumed.text
    acknowledged.update({t["trial_index"]: t for t in batch})
    assert submit(url, run_id, final).status_code == 201

    stored = reader.decrypt(run_id)
    got = {t["trial_index"]: t for t in stored["trials"]}
    assert set(got) == set(acknowledged)
    for index, sent in acknowledged.items():
        assert got[index]["note"] == sent["note"] and got[index]["rt_ms"] == sent["rt_ms"]
    assert stored["status"] == "completed"


def test_free_space_of_the_data_folder_is_reported(small_disk_server: LiveServer) -> None:
    from cogflow_desktop.store.space import space_report

    report = space_report(small_disk_server.data_dir)
    assert 0 < report.free_bytes <= 6 * 1024 * 1024
    assert report.low  # 6 MB is far below the warning threshold
    assert "MB" in report.warning and report.warning.endswith(".")


def test_space_report_of_an_ordinary_folder(tmp_path: Path) -> None:
    from cogflow_desktop.store.space import space_report

    report = space_report(tmp_path)
    assert report.free_bytes > 0
