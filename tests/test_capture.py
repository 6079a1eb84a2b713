"""Code, git and environment capture when an experiment starts.

A new top-level experiment stores the script that started it under
`code/<name>` (or the `code_dir` tree under `code/`), the installed packages as
`environment/requirements.txt`, and records `card.git` and `card.code`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from opsml import CardRegistry, ExperimentCard, start_experiment

REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*==\S+$")


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def run_script(script: Path, *, cwd: Path) -> str:
    """Runs a script file in a fresh interpreter; returns its stdout, stripped."""
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=os.environ.copy(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    return proc.stdout.strip()


def load(uid: str) -> ExperimentCard:
    return CardRegistry("experiment").load_card(uid=uid)


def code_files(card: ExperimentCard) -> list[str]:
    return card.list_artifacts("code")


def downloaded(card: ExperimentCard, path: str, dest: Path) -> bytes:
    return card.download_artifact(path, dest).read_bytes()


def stored_files(storage: Path) -> dict[str, bytes]:
    """Every stored object (relative to the storage root) with its bytes."""
    return {
        p.relative_to(storage).as_posix(): p.read_bytes()
        for p in sorted(storage.rglob("*"))
        if p.is_file()
    }


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return proc.stdout.strip()


def make_repo(repo: Path) -> str:
    """A repository on branch main with one commit and a credentialed origin; returns HEAD."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write(repo / "train.py", "print('train')\n")
    write(repo / "util.py", "X = 1\n")
    git(repo, "add", "train.py", "util.py")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "remote", "add", "origin", "https://user:secret@example.com/r.git")
    return git(repo, "rev-parse", "HEAD")


def not_in_a_repo(path: Path) -> None:
    probe = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, check=False
    )
    if probe.returncode == 0:
        pytest.skip(f"{path} is inside a git repository")


# --------------------------------------------------------------------------- scripts

SCRIPT = (
    "# -*- coding: utf-8 -*-\n"
    "# ünïcödé comment, trailing spaces   \n"
    "import opsml\r\n"
    "\n"
    "with opsml.start_experiment(name='scripted') as exp:\n"
    "    exp.log_metric('loss', 0.5)\n"
    "print(exp.uid)\n"
    "\n\n"
)


def test_the_running_script_and_packages_are_captured(tmp_path: Path) -> None:
    script = write(tmp_path / "my train script.py", SCRIPT)
    uid = run_script(script, cwd=tmp_path)
    card = load(uid)
    assert card.list_artifacts() == ["code/my train script.py", "environment/requirements.txt"]
    assert downloaded(card, "code/my train script.py", tmp_path / "out.py") == script.read_bytes()

    code = card.code
    assert code is not None
    assert Path(code.root).resolve() == script.resolve()
    assert code.files == 1
    assert code.bytes == len(script.read_bytes())
    assert code.skipped == []

    lines = downloaded(card, "environment/requirements.txt", tmp_path / "req.txt").decode()
    packages = [line for line in lines.splitlines() if line.strip()]
    assert any(re.fullmatch(r"numpy==\d+\.\d+\S*", line) for line in packages), packages
    import numpy

    assert f"numpy=={numpy.__version__}" in packages
    assert packages == sorted(packages, key=lambda p: p.split("==")[0].lower().replace("_", "-"))
    for line in packages:
        assert REQUIREMENT.match(line), line
    names = [line.split("==")[0].lower().replace("_", "-") for line in packages]
    assert len(names) == len(set(names)), "a package is listed twice"


