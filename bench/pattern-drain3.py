"""Drain3 driver for bench/pattern-accuracy.ts (our code; Drain3 itself is installed from PyPI into a
venv outside the repo). Reads messages as JSON lines from argv[1], mines them with Drain3's default
TemplateMiner (no masking, no per-dataset preprocessing: the same footing logferry's `pattern` has),
writes one cluster id per input line to argv[2], and prints a JSON line with the mining time: CPU
seconds of the best of argv[3] passes (default 1), each with a fresh miner."""
import json
import sys
import time

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        messages = [json.loads(line) for line in f]
    passes = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    best = None
    for _ in range(passes):
        config = TemplateMinerConfig()
        config.profiling_enabled = False
        miner = TemplateMiner(config=config)
        ids = [0] * len(messages)
        t0 = time.process_time()
        for i, m in enumerate(messages):
            ids[i] = miner.add_log_message(m)["cluster_id"]
        seconds = time.process_time() - t0
        best = seconds if best is None else min(best, seconds)
    # Drain3 never moves a message to another cluster after adding it (clusters merge their
    # templates in place and keep their ids), so the id at add time is the message's final group.
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(str(i) for i in ids))
    print(json.dumps({"seconds": best, "events": len(messages), "clusters": len(miner.drain.clusters)}))


if __name__ == "__main__":
    main()
