"""scripts/vendor-font copies the font into the deployed source with its licence: the IPA Font
License lets the font be redistributed (the deployed archive is a copy) only with its agreement,
and the script used to copy the font alone and only say to keep the licence."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_FONT = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    """The script in a copy of the repository's layout (it writes under functions/ of its own)."""
    (tmp_path / "repo" / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "vendor-font", tmp_path / "repo" / "scripts" / "vendor-font")
    done = subprocess.run(["bash", str(tmp_path / "repo" / "scripts" / "vendor-font"), *args],
                          capture_output=True, text=True, timeout=60)
    return done, tmp_path / "repo" / "functions" / "workers" / "office" / "fonts"


def test_a_font_with_its_licence_beside_it_is_copied_with_it(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "myfont.ttf").write_bytes(b"\x00\x01\x00\x00font")
    (source / "IPA_Font_License_Agreement_v1.0.txt").write_text("IPA Font License Agreement v1.0\n")
    done, fonts = run(tmp_path, str(source / "myfont.ttf"))
    assert done.returncode == 0, done.stderr
    assert (fonts / "myfont.ttf").read_bytes() == b"\x00\x01\x00\x00font"
    assert (fonts / "myfont-LICENCE.txt").read_text() == "IPA Font License Agreement v1.0\n"


def test_debians_ipa_font_is_copied_with_its_packages_licence(tmp_path):
    if not DEBIAN_FONT.exists():  # scripts/install-font installs it, so CI (CI=true) fails without it
        missing("fonts-ipafont-gothic is not installed (scripts/install-font)")
    done, fonts = run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (fonts / "ipag.ttf").stat().st_size == DEBIAN_FONT.stat().st_size
    assert "IPA Font License" in (fonts / "ipag-LICENCE.txt").read_text(errors="replace")


def test_a_font_whose_licence_is_not_found_is_copied_with_a_warning(tmp_path):
    (tmp_path / "myfont.ttf").write_bytes(b"font")
    done, fonts = run(tmp_path, str(tmp_path / "myfont.ttf"))
    assert done.returncode == 0 and (fonts / "myfont.ttf").exists()
    assert "no licence found" in done.stderr and not list(fonts.glob("*LICENCE*"))
