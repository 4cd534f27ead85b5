"""The leaderboard on a USB stick (`./qemu.sh BOARD --usb-storage FILE`): QEMU's `usb-storage`, high
speed on the SoC's first EHCI, so every block goes over the EHCI bulk path (Bulk-Only Transport,
SCSI READ/WRITE(10)) that the RT5370 dongle will use and QEMU cannot otherwise exercise. The
cubieboard has no SD card in QEMU 7.2, so the stick is its only storage; the Orange Pi PC takes it
when its SD card has no leaderboard area (the tests run it with `--disk none`) and leaves it alone
when the card has one. Games are played (play_game.mjs) and posted, QEMU is SIGKILLed, and the next
boot from the same stick restores them. A stick without the leaderboard partition (random bytes)
is reported and never written. Images: tools/build.sh cubieboard orangepi-pc."""
import json
import os
import re
import subprocess

import pytest

from conftest import ROOT, curl
from test_boards import require
from test_leaderboard_disk import api, boot_listening, play_and_post, power_cut

# Where qemu.sh plugs the stick: each board's log name for it.
STICK_AT = {"cubieboard": "3-2", "orangepi-pc": "5-1"}
AREA = "mass storage, 2048 blocks of 512 B, leaderboard area at block 1792, 256 blocks"
NO_AREA = "mass storage, 2048 blocks of 512 B, no leaderboard partition (type 0xda; imgtool leaderboard-card makes one): not used"


@pytest.fixture(autouse=True)
def image():
    for board in STICK_AT:
        require(ROOT / "build" / board / f"{board}.bin", f"tools/build.sh {board}")
    require(ROOT / "target/release/imgtool", "tools/build.sh (builds imgtool)")


def leaderboard_stick(path):
    """A 1 MiB stick as `imgtool leaderboard-card` makes it: an MBR and the 0xda partition."""
    subprocess.run([str(ROOT / "target/release/imgtool"), "leaderboard-card", str(path)], check=True, capture_output=True)
    return path


@pytest.mark.parametrize("board", STICK_AT)
def test_games_on_a_stick_survive_a_power_cut_and_are_served_after_the_reboot(boot, board, tmp_path):
    stick = leaderboard_stick(tmp_path / "stick.img")
    blank = stick.read_bytes()
    first = boot_listening(boot, board, "--usb-storage", str(stick))
    log = first.log()
    assert f"USB {STICK_AT[board]}: 46f4:0001 QEMU USB HARDDRIVE, high speed" in log
    assert f"USB {STICK_AT[board]}: {AREA}" in log, log
    assert "leaderboard: blank area, started fresh (disk)" in log, log
    kept = [(name, play_and_post(first, name)) for name in ("Ada", "Grace", "Linus")]
    power_cut(first)
    written = stick.read_bytes()
    assert written[:1792 * 512] == blank[:1792 * 512], "nothing outside the leaderboard partition was written"
    assert written != blank

    second = boot_listening(boot, board, "--usb-storage", str(stick))
    restored = re.search(r"leaderboard: (\d+) games restored \(disk, (\d+) bad blocks\)", second.log())
    assert restored, second.log()
    assert (int(restored[1]), int(restored[2])) == (len(kept), 0), restored[0]
    status, lists = api(second, "/api/leaderboard")
    assert status == 200 and lists["storage"] == "disk", lists
    assert set(kept) <= {(e["name"], e["score"]) for e in lists["top"]}, (kept, lists)
    stats = json.loads(curl(second.url + "/stats.json")[0])
    assert stats["leaderboard"]["storage"] == "disk", stats["leaderboard"]
    assert "panicked" not in second.log() and "CRASH" not in second.log()


@pytest.mark.parametrize("board", STICK_AT)
def test_a_stick_of_random_bytes_is_reported_and_never_written(boot, board, tmp_path):
    stick = tmp_path / "visitor.img"
    stick.write_bytes(os.urandom(1 << 20))
    before = stick.read_bytes()
    guest = boot_listening(boot, board, "--usb-storage", str(stick))
    log = guest.log()
    assert f"USB {STICK_AT[board]}: {NO_AREA}" in log, log
    assert "leaderboard: blank area, started fresh (ram)" in log, log
    assert "no driver here" not in log, "the stick was looked at, not passed over"
    assert "panicked" not in log and "CRASH" not in log
    play_and_post(guest, "Visitor")
    assert api(guest, "/api/leaderboard")[1]["storage"] == "ram"
    power_cut(guest)
    assert stick.read_bytes() == before, "a visitor's stick is never written"


def test_orangepi_pc_keeps_the_leaderboard_on_its_sd_card_and_leaves_the_stick_alone(boot, tmp_path):
    card = leaderboard_stick(tmp_path / "card.img")
    stick = leaderboard_stick(tmp_path / "stick.img")
    before = stick.read_bytes()
    guest = boot_listening(boot, "orangepi-pc", "--disk", str(card), "--usb-storage", str(stick))
    log = guest.log()
    assert re.search(r"SD card \S+ \(SDSC, 1 MiB\): leaderboard area at block 1792, 256 blocks", log), log
    assert "USB 5-1: mass storage device, no driver here: ignored" in log, log
    assert AREA not in log
    play_and_post(guest, "Card")
    power_cut(guest)
    assert stick.read_bytes() == before
