"""The site is a build input: any folder of static files, nested folders
included, built with SITE_DIR and served by the real image in QEMU."""
import os
import subprocess

from conftest import ROOT, curl

PDF = bytes(range(256)) * 40


def make_site(root):
    (root / "talks" / "2026").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>Conference</title><a href=\"talks/\">Talks</a>\n")
    (root / "style.css").write_text("body { color: #222 }\n" * 50)
    (root / "talks" / "index.html").write_text("<!doctype html><title>Talks</title>\n")
    (root / "talks" / "2026" / "slides.pdf").write_bytes(PDF)
    (root / "read me.txt").write_text("spaces work\n")
    return root


def test_another_site_folder_with_nested_folders_is_served(boot, tmp_path, monkeypatch):
    site = make_site(tmp_path / "site")
    build = tmp_path / "build"
    env = dict(os.environ, SITE_DIR=str(site), BUILD_DIR=str(build))
    subprocess.run([str(ROOT / "tools" / "build.sh"), "qemu-virt-aarch64"], env=env, check=True, timeout=900,
                   capture_output=True)
    monkeypatch.setenv("BUILD_DIR", str(build))
    guest = boot("qemu-virt-aarch64")
    guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/")
    guest.wait_for_http()

    body, _, _ = curl(guest.url + "/")
    assert body == (site / "index.html").read_bytes()
    raw, _, _ = curl("-i", guest.url + "/talks")
    assert raw.startswith(b"HTTP/1.1 301") and b"\r\nLocation: /talks/\r\n" in raw
    body, _, _ = curl(guest.url + "/talks/")
    assert body == (site / "talks" / "index.html").read_bytes()
    raw, _, _ = curl("-i", guest.url + "/talks/2026/slides.pdf")
    assert b"\r\nContent-Type: application/pdf\r\n" in raw
    assert raw.split(b"\r\n\r\n", 1)[1] == PDF
    body, _, _ = curl(guest.url + "/read%20me.txt")
    assert body == b"spaces work\n"
    body, _, _ = curl("--compressed", guest.url + "/style.css")
    assert body == (site / "style.css").read_bytes()
    raw, _, _ = curl("-i", guest.url + "/game.js")
    assert raw.startswith(b"HTTP/1.1 404"), "only the chosen site is embedded"
