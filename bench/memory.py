"""The peak memory of a process and its children, sampled from outside.

Children forked by a report share most of their pages with their parent, so adding up
their resident sizes would count those pages twice. PSS splits each shared page among
the processes that map it: the sum over the tree is the memory the tree really holds.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):  # gone meanwhile, or not Linux
        pass
    return 0


def _tree(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def tree_mb(root: int) -> float:
    """The summed PSS of ``root`` and its descendants now, in MB."""
    return sum(_pss_kb(pid) for pid in _tree(root)) / 1024


def run_sampled(args: list[str], cwd: Path, every: float = 0.02) -> tuple[str, float]:
    """Run ``args`` to the end: its standard output, and the tree's peak summed PSS (MB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(args, stdout=out, stderr=err, text=True, cwd=cwd)
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, tree_mb(child.pid))
            time.sleep(every)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise subprocess.CalledProcessError(child.returncode, args, out.read(), err.read())
        return out.read(), peak
