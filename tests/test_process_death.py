"""What a dying process leaves behind: SIGKILL and SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

from opsml import CardRegistry, get_experiment_metrics, start_experiment

LOGGER = textwrap.dedent(
    """
    import sys, time
    from opsml import start_experiment
    with start_experiment(name="doomed") as exp:
        for step in range(1000):
            exp.log_metric("loss", 1.0, step=step)
        exp.flush()
        print(exp.uid, flush=True)
        for step in range(1000, 1500):
            exp.log_metric("loss", 1.0, step=step)
        print("logged 1500 without flushing", flush=True)
        step = 1500
        while True:
            exp.log_metric("loss", 1.0, step=step)
            step += 1
            time.sleep(0.001)
    """
)


def start_logger() -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", LOGGER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    uid = child.stdout.readline().strip()
    assert uid, child.stderr.read() if child.stderr else ""
    return child, uid


def test_sigkill_keeps_what_was_flushed_and_the_next_open_marks_it_killed() -> None:
    child, uid = start_logger()
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    # A process that opens the store next notices the dead one.
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from opsml import CardRegistry; "
            "card = CardRegistry('experiment').load_card(uid=sys.argv[1]); "
            "print(card.status, card.ended_at is not None)",
            uid,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.split() == ["killed", "True"]
    steps = [m.step for m in get_experiment_metrics(uid)]
    assert steps[:1000] == list(range(1000))
    # It can be resumed, and carries on where it stopped.
    with start_experiment(experiment_uid=uid) as resumed:
        resumed.log_metric("loss", 0.5, step=10**6)
    card = CardRegistry("experiment").load_card(uid=uid)
    assert card.status == "completed"
    assert get_experiment_metrics(uid)[-1].step == 10**6


def test_sigterm_stores_everything_marks_killed_and_still_ends_the_process() -> None:
    child, uid = start_logger()
    assert child.stdout is not None
    assert child.stdout.readline().startswith("logged 1500")
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGTERM
    card = CardRegistry("experiment").load_card(uid=uid)
    assert card.status == "killed"
    metrics = get_experiment_metrics(uid)
    steps = [m.step for m in metrics]
    assert steps == list(range(len(steps)))
    assert len(steps) >= 1500


def test_a_program_with_its_own_sigterm_handler_keeps_it(run_python) -> None:
    proc = run_python(
        """
        import signal
        signal.signal(signal.SIGTERM, lambda *_: print("mine"))
        from opsml import start_experiment
        with start_experiment(name="own-handler"):
            pass
        print(signal.getsignal(signal.SIGTERM).__name__)
        """
    )
    assert proc.stdout.strip() == "<lambda>"


def test_importing_opsml_changes_no_signal_handler(run_python) -> None:
    proc = run_python(
        """
        import signal
        import opsml
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        """
    )
    assert proc.stdout.strip() == "True"


RANK_ZERO = textwrap.dedent(
    """
    import os, sys, time
    from opsml import start_experiment
    stop = sys.argv[1]
    with start_experiment(name="ranks") as exp:
        print(exp.uid, flush=True)
        step = 0
        while not os.path.exists(stop):
            exp.log_metric("rank0/loss", 1.0, step=step)
            step += 1
            time.sleep(0.001)
    print(step, flush=True)
    """
)

RANK_ONE = textwrap.dedent(
    """
    import sys, time
    from opsml import start_experiment
    exp = start_experiment(experiment_uid=sys.argv[1])
    for step in range(100):
        exp.log_metric("rank1/loss", 2.0, step=step)
    exp.flush()
    print("ready", flush=True)
    time.sleep(600)
    """
)


def test_a_rank_dying_while_others_log_does_not_mark_the_experiment_killed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    stop = tmp_path / "stop"
    rank0 = subprocess.Popen(
        [sys.executable, "-c", RANK_ZERO, str(stop)], stdout=subprocess.PIPE, text=True
    )
    assert rank0.stdout is not None
    uid = rank0.stdout.readline().strip()
    # The second rank resumes the experiment, which makes it the lease holder.
    rank1 = subprocess.Popen(
        [sys.executable, "-c", RANK_ONE, uid], stdout=subprocess.PIPE, text=True
    )
    assert rank1.stdout is not None
    assert rank1.stdout.readline().strip() == "ready"
    rank1.send_signal(signal.SIGKILL)
    rank1.communicate()
    # This process opens the store for the first time now: rank 0 still writes.
    assert CardRegistry("experiment").load_card(uid=uid).status == "running"
    stop.touch()
    out, _ = rank0.communicate(timeout=60)
    assert rank0.returncode == 0
    logged = int(out.strip())
    card = CardRegistry("experiment").load_card(uid=uid)
    assert card.status == "completed"
    assert [m.step for m in get_experiment_metrics(uid, "rank0/loss")] == list(range(logged))
    assert [m.step for m in get_experiment_metrics(uid, "rank1/loss")] == list(range(100))


def test_a_process_that_opened_the_store_before_a_kill_sees_the_run_killed() -> None:
    # This process has the store open (and checked it) before the run even starts.
    assert CardRegistry("experiment").list_cards() is not None
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import time
                from opsml import start_experiment
                with start_experiment(name="killed-later") as exp:
                    print(exp.uid, flush=True)
                    for step in range(70):
                        exp.log_metric("loss", 1.0, step=step)
                        time.sleep(0.1)
                    time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    uid = child.stdout.readline().strip()
    assert CardRegistry("experiment").load_card(uid=uid).status == "running"
    time.sleep(7.5)  # past the first heartbeat (5 s)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    deadline = time.monotonic() + 10
    card = CardRegistry("experiment").load_card(uid=uid)
    while card.status == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
        card = CardRegistry("experiment").load_card(uid=uid)
    assert card.status == "killed"
    # It ended when it was last seen alive, not when it started.
    assert card.ended_at is not None
    assert (card.ended_at - card.created_at).total_seconds() >= 4.5
