"""The leaderboard on the board's own storage, end to end: the real image with a virtio-blk disk
(`./qemu.sh --disk FILE`), a game issued, played with the page's rules (play_game.mjs) and posted
with curl, then a power cut (SIGKILL of QEMU, no shutdown of any kind) and a boot from the same
disk. Also: a disk of garbage is reported and started fresh, never a panic; no disk means RAM."""
import json
import os
import signal
import subprocess

import pytest

from conftest import BOARDS, ROOT, curl

LISTENING = r"listening on http://10\.42\.0\.1:80/"


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


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


def test_an_acknowledged_score_survives_a_power_cut(boot, board, tmp_path):
    disk = tmp_path / "leaderboard.img"
    first = boot_listening(boot, board, "--disk", str(disk))
    assert "leaderboard: blank area, started fresh (disk)" in first.log()
    assert disk.stat().st_size == 128 * 1024
    scores = {name: play_and_post(first, name) for name in ("Ada", "Grace")}
    power_cut(first)

    second = boot_listening(boot, board, "--disk", str(disk))
    assert "leaderboard: 2 games restored (disk, 0 bad blocks)" in second.log()
    status, lists = api(second, "/api/leaderboard")
    assert status == 200 and lists["storage"] == "disk"
    assert sorted((e["name"], e["score"]) for e in lists["top"]) == sorted(scores.items()), lists
    # and it keeps writing after the restore
    scores["Linus"] = play_and_post(second, "Linus")
    power_cut(second)
    third = boot_listening(boot, board, "--disk", str(disk))
    assert "leaderboard: 3 games restored (disk, 0 bad blocks)" in third.log()
    assert sorted((e["name"], e["score"]) for e in api(third, "/api/leaderboard")[1]["top"]) == sorted(scores.items())


def test_a_disk_of_garbage_is_reported_and_started_fresh(boot, board, tmp_path):
    disk = tmp_path / "garbage.img"
    disk.write_bytes(os.urandom(128 * 1024))
    guest = boot_listening(boot, board, "--disk", str(disk))
    log = guest.log()
    assert "leaderboard: area corrupted (256 bad blocks), started fresh (disk)" in log, log
    assert "CRASH" not in log and "panic" not in log
    play_and_post(guest, "Fresh")
    assert [e["name"] for e in api(guest, "/api/leaderboard")[1]["top"]] == ["Fresh"]


def test_without_a_disk_the_leaderboard_is_in_ram_and_says_so(boot, board):
    guest = boot_listening(boot, board, "--disk", "none")
    assert "leaderboard: blank area, started fresh (ram)" in guest.log()
    stats = json.loads(curl(guest.url + "/stats.json")[0])
    assert stats["leaderboard"]["storage"] == "ram"
    assert api(guest, "/api/leaderboard")[1]["storage"] == "ram"
