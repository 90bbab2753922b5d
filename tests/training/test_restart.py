"""Restarting on the same state directory: nothing submitted is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from deepaas_lite.training import inputs
from deepaas_lite.training.records import Status, Store
from tests.training.conftest import ManagerFactory, wait_for, wait_for_file, wait_gone

SERVER = textwrap.dedent(
    """
    import asyncio
    import sys
    from pathlib import Path

    from deepaas_lite.model.loading import load_models
    from deepaas_lite.training.manager import TrainingManager


    async def main(state_dir, pidfile, submitted):
        models = load_models(["train-busy", "train-sleeper"])
        manager = TrainingManager(models, Path(state_dir), workers=1)
        await manager.start()
        await manager.submit("train-busy", {"pidfile": pidfile})
        for n in range(3):
            await manager.submit("train-sleeper", {"tag": f"rerun-{n}"})
        Path(submitted).write_text("3")
        await asyncio.Event().wait()


    if __name__ == "__main__":
        asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_after_a_crash_running_is_interrupted_and_pending_runs(
    make_manager: ManagerFactory, state_dir: Path
) -> None:
    state_dir.mkdir(parents=True)
    store = Store(state_dir / "trainings.sqlite3")
    ran = store.add("a" * 32, "train-sleeper", '{"tag": "ran"}', inputs.pack({}))
    store.start(ran.uuid)
    waiting = [
        store.add(f"{n}" * 32, "train-sleeper", "{}", inputs.pack({"tag": f"w{n}"}))
        for n in range(1, 4)
    ]
    store.close()

    manager = await make_manager()

    interrupted = await manager.get("train-sleeper", ran.uuid)
    assert interrupted["status"] == "interrupted"
    assert interrupted["args"] == {"tag": "ran"}
    assert "finish_date" in interrupted["result"]
    finished = [await wait_for(manager, "train-sleeper", training.uuid) for training in waiting]
    assert [r["result"]["output"]["tag"] for r in finished] == ["w1", "w2", "w3"]
    starts = [r["result"]["finish_date"] for r in finished]
    assert starts == sorted(starts)


async def test_a_killed_server_leaves_no_training_behind_and_restarts_cleanly(
    make_manager: ManagerFactory, state_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    pidfile, submitted = tmp_path / "busy.pid", tmp_path / "submitted"
    argv = [sys.executable, str(script), str(state_dir), str(pidfile), str(submitted)]
    server = subprocess.Popen(argv)
    try:
        [training_pid] = [int(pid) for pid in (await wait_for_file(pidfile)).split()]
        await wait_for_file(submitted)  # the three pending trainings are stored
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    # The orphaned training notices its server is gone and kills its group.
    await wait_gone([training_pid], timeout=3.0)

    manager = await make_manager()
    [busy] = await manager.list("train-busy")
    assert busy["status"] == "interrupted"
    sleepers = await manager.list("train-sleeper")
    assert [r["args"]["tag"] for r in sleepers] == ["rerun-0", "rerun-1", "rerun-2"]
    for record in sleepers:
        record = await wait_for(manager, "train-sleeper", record["uuid"])
        assert record["status"] == "done"
        assert record["result"]["output"]["tag"] == record["args"]["tag"]


async def test_a_store_written_by_a_crashed_process_is_readable(
    state_dir: Path, tmp_path: Path
) -> None:
    state_dir.mkdir(parents=True)
    code = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from deepaas_lite.training.records import Store
        store = Store(Path({str(state_dir / "t.sqlite3")!r}))
        for n in range(200):
            store.add(f"{{n:032x}}", "m", "{{}}", b"")
        os.kill(os.getpid(), 9)
        """
    )
    process = subprocess.run([sys.executable, "-c", code], check=False)
    assert process.returncode == -signal.SIGKILL

    store = Store(state_dir / "t.sqlite3")
    trainings = store.of_model("m")
    assert len(trainings) == 200
    assert {t.status for t in trainings} == {Status.PENDING}
    store.close()
