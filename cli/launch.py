"""Launch a job of the code location through the Dagster instance, as the UI does, and wait.

`make run` and `make demo` use this instead of `execute_in_process`: the code location is
loaded from `workspace.yaml` (a gRPC code server, like `make ui`), the run is created from that
location's job snapshot and started by the instance's run launcher. So the run is recorded
against the `refresh_all` job of the code location: it shows on the job page and the timeline,
with no "another version" warning. The run coordinator's queue is bypassed (nothing here waits
for a daemon); the instance allows one run at a time for the UI and the schedule.

The run worker writes its log (the Dagster console logger and dbt's output) to this process's
stdout and stderr; `on_event` additionally receives every event-log entry as it is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.settings import ROOT

WORKSPACE_FILE = ROOT / "workspace.yaml"
EventFn = Callable[[object], None]


@dataclass
class LaunchResult:
    run_id: str
    success: bool
    status: str
    failed_steps: list[str] = field(default_factory=list)


def _no_event(entry: object) -> None:  # noqa: ARG001
    return None


def launch_job(
    job_name: str,
    *,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
    on_event: EventFn = _no_event,
    poll_s: float = 0.5,
) -> LaunchResult:
    """Create a run of `job_name` from the workspace's code location, launch it, wait for it."""
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
    from dagster._cli.job import _create_run
    from dagster._cli.workspace.cli_target import (
        get_code_location_from_workspace,
        get_remote_job_from_remote_repo,
        get_remote_repository_from_code_location,
        get_workspace_from_cli_opts,
    )
    from dagster.version import __version__
    from dagster_shared.cli import WorkspaceOpts

    failed: list[str] = []
    with DagsterInstance.get() as instance:
        opts = WorkspaceOpts(workspace=[str(WORKSPACE_FILE)])
        with get_workspace_from_cli_opts(instance, __version__, opts) as workspace:
            location = get_code_location_from_workspace(workspace, None)
            repo = get_remote_repository_from_code_location(location, None)
            remote_job = get_remote_job_from_remote_repo(repo, job_name)
            run = _create_run(
                instance=instance,
                code_location=location,
                remote_repo=repo,
                remote_job=remote_job,
                run_config=run_config or {},
                tags=tags or {},
                op_selection=None,
                run_id=None,
            )
            instance.launch_run(run.run_id, workspace)
            cursor = None
            try:
                while True:
                    finished = instance.get_run_by_id(run.run_id).is_finished
                    batch = instance.get_records_for_run(run.run_id, cursor=cursor)
                    for record in batch.records:
                        entry = record.event_log_entry
                        if entry.dagster_event and entry.dagster_event.event_type == DagsterEventType.STEP_FAILURE:
                            failed.append(entry.step_key or "?")
                        on_event(entry)
                    cursor = batch.cursor
                    if finished and not batch.has_more:
                        break
                    if not batch.has_more:
                        time.sleep(poll_s)
            except KeyboardInterrupt:
                instance.run_launcher.terminate(run.run_id)
                raise
            status = instance.get_run_by_id(run.run_id).status
    return LaunchResult(
        run_id=run.run_id,
        success=status == DagsterRunStatus.SUCCESS,
        status=status.value,
        failed_steps=sorted(set(failed)),
    )
