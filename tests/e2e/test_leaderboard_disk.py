"""The leaderboard on the board's own storage, end to end: the real image with its disk
(`./qemu.sh --disk FILE`: virtio-blk on the virt boards, an SD card on orangepi-pc), games issued,
played with the page's rules (play_game.mjs) and posted with curl, then a power cut (SIGKILL of
QEMU, no shutdown of any kind) and a boot from the same disk. Also: a disk of garbage is reported
and started fresh, never a panic; no disk means RAM."""
import json
import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import BOARDS, ROOT, curl

LISTENING = r"listening on http://10\.42\.0\.1:80/"
# orangepi-pc keeps its leaderboard on an SD card: the real Allwinner MMC driver, in QEMU.
STORAGE_BOARDS = BOARDS + ["orangepi-pc"]
GARBAGE_BLOCKS = 256


@pytest.fixture(params=STORAGE_BOARDS)
def board(request):
    return request.param


def disk_for(board, tmp_path, contents=None):
    """The disk file for `board` (qemu.sh makes a blank one where it is missing); with
    `contents`, the leaderboard's area holds them instead of blank blocks."""
    if board != "orangepi-pc":
        disk = tmp_path / "leaderboard.img"
        if contents is not None:
            disk.write_bytes(contents)
        return disk
    disk = tmp_path / "card.img"
    subprocess.run([str(ROOT / "target/release/imgtool"), "leaderboard-card", str(disk)], check=True, capture_output=True)
    if contents is not None:
        with open(disk, "r+b") as card:
            card.seek(-len(contents), os.SEEK_END)
            card.write(contents)
    return disk


def api(guest, path, body=None):
    """(status, parsed JSON body) of GET or, with `body`, POST `path`."""
    args = ["-w", "\n%{http_code}", guest.url + path]
    if body is not None:
        args = ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", json.dumps(body), *args]
    out, err, rc = curl(*args)
    assert rc == 0, err
    text, status = out.decode().rsplit("\n", 1)
    return int(status), json.loads(text) if text else None


def play_and_post(guest, name):
    """Plays one game from an issued seed and posts it; returns the score the appliance kept."""
    status, game = api(guest, "/api/game", {})
    assert status == 200, game
    played = json.loads(subprocess.run(["node", str(ROOT / "tests/e2e/play_game.mjs"), str(game["seed"])],
                                       check=True, capture_output=True, text=True).stdout)
    status, answer = api(guest, "/api/score", {"id": game["id"], "name": name, "moves": played["moves"],
                                               "score": played["score"]})
    assert status == 200, answer
    return played["score"]


def power_cut(guest):
    """Kills QEMU outright: the guest gets no warning, as when the booth's plug is pulled."""
    os.killpg(guest.proc.pid, signal.SIGKILL)
    guest.proc.wait(timeout=10)


def boot_listening(boot, board, *args):
    guest = boot(board, *args)
    guest.wait_for_log(LISTENING, timeout=60)
    guest.wait_for_http(timeout=30)
    return guest


def stream_posts(guest, stop, acknowledged):
    """Plays and posts games until `stop` is set; each score the appliance answered 200 to is
    appended to `acknowledged` before the next game starts."""
    n = 0
    while not stop.is_set():
        n += 1
        try:
            acknowledged.append((f"p{n}", play_and_post(guest, f"p{n}")))
        except (AssertionError, json.JSONDecodeError):
            return  # the power went while this post was in flight: it was never acknowledged


def test_acknowledged_scores_survive_a_power_cut_during_a_stream_of_posts(boot, board, tmp_path):
    disk = disk_for(board, tmp_path)
    first = boot_listening(boot, board, "--disk", str(disk))
    assert "leaderboard: blank area, started fresh (disk)" in first.log()
    if board == "orangepi-pc":
        assert re.search(r"SD card \S+ \(SDSC, 1 MiB\): leaderboard area at block 1792, 256 blocks", first.log())
    stop, acknowledged = threading.Event(), []
    poster = threading.Thread(target=stream_posts, args=(first, stop, acknowledged))
    poster.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.uniform(0, 1.5))  # the cut lands at a random point of the stream
    power_cut(first)
    stop.set()
    poster.join(timeout=30)
    kept = list(acknowledged)
    assert len(kept) >= 2, first.log()

    second = boot_listening(boot, board, "--disk", str(disk))
    restored = re.search(r"leaderboard: (\d+) games restored \(disk, (\d+) bad blocks\)", second.log())
    assert restored, second.log()
    # The post in flight at the cut may or may not have landed; nothing else may differ.
    assert int(restored[1]) in (len(kept), len(kept) + 1) and int(restored[2]) <= 1, restored[0]
    status, lists = api(second, "/api/leaderboard")
    assert status == 200 and lists["storage"] == "disk"
    shown = {(e["name"], e["score"]) for e in lists["top"]}
    assert set(kept) <= shown, (kept, lists)
    # and it keeps writing after the restore
    kept.append(("Linus", play_and_post(second, "Linus")))
    power_cut(second)
    third = boot_listening(boot, board, "--disk", str(disk))
    assert set(kept) <= {(e["name"], e["score"]) for e in api(third, "/api/leaderboard")[1]["top"]}


def test_a_disk_of_garbage_is_reported_and_started_fresh(boot, board, tmp_path):
    disk = disk_for(board, tmp_path, os.urandom(GARBAGE_BLOCKS * 512))
    guest = boot_listening(boot, board, "--disk", str(disk))
    log = guest.log()
    assert f"leaderboard: area corrupted ({GARBAGE_BLOCKS} bad blocks), started fresh (disk)" in log, log
    assert "CRASH" not in log and "panic" not in log
    play_and_post(guest, "Fresh")
    assert [e["name"] for e in api(guest, "/api/leaderboard")[1]["top"]] == ["Fresh"]


def test_without_a_disk_the_leaderboard_is_in_ram_and_says_so(boot, board):
    guest = boot_listening(boot, board, "--disk", "none")
    assert "leaderboard: blank area, started fresh (ram)" in guest.log()
    stats = json.loads(curl(guest.url + "/stats.json")[0])
    assert stats["leaderboard"]["storage"] == "ram"
    assert api(guest, "/api/leaderboard")[1]["storage"] == "ram"