def run_module(args: list[str], *, cwd: Path) -> str:
    """Runs `python <args>` in a fresh interpreter; returns its stdout."""
    proc = subprocess.run(
        [sys.executable, *args],
        env=os.environ.copy(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    return proc.stdout


def test_under_pytest_the_test_file_is_captured_not_pytests_main(tmp_path: Path) -> None:
    test_file = write(
        tmp_path / "test_training.py",
        "import opsml\n\n\n"
        "def test_train():\n"
        "    with opsml.start_experiment(name='under-pytest') as exp:\n"
        "        exp.log_metric('loss', 0.5)\n"
        "    print('UID', exp.uid)\n",
    )
    pytest_args = ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(test_file)]
    out = run_module(pytest_args, cwd=tmp_path)
    uid = next(line.split()[1] for line in out.splitlines() if line.startswith("UID "))
    card = load(uid)
    assert code_files(card) == ["code/test_training.py"]
    code = card.code
    assert code is not None
    assert Path(code.root).resolve() == test_file.resolve()


def test_a_module_run_with_python_m_is_captured(tmp_path: Path) -> None:
    write(tmp_path / "trainer" / "__init__.py", "")
    module = write(tmp_path / "trainer" / "train.py", SCRIPT)
    uid = run_module(["-m", "trainer.train"], cwd=tmp_path).strip()
    card = load(uid)
    assert code_files(card) == ["code/train.py"]
    assert downloaded(card, "code/train.py", tmp_path / "t.py") == module.read_bytes()


def test_a_script_in_a_subdirectory_is_captured_by_name(tmp_path: Path) -> None:
    script = write(tmp_path / "jobs" / "nested" / "job.py", SCRIPT)
    write(tmp_path / "jobs" / "nested" / "helper.py", "ignored = True\n")
    uid = run_script(script, cwd=tmp_path)
    card = load(uid)
    assert code_files(card) == ["code/job.py"]
    assert downloaded(card, "code/job.py", tmp_path / "o.py") == script.read_bytes()


def test_children_and_resumed_experiments_do_not_capture_again(
    tmp_path: Path, storage_dir: Path
) -> None:
    script = write(
        tmp_path / "parent.py",
        "import opsml\n"
        "with opsml.start_experiment(name='parent') as parent:\n"
        "    child = parent.start_experiment(name='child')\n"
        "    child.end()\n"
        "    with_dir = parent.start_experiment(name='with-dir', code_dir='proj')\n"
        "    with_dir.end()\n"
        "print(parent.uid, child.uid, with_dir.uid)\n",
    )
    write(tmp_path / "proj" / "a.py", "a = 1\n")
    parent_uid, child_uid, with_dir_uid = run_script(script, cwd=tmp_path).split()
    parent, child, with_dir = load(parent_uid), load(child_uid), load(with_dir_uid)
    assert parent.list_artifacts() == ["code/parent.py", "environment/requirements.txt"]
    assert child.list_artifacts() == []
    assert child.code is None
    assert child.git is None
    assert not (storage_dir / "experiment" / child_uid).exists()
    assert code_files(with_dir) == ["code/a.py"]
    assert with_dir.code is not None
    assert with_dir.code.files == 1
    assert downloaded(with_dir, "code/a.py", tmp_path / "a.py.out") == b"a = 1\n"

    stored = stored_files(storage_dir)
    # One object per captured artifact (each upload is its own object).
    assert len([p for p in stored if p.startswith(f"experiment/{parent_uid}/")]) == 2
    with start_experiment(experiment_uid=parent_uid) as resumed:
        resumed.log_metric("more", 1.0)
    assert load(parent_uid).list_artifacts() == parent.list_artifacts()
    assert stored_files(storage_dir) == stored


def test_children_started_in_process_capture_only_with_code_dir(tmp_path: Path) -> None:
    write(tmp_path / "proj" / "m.py", "m = 2\n")
    with start_experiment(name="parent") as parent:
        with parent.start_experiment(name="child") as child:
            pass
        with parent.start_experiment(name="child-dir", code_dir=tmp_path / "proj") as child_dir:
            pass
    assert child.card.list_artifacts() == []
    assert child.card.code is None
    assert code_files(child_dir.card) == ["code/m.py"]
    assert child_dir.card.code is not None


# --------------------------------------------------------------------------- code_dir


def make_project(root: Path) -> dict[str, bytes]:
    """A project tree; returns the files capture must store (relative path → bytes)."""
    kept = {
        ".gitignore": b"*.log\nsecret/\n/build\n",
        "train.py": "print('trainé')\n".encode(),
        "pkg/__init__.py": b"",
        "pkg/model.py": b"class Model: ...\n",
        "pkg/.gitignore": b"generated.py\n",
        "configs/base.yaml": b"lr: 0.1\n",
        ".env.example": b"KEY=\n",
        "src/build/keep.py": b"not ignored: /build is anchored\n",
        "small.bin": b"x" * 1000,
    }
    for relative, data in kept.items():
        write(root / relative, data)
    write(root / "run.log", "noise")
    write(root / "secret" / "token.txt", "ignored directory")
    write(root / "build" / "out.o", "anchored ignore")
    write(root / "pkg" / "generated.py", "ignored by the nested .gitignore")
    write(root / "pkg" / "__pycache__" / "model.cpython-311.pyc", b"\x00pyc")
    write(root / "__pycache__" / "train.cpython-311.pyc", b"\x00pyc")
    write(root / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(root / ".git" / "config", "[core]\n")
    write(root / "myenv" / "pyvenv.cfg", "home = /usr/bin\n")
    write(root / "myenv" / "lib" / "site.py", "venv file")
    write(root / ".venv" / "lib" / "x.py", "venv file")
    write(root / "big.bin", b"y" * 1001)
    write(root / "data" / "huge.csv", b"z" * 5000)
    return kept


def test_code_dir_stores_the_tree_with_ignores_and_size_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = tmp_path / "proj"
    kept = make_project(proj)
    monkeypatch.setenv("OPSML_CODE_MAX_FILE_BYTES", "1000")
    with start_experiment(name="code-dir", code_dir=proj) as exp:
        pass
    for card in (exp.card, load(exp.uid)):
        assert code_files(card) == sorted(f"code/{r}" for r in kept)
        code = card.code
        assert code is not None
        assert Path(code.root).resolve() == proj.resolve()
        assert code.files == len(kept)
        assert code.bytes == sum(len(d) for d in kept.values())
        assert sorted(code.skipped) == ["big.bin", "data/huge.csv"]
        assert "environment/requirements.txt" in card.list_artifacts()

    out = tmp_path / "out"
    exp.card.download_artifacts("code", out)
    restored = {
        p.relative_to(out / "code").as_posix(): p.read_bytes()
        for p in (out / "code").rglob("*")
        if p.is_file()
    }
    assert restored == kept


def test_code_dir_as_a_string_and_relative_to_cwd(tmp_path: Path) -> None:
    write(tmp_path / "rel" / "a.py", "a\n")
    with start_experiment(name="rel", code_dir="rel") as exp:
        pass
    assert code_files(exp.card) == ["code/a.py"]


@pytest.mark.sqlite_only("the master key file lives beside the SQLite file")
def test_code_dir_never_stores_the_store_key_or_artifacts(
    tmp_path: Path, store_path: Path, storage_dir: Path
) -> None:
    write(tmp_path / "train.py", "print(1)\n")
    with start_experiment(name="warm-up") as first:
        first.log_artifact(tmp_path / "train.py", "logged.py")
    assert store_path.with_suffix(".key").is_file()
    assert storage_dir.is_dir()
    with start_experiment(name="everything", code_dir=tmp_path) as exp:
        pass
    assert code_files(exp.card) == ["code/train.py"]
    code = exp.card.code
    assert code is not None
    assert code.files == 1


def test_the_default_size_limit_is_five_mib(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    write(proj / "at-limit.bin", b"\x00" * (5 * 1024 * 1024))
    write(proj / "over-limit.bin", b"\x00" * (5 * 1024 * 1024 + 1))
    with start_experiment(name="default-limit", code_dir=proj) as exp:
        pass
    assert code_files(exp.card) == ["code/at-limit.bin"]
    assert exp.card.code is not None
    assert exp.card.code.skipped == ["over-limit.bin"]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [("does-not-exist", FileNotFoundError), ("a-file.txt", NotADirectoryError)],
)
def test_a_bad_code_dir_is_refused_before_anything_starts(
    tmp_path: Path, bad: str, expected: type[Exception]
) -> None:
    write(tmp_path / "a-file.txt", "x")
    with pytest.raises(expected, match=bad):
        start_experiment(name="never", code_dir=tmp_path / bad)
    assert len(CardRegistry("experiment").list_cards()) == 0


# --------------------------------------------------------------------------- git


def test_git_state_is_recorded_without_credentials(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    head = make_repo(repo)
    write(repo / "train.py", "print('changed')\n")
    with start_experiment(name="git", code_dir=repo) as exp:
        pass
    for card in (exp.card, load(exp.uid)):
        info = card.git
        assert info is not None
        assert info.commit == head
        assert info.branch == "main"
        assert info.dirty is True
        assert info.remote_url is not None
        assert "secret" not in info.remote_url
        assert "user:" not in info.remote_url
        assert "@" not in info.remote_url
        assert info.remote_url == "https://example.com/r.git"
        assert "secret" not in repr(info)
        assert "secret" not in str(card)
    assert code_files(exp.card) == ["code/train.py", "code/util.py"]


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("https://ghp_tokenvalue@github.com/o/r.git", "https://github.com/o/r.git"),
        ("ssh://git:tokenvalue@example.com:2222/r.git", "ssh://example.com:2222/r.git"),
        ("http://user:tokenvalue@example.com/r.git", "http://example.com/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
    ],
)
def test_remote_urls_lose_their_credentials(tmp_path: Path, remote: str, expected: str) -> None:
    repo = tmp_path / "repo"
    make_repo(repo)
    git(repo, "remote", "set-url", "origin", remote)
    with start_experiment(name="remote", code_dir=repo) as exp:
        pass
    info = load(exp.uid).git
    assert info is not None
    assert info.remote_url == expected
    assert "tokenvalue" not in repr(info)


def test_git_state_of_a_script_in_a_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    head = make_repo(repo)
    write(repo / "train.py", SCRIPT)
    uid = run_script(repo / "train.py", cwd=tmp_path)
    info = load(uid).git
    assert info is not None
    assert info.commit == head
    assert info.branch == "main"
    assert info.dirty is True
    assert info.remote_url == "https://example.com/r.git"


def test_a_clean_repository_with_untracked_files_is_not_dirty(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    head = make_repo(repo)
    write(repo / "untracked.py", "new = True\n")
    with start_experiment(name="clean", code_dir=repo) as exp:
        pass
    info = exp.card.git
    assert info is not None
    assert info.commit == head
    assert info.dirty is False
    assert "code/untracked.py" in code_files(exp.card)


def test_a_detached_head_has_no_branch(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    head = make_repo(repo)
    git(repo, "checkout", "-q", "--detach", head)
    git(repo, "remote", "remove", "origin")
    with start_experiment(name="detached", code_dir=repo) as exp:
        pass
    info = exp.card.git
    assert info is not None
    assert info.commit == head
    assert info.branch is None
    assert info.remote_url is None


def test_outside_a_git_repository_there_is_no_git_state(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain / "a.py", "a\n")
    not_in_a_repo(plain)
    with start_experiment(name="no-git", code_dir=plain) as exp:
        pass
    assert exp.card.git is None
    assert load(exp.uid).git is None
    assert code_files(exp.card) == ["code/a.py"]


def test_a_script_outside_a_repository_has_no_git_state(tmp_path: Path) -> None:
    not_in_a_repo(tmp_path)
    uid = run_script(write(tmp_path / "plain.py", SCRIPT), cwd=tmp_path)
    card = load(uid)
    assert card.git is None
    assert code_files(card) == ["code/plain.py"]


def test_a_user_artifact_at_a_capture_path_is_the_one_kept(tmp_path: Path) -> None:
    script = write(
        tmp_path / "train.py",
        "import opsml\n"
        "with opsml.start_experiment(name='mine') as exp:\n"
        "    exp.log_artifact('requirements.txt', 'environment/requirements.txt')\n"
        "    exp.log_artifact('copy.py', 'code/train.py')\n"
        "print(exp.uid)\n",
    )
    write(tmp_path / "requirements.txt", "torch==2.9.0\n")
    write(tmp_path / "copy.py", "my own copy")
    for _ in range(3):
        card = load(run_script(script, cwd=tmp_path))
        assert downloaded(card, "environment/requirements.txt", tmp_path / "r.txt") == (
            b"torch==2.9.0\n"
        )
        assert downloaded(card, "code/train.py", tmp_path / "c.py") == b"my own copy"
