"""Boot paths: EL2/Hyp entry, and the crash report with its reset."""
import pytest

from conftest import BOARDS, curl

INDEX_MARK = b"<title>2048"


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("option,transport", [("--virtualization", "Legacy"), ("--virtio-modern", "Modern")])
def test_boot_at_el2_and_on_modern_virtio_serves(boot, board, option, transport):
    guest = boot(board, option)
    log = guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/")
    assert f"virtio-net in slot 31 ({transport} transport)" in log
    guest.wait_for_http()
    body, _, _ = curl(guest.url + "/")
    assert INDEX_MARK in body


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("trigger,report", [
    ("panic", r"\*\*\* CRASH: panic: deliberate crash \(crash=panic\) at kernel/src/runtime\.rs:\d+"),
    ("fault", r"\*\*\* CRASH: data abort \([^)]*\) at pc=0x[0-9a-f]+, fault address=0x10,"),
])
def test_crash_prints_a_report_and_the_reset_boots_again(boot, board, trigger, report):
    guest = boot(board, "--reboot", "--append", f"crash={trigger}")
    guest.wait_for_log(report)
    guest.wait_for_log(r"\*\*\* resetting \(crash 1 in a row\)")
    log = guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/")
    assert "previous boot ended in a crash (1 in a row)" in log
    assert "skipped: this boot follows a crash" in log
    guest.wait_for_http()
    body, _, _ = curl(guest.url + "/")
    assert INDEX_MARK in body
