"""Check report files with real office software, outside CI: ``python -m reports.check_files FILE...``

An XLSX is converted to PDF by LibreOffice headless (``soffice``); an HTML file is
screenshotted by headless Chromium. Where a program is missing the check says so and
is skipped; exit code 1 only when a program that exists fails on a file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OFFICE = ("soffice", "libreoffice")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find(names: tuple[str, ...]) -> str | None:
    """The first of ``names`` on PATH, or None."""
    return next((found for name in names if (found := shutil.which(name))), None)


def check_xlsx(path: Path, office: str, folder: Path) -> str:
    """Convert to PDF with LibreOffice; '' when it worked, else why not."""
    done = subprocess.run(
        [office, "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(path)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = folder / (path.stem + ".pdf")
    if done.returncode or not pdf.exists() or pdf.stat().st_size == 0:
        return f"LibreOffice could not convert it: {done.stderr.strip() or done.stdout.strip()}"
    return ""


def check_html(path: Path, browser: str, folder: Path) -> str:
    """Screenshot with headless Chromium; '' when it worked, else why not."""
    shot = folder / (path.stem + ".png")
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            path.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode or not shot.exists() or shot.stat().st_size == 0:
        return f"Chromium could not render it: {done.stderr.strip()[-300:]}"
    return ""


def main(argv: list[str]) -> int:
    """Check each file; print one line per file; exit 1 if a check failed."""
    if not argv:
        print("usage: python -m reports.check_files REPORT.xlsx REPORT.html ...")
        return 2
    office, browser = find(OFFICE), find(BROWSERS)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in argv:
            path = Path(name)
            if not path.exists():
                print(f"{path}: no such file")
                failed = True
                continue
            suffix = path.suffix.lower()
            program, check = {
                ".xlsx": (office, check_xlsx),
                ".html": (browser, check_html),
            }.get(suffix, (None, None))
            if check is None:
                print(f"{path}: not checked (only .xlsx and .html are)")
            elif program is None:
                print(f"{path}: skipped, {'LibreOffice' if suffix == '.xlsx' else 'Chromium'} "
                      "is not installed")  # fmt: skip
            elif problem := check(path, program, Path(tmp)):
                print(f"{path}: FAILED — {problem}")
                failed = True
            else:
                print(f"{path}: OK ({Path(program).name})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
