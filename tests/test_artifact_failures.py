"""An upload that fails midway (a real write error from the file system) changes nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from opsml import CardRegistry


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.embedded_only("the disk that fills up is the client's artifact storage")
def test_an_upload_failing_midway_leaves_user_files_and_earlier_artifacts_intact(
    run_python, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3_000_000))
    small = tmp_path / "small.txt"
    small.write_text("kept")
    before = (digest(big), big.stat().st_mtime_ns)

    proc = run_python(
        """
        import resource, signal
        from opsml import StoreError, start_experiment

        # Writes past 1 MB now fail with EFBIG, as on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        with start_experiment(name="fsize") as exp:
            exp.log_artifact("small.txt")
            exp.flush()
            resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, hard))
            try:
                exp.log_artifact("big.bin")
            except StoreError as error:
                print("refused:", error)
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        print(exp.uid)
        """
    )
    refused, uid = proc.stdout.strip().splitlines()
    assert refused.startswith("refused:")
    assert "File too large" in refused

    assert (digest(big), big.stat().st_mtime_ns) == before
    card = CardRegistry("experiment").load_card(uid=uid)
    assert card.status == "completed"
    assert "big.bin" not in card.list_artifacts()
    restored = card.download_artifact("small.txt", tmp_path / "restored.txt")
    assert restored.read_text() == "kept"
    leftovers = [p for p in (tmp_path / "storage").rglob(".upload-*")]
    assert leftovers == []
