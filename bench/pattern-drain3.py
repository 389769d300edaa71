"""Drain3 driver for bench/pattern-accuracy.ts (our code; Drain3 itself is installed from PyPI into a
venv outside the repo). Reads messages as JSON lines from argv[1], mines them with Drain3's default
TemplateMiner (no masking, no per-dataset preprocessing: the same footing logferry's `pattern` has),
writes one cluster id per input line to argv[2], and prints a JSON line with the mining time."""
import json
import sys
import time

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        messages = [json.loads(line) for line in f]
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    ids = [0] * len(messages)
    t0 = time.perf_counter()
    for i, m in enumerate(messages):
        ids[i] = miner.add_log_message(m)["cluster_id"]
    seconds = time.perf_counter() - t0
    # Drain3 can move a message's template after it was added (clusters merge their templates in
    # place but keep ids), so the id at add time is the final grouping of that message.
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(str(i) for i in ids))
    print(json.dumps({"seconds": seconds, "events": len(messages), "clusters": len(miner.drain.clusters)}))


if __name__ == "__main__":
    main()
