"""Streamed downloads: throughput of a big file through the REST gateway, and how much the API
process grows while it streams.

Starts a local stack, creates a volume, writes a file of --mib MiB of random bytes into it
with a throwaway container mounting the volume, then downloads it --runs times over REST
(read in 1 MiB pieces and hashed) while sampling the API's VmRSS every 20 ms. Prints MiB/s,
the API's RSS growth (peak minus the value before the download) and checks the sha256.
Usage: python bench/download_stream.py [--mib N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import uuid

from _common import machine, running_stack

from tests.e2e.test_streaming import MIB, RssSampler, download, fill_volume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print(f"machine: {machine()}")
    with running_stack() as stack:
        volume_id = f"bench{uuid.uuid4().hex[:8]}"
        body = json.dumps({"volume_id": volume_id, "size_limit": args.mib + 64}).encode()
        status, _, answer = stack.request("POST", "/v3/pods/volumes", body, stack.token())
        if status != 200:
            raise RuntimeError(f"creating the volume: {status} {answer}")
        out = fill_volume(
            stack,
            volume_id,
            f"head -c {args.mib * MIB} /dev/urandom > /v/big.bin && sha256sum /v/big.bin",
        )
        expected = out.split()[0]
        api = stack.pid_of("api")
        for run in range(1, args.runs + 1):
            with RssSampler(api) as sampler:
                code, _, digest, size, seconds = download(
                    stack, f"/v3/pods/volumes/{volume_id}/contents/big.bin"
                )
            growth = (sampler.peak - sampler.baseline) / MIB
            verdict = "ok" if (code, digest) == (200, expected) else f"FAILED ({code} {digest})"
            rate = size / MIB / seconds if seconds else 0.0
            print(
                f"run {run}: {size / MIB:.0f} MiB in {seconds:.2f} s = {rate:.1f} MiB/s, "
                f"API RSS {sampler.baseline / MIB:.0f} MiB, growth {growth:.1f} MiB, "
                f"sha256 {verdict}"
            )


if __name__ == "__main__":
    main()
