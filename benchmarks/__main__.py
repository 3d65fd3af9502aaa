"""`python -m benchmarks [--quick] [--no-peer] [--no-browser] [--sizes 10000,100000,1000000] [--out FILE]`

Prints one table (Markdown) with each figure beside its floor and the peer from the same run,
and writes every raw figure as JSON (default benchmarks/results/latest.json). Not a test:
figures are printed, never asserted. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks import peer_env, report, suite

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated passage counts, e.g. 10000,100000; got {text!r}")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--sizes must be positive counts; got {text!r}")
    return sizes


def parse_steps(text: str) -> tuple[str, ...]:
    steps = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [s for s in steps if s not in suite.STEPS]
    if unknown or not steps:
        raise argparse.ArgumentTypeError(f"unknown step(s) {', '.join(unknown) or text!r}; "
                                         f"choose from {','.join(suite.STEPS)}")
    return steps


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true",
                        help="tiny corpus (the first two pages of the extract), 6 questions, tiny synthetic sizes, no browser")
    parser.add_argument("--no-peer", action="store_true", help="skip the LlamaIndex peer")
    parser.add_argument("--no-browser", action="store_true", help="skip the app in Chromium")
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help=f"synthetic store sizes (default {','.join(map(str, suite.DEFAULT_SIZES))}; "
                             f"--quick: {','.join(map(str, suite.QUICK_SIZES))})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--peer-venv", type=Path, default=None,
                        help=f"the peer's virtual environment (default ${peer_env.VENV_ENV} or {peer_env.DEFAULT_VENV})")
    parser.add_argument("--work-dir", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--steps", type=parse_steps, default=(),
                        help=f"only these steps, comma-separated ({','.join(suite.STEPS)}); the later ones need "
                             "a --work-dir kept (--keep) by a run of the earlier ones")
    return parser.parse_args(argv)


def save(results: suite.Results, out: Path) -> list[dict]:
    """Write the JSON (also after each step, so an interrupted run keeps what it measured)."""
    rows = report.build_rows(results.data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**results.to_json(), "rows": rows}, indent=1, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    return rows


def config_of(args: argparse.Namespace, work: Path) -> suite.Config:
    sizes = args.sizes if args.sizes is not None else (suite.QUICK_SIZES if args.quick else suite.DEFAULT_SIZES)
    return suite.Config(quick=args.quick, peer=not args.no_peer, browser=not (args.quick or args.no_browser),
                        sizes=sizes, work=work, peer_venv=peer_env.venv_path(args.peer_venv), steps=args.steps,
                        log=lambda text: print(text, file=sys.stderr, flush=True),
                        on_step=lambda results: save(results, args.out))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="caaht-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = suite.run_all(config_of(args, work))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows = save(results, args.out)
    table = report.markdown(rows)
    print(_heading(results) + table)
    for step, reason in results.skipped.items():
        print(f"skipped {step}: {reason}")
    for step, error in results.failed.items():
        print(f"FAILED {step}: {error}", file=sys.stderr)
    print(f"\nJSON: {args.out}")
    return 1 if results.failed else 0


def _heading(results: suite.Results) -> str:
    meta = results.meta
    return (f"Benchmark {meta['started']} → {meta['finished']}, commit {meta['git_commit']}, {meta['cpus']} CPUs, "
            f"load average at start {meta['load_average_at_start'][0]:.1f}{' (--quick)' if meta['quick'] else ''}\n\n")


if __name__ == "__main__":
    sys.exit(main())
