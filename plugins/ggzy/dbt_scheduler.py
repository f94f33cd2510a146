"""dbt with the longest chain first: the order in which a night's ready nodes start.

dbt-core starts the ready nodes of a run by graph depth (`GraphQueue._get_scores`: the
shallowest first). In a wide project a deep chain then waits behind dozens of shallow
nodes: at scale 16 the co-bidding chain (pairs -> network -> screens -> signals -> risk ->
inspection objects) started 34 s after its inputs were ready and ended the night
(docs/benchmarks.md, fourteenth session). Worse, dbt hands every node to its thread pool
the moment it is ready, and the pool runs them first come, first served: whatever order the
queue keeps, a node ready later waits behind all those handed out before it. dbt has no
setting for either (dbt-core issue #10632; PR #12773 proposes a per-model priority as a
tie-breaker within a depth only), so this module changes two things in dbt's GraphQueue:

- its score: minus the number of models on the longest path from the node to the end of the
  run (critical-path list scheduling), instead of the depth;
- when it hands a node out: only when one of the run's threads is free, so that the choice
  is made among all nodes ready at that moment.

Dependencies, tests before children, skips after a failure and the results are dbt's own;
only which ready node starts next changes.

`python -m ggzy.dbt_scheduler <dbt args>` is `dbt <dbt args>` with this order (what `ggzy dbt`
runs); `install()` sets it in a process that calls dbt in-process (the DAG's cosmos task).
If a dbt release renames what is replaced, `install()` warns and dbt keeps its own order:
slower, never wrong.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

import networkx as nx


def critical_path_scores(graph: nx.DiGraph, costs: Callable[[str], bool]) -> dict[str, int]:
    """Each node's score: minus the count of costly nodes on the longest path from it to a
    node without children (itself included). Lower scores start first."""
    remaining: dict[str, int] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        longest_after = max((remaining[child] for child in graph.successors(node)), default=0)
        remaining[node] = int(costs(node)) + longest_after
    return {node: -length for node, length in remaining.items()}


def _scores(queue: Any, graph: nx.DiGraph) -> dict[str, int]:
    # a model that is not ephemeral is what takes time (dbt's own GraphQueue._include_in_cost)
    return critical_path_scores(graph, queue._include_in_cost)


def _when_a_thread_is_free(get: Callable) -> Callable:
    def get_when_a_thread_is_free(queue: Any, *args: Any, **kwargs: Any) -> Any:
        threads = getattr(queue, "ggzy_threads", None)
        if threads:
            with queue.lock:
                while len(queue.in_progress) >= threads:
                    queue.some_task_done.wait()
        return get(queue, *args, **kwargs)

    return get_when_a_thread_is_free


def _telling_the_queue_its_threads(run_queue: Callable) -> Callable:
    def run_queue_with_threads(task: Any, pool: Any) -> Any:
        task.job_queue.ggzy_threads = task.config.threads
        return run_queue(task, pool)

    return run_queue_with_threads


def install() -> bool:
    """Make dbt, in this process, start the ready node with the longest chain ahead when a
    thread is free. Returns False (and dbt keeps its own order) if dbt's internals moved."""
    from dbt.graph.queue import GraphQueue
    from dbt.task.runnable import GraphRunnableTask

    if getattr(GraphQueue, "ggzy_installed", False):
        return True
    needed = [(GraphQueue, "_get_scores"), (GraphQueue, "_include_in_cost"), (GraphQueue, "get"),
              (GraphRunnableTask, "run_queue")]
    if not all(callable(getattr(cls, name, None)) for cls, name in needed):
        warnings.warn("dbt's GraphQueue or GraphRunnableTask changed: dbt keeps its own order (by depth)",
                      RuntimeWarning, stacklevel=2)
        return False
    GraphQueue._get_scores = _scores
    GraphQueue.get = _when_a_thread_is_free(GraphQueue.get)
    GraphRunnableTask.run_queue = _telling_the_queue_its_threads(GraphRunnableTask.run_queue)
    GraphQueue.ggzy_installed = True
    return True


def main() -> None:
    install()
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())


if __name__ == "__main__":
    main()
