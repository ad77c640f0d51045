"""bench/load.py: its nginx config is deploy/nginx's file with the bench's ports and is one nginx accepts, its
RESULTS.md block replaces only its own, and a tiny run against the real app measures every figure without an
error (correctness only: no time is checked here; the figures live in bench/RESULTS.md)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import load

ROOT = Path(__file__).resolve().parent.parent


def test_the_nginx_config_is_the_deploy_template_with_the_bench_upstreams_and_port(tmp_path):
    template = load.NGINX_TEMPLATE.read_text()
    conf = load.nginx_config(template, [9101, 9102, 9103], 9200, tmp_path)
    upstream = conf.split("upstream journey_pulse {", 1)[1].split("}", 1)[0]
    assert [line.strip() for line in upstream.splitlines() if line.strip().startswith("server ")] == [
        "server 127.0.0.1:9101;", "server 127.0.0.1:9102;", "server 127.0.0.1:9103;"]
    assert "listen 127.0.0.1:9200;" in conf and "listen 80;" not in conf
    # Everything else is the template's own text: the sticky hash and the websocket upgrade.
    assert "hash $journey_pulse_sticky consistent;" in conf and "proxy_set_header Upgrade $http_upgrade;" in conf
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (apt-get install nginx): the config was not checked by nginx -t")
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                              "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_a_template_without_an_upstream_to_fill_is_refused(tmp_path):
    with pytest.raises(ValueError, match="upstream"):
        load.nginx_config("server { listen 80; }", [9101], 9200, tmp_path)


def result(servers: int, p95: float) -> dict:
    row = {"scenario": "pages", "sessions": 10, "per_server": [10], "rerun_p50_s": p95 / 2, "rerun_p95_s": p95,
           "held": p95 <= 1, "server_cpu_per_s": 1.5, "client_cpu_per_s": 0.2, "rss_mb": 300.0, "mb_per_session": 2.5, "load_average": 1.0}
    return {"scenarios": ["pages"], "servers": servers, "mode": "test", "rows": [row],
            "summary": load.summary([row]), "started": "2026-12-02 01:00", "took_s": 60.0, "cpus": 2,
            "platform": "Linux", "idle_server_cpu_per_s": 0.01, "load_start": (1.0, 1.0, 1.0), "load_end": (1.0, 1.0, 1.0)}


def test_results_blocks_replace_only_their_own_and_keep_the_rest_of_the_file(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results (issue 14)\n\nsync figures\n\n## Another bench\n\nits figures\n")
    load.write_results(result(1, 0.8), "python bench/load.py --scenario pages", path)
    load.write_results(result(2, 0.6), "python bench/load.py --scenario pages --servers 2", path)
    load.write_results(result(1, 0.9), "python bench/load.py --scenario pages", path)
    text = path.read_text()
    assert text.startswith("# Benchmark results (issue 14)\n\nsync figures\n")
    assert text.count(load.LOAD_SECTION) == 1 and "## Another bench\n\nits figures" in text
    assert text.count("### pages, 1 server\n") == 1 and text.count("### pages, 2 servers\n") == 1
    assert "| 0.90 |" in text and "| 0.80 |" not in text  # the newer 1-server block replaced the older
    assert "| 0.60 |" in text


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_tiny_load_run_measures_every_figure_without_an_error():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--sessions", "1,2", "--window", "4",
                          "--votes", "1", "--all-sizes", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=540)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    by = {(r["scenario"], r["sessions"]): r for r in result["rows"]}
    assert set(by) == {("pages", 1), ("pages", 2), ("wall", 1), ("wall", 2)}, out.stderr[-2000:]
    for row in by.values():
        assert row["failures"] == [], row
        assert row["per_server"] == [row["sessions"]]  # every session is an open websocket on the server
        assert row["rss_mb"] > 0 and row["server_cpu_per_s"] > 0
    for n in (1, 2):
        assert by[("pages", n)]["clicks"] >= n and math.isfinite(by[("pages", n)]["rerun_p95_s"])
        wall = by[("wall", n)]
        assert wall["votes_missed"] == 0 and math.isfinite(wall["vote_p95_s"]) and wall["vote_p50_s"] > 0
        assert wall["refreshes_finished"] > n and math.isfinite(wall["gap_p95_s"])
