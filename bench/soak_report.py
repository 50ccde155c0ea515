"""The figures of bench/soak.py: summarize turns a run into a JSON-ready dict (printed by
`--json`), report prints it as text; latency percentiles and memory growth. Called by
bench/soak.py's run and main."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from _common import machine, percentile
from soak_churn import Churn
from soak_memory import Memory

# -- report -----------------------------------------------------------------------------------


def stats(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        **{f"p{p}_ms": round(percentile(values, p) * 1000, 2) for p in (50, 95, 99)},
        "max_ms": round(max(values) * 1000, 2),
    }


def stats_line(name: str, values: list[float]) -> str:
    s = stats(values)
    if not s["n"]:
        return f"{name:28} no samples"
    return (
        f"{name:28} n={s['n']:<6} p50 {s['p50_ms']:8.1f}  p95 {s['p95_ms']:8.1f}"
        f"  p99 {s['p99_ms']:8.1f}  max {s['max_ms']:8.1f} ms"
    )


def report(result: dict[str, Any]) -> None:
    print(f"machine: {result['machine']}")
    print(f"database: {result['database']}  settings: {result['settings']}")
    lat = result["_lat"]
    b = result["getpod_baseline"]
    print(
        f"GetPod baseline: {b['answered']}/{b['planned']} answered in {b['elapsed_s']:.1f} s"
        f" = {b['achieved_per_s']:g}/s (dropped {b['dropped']})"
    )
    print(stats_line("GetPod baseline", lat["getpod_baseline"]))
    print(stats_line("GetPod under soak", lat["getpod_soak"]))
    ratio = result["getpod_p99_ratio"]
    print(f"GetPod p99 under soak / baseline: {ratio:.2f}" if ratio else "GetPod p99 ratio: n/a")
    print("GetPod service time (send -> answer, no wait for a free client; not open-loop):")
    print(stats_line("  baseline", lat["service_baseline"]))
    print(stats_line("  under soak", lat["service_soak"]))
    print(stats_line("CreatePod call", lat["create"]))
    print(stats_line("DeletePod call", lat["delete"]))
    print(stats_line("create -> AVAILABLE seen", lat["available"]))
    for r in result["rounds"]:
        g, conv = r["getpod"], r["convergence"]
        print(
            f"round {r['round']}: GetPod {g['answered']}/{g['planned']} answered in"
            f" {g['elapsed_s']:.1f} s = {g['achieved_per_s']:g}/s (dropped {g['dropped']}),"
            f" p99 {g.get('p99_ms', float('nan')):.1f} ms"
        )
        print(
            f"  churn: {r['cycles']} cycles, {r['creates_ok']}/{r['creates_sent']} creates"
            f" accepted in {r['seconds']:.1f} s (to the last worker's last delete)"
            f" = {r['creates_per_s']:.2f} creates/s;"
            f" {r['not_available_in_time']} pods not AVAILABLE within the worker's wait"
        )
        if conv["seconds"] is not None:
            print(f"  convergence: {conv['pods']} pods gone, containers gone: {conv['seconds']} s")
        else:
            print(
                f"  convergence: NOT reached: {conv['pods_left']} pods still listed,"
                f" {conv['containers_left']} containers too many"
            )
    print(f"errors (target 0): {result['errors_total']}")
    for kind, count in sorted(result["errors"].items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d}  {kind}")
    mem = result["memory"]
    names = list(mem["growth_mib"])
    print("memory, VmRSS MiB | CPU % of one core since the sample before:")
    print(f"{'sample':24}" + "".join(f" {n[:14]:>14}" for n in names))
    print(f"{'pid':24}" + "".join(f" {mem['processes'].get(n, '(admin)'):>14}" for n in names))
    print(f"{'command':24}" + "".join(f" {mem['commands'].get(n, '')[:14]:>14}" for n in names))
    for (label, values), cpu in zip(mem["samples"], mem["cpu_percent"], strict=True):
        cells = ""
        for n in names:
            rss = f"{values[n] / 1024:.1f}" if values.get(n) is not None else "gone"
            use = f"{cpu[n]:.0f}%" if cpu.get(n) is not None else ""
            cells += f" {rss + (' |' + use.rjust(4) if use else ''):>14}"
        print(f"{label:24}{cells}")
    growth = "".join(
        f" {g:+14.1f}" if g is not None else f" {'n/a':>14}" for g in mem["growth_mib"].values()
    )
    print(f"{'growth MiB (last-first)':24}{growth}")
    print("Envoy draining gauges per sample:")
    for (label, _), draining in zip(mem["samples"], mem["envoy_draining"], strict=True):
        print(f"  {label:24} {draining}")


def growth_mib(memory: Memory) -> dict[str, float | None]:
    first, last = memory.samples[0][1], memory.samples[-1][1]
    out: dict[str, float | None] = {}
    for name in first:
        a, b = first.get(name), last.get(name)
        out[name] = round((b - a) / 1024, 1) if a is not None and b is not None else None
    return out


def summarize(
    args: argparse.Namespace,
    baseline: dict[str, Any],
    rounds: list[tuple[Churn, dict[str, Any], float, set[str], tuple[float | None, int, int]]],
    memory: Memory,
) -> dict[str, Any]:
    """The figures of the run, as a JSON-ready dict (latencies in "_lat")."""
    errors: Counter[str] = Counter(baseline["errors"])
    soak_lat: list[float] = []
    soak_service: list[float] = []
    create_s: list[float] = []
    delete_s: list[float] = []
    available_s: list[float] = []
    per_round = []
    for number, (churn, soak, seconds, created, conv) in enumerate(rounds, 1):
        errors.update(churn.errors)
        errors.update(soak["errors"])
        soak_lat += soak["latencies"]
        soak_service += soak["service"]
        create_s += churn.create_s
        delete_s += churn.delete_s
        available_s += churn.available_s
        conv_s, pods_left, containers_left = conv
        per_round.append(
            {
                "round": number,
                "getpod": {
                    "planned": soak["planned"],
                    "answered": len(soak["latencies"]),
                    "dropped": soak["dropped"],
                    "elapsed_s": round(soak["elapsed"], 2),
                    "achieved_per_s": round(len(soak["latencies"]) / soak["elapsed"], 1),
                    **stats(soak["latencies"]),
                },
                "cycles": churn.cycles,
                "creates_sent": len(churn.created),
                "creates_ok": churn.creates_ok,
                "not_available_in_time": churn.not_available,
                "seconds": round(seconds, 2),
                "creates_per_s": round(churn.creates_ok / seconds, 2),
                "convergence": {
                    "pods": len(created),
                    "seconds": round(conv_s, 2) if conv_s is not None else None,
                    "pods_left": pods_left,
                    "containers_left": containers_left,
                },
            }
        )
    b99 = stats(baseline["latencies"]).get("p99_ms")
    s99 = stats(soak_lat).get("p99_ms")
    return {
        "machine": machine(),
        "database": args.database,
        "settings": (
            f"duration={args.duration:g}s concurrency={args.concurrency} rate={args.rate:g}/s"
            f" stable={args.stable} getpod_clients={args.getpod_clients}"
            f" baseline={args.baseline:g}s poll={args.poll:g}s wait={args.wait}"
            f" available_timeout={args.available_timeout:g}s rounds={args.rounds}"
        ),
        "getpod_baseline": {
            "planned": baseline["planned"],
            "answered": len(baseline["latencies"]),
            "dropped": baseline["dropped"],
            "elapsed_s": round(baseline["elapsed"], 2),
            "achieved_per_s": round(len(baseline["latencies"]) / baseline["elapsed"], 1),
            **stats(baseline["latencies"]),
        },
        "getpod_soak": stats(soak_lat),
        "getpod_service_baseline": stats(baseline["service"]),
        "getpod_service_soak": stats(soak_service),
        "getpod_p99_ratio": round(s99 / b99, 2) if b99 and s99 else None,
        "create": stats(create_s),
        "delete": stats(delete_s),
        "create_to_available": stats(available_s),
        "rounds": per_round,
        "errors_total": sum(errors.values()),
        "errors": dict(errors),
        "memory": {
            "processes": memory.processes,
            "commands": memory.commands,
            "samples": memory.samples,
            "envoy_draining": memory.draining,
            "cpu_percent": memory.cpu_percent(),
            "growth_mib": growth_mib(memory),
        },
        "_lat": {
            "getpod_baseline": baseline["latencies"],
            "getpod_soak": soak_lat,
            "service_baseline": baseline["service"],
            "service_soak": soak_service,
            "create": create_s,
            "delete": delete_s,
            "available": available_s,
        },
    }
