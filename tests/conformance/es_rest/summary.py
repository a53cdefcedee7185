"""Per-file pass rates of ES's YAML REST cases externally over LocalIndex.

    PYTHONPATH=$PWD python -m tests.conformance.es_rest.summary [--failures]

Prints one markdown row per file: cases, excluded (with why), applicable, passed, failed
(each failure on a gap named in exclusions.yml, or UNLISTED), the pass rate of the
applicable cases, and how many assertions or request keys were set aside as not
applicable (exclusions.yml ``not_applicable``).
"""

from __future__ import annotations

import argparse
import collections
import tempfile
from pathlib import Path

from tests.conformance.es_rest.runner import load_rules, run_case
from tests.conformance.es_rest.suite import all_cases
from tests.conformance.es_rest.targets import LocalTarget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list every failing case")
    args = parser.parse_args()
    rules = load_rules()
    rows: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    gaps: dict[str, list[str]] = collections.defaultdict(list)
    failures: list[str] = []
    for case in all_cases():
        row = rows[case.file]
        row["cases"] += 1
        entry = rules.cases.get(case.id, {})
        if "excluded" in entry:
            row["excluded"] += 1
            continue
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run_case(case, LocalTarget(Path(tmp)))
        row["set_aside"] += len(outcome.set_aside)
        if outcome.passed:
            row["passed"] += 1
            if "gap" in entry:
                failures.append(f"XPASS {case.id}: listed gap closed: {entry['gap']}")
            continue
        row["failed"] += 1
        gap = f"{entry['owner']}: {entry['gap']}" if "gap" in entry else "UNLISTED"
        gaps[gap].append(case.id)
        failures.append(f"FAIL {case.id} [{gap}]: {outcome.failure}")
    print("| file | cases | excluded | applicable | passed | failed | pass rate | set aside |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for file, row in sorted(rows.items()):
        applicable = row["cases"] - row["excluded"]
        rate = f"{100 * row['passed'] / applicable:.0f}%" if applicable else "n/a"
        print(
            f"| {file} | {row['cases']} | {row['excluded']} | {applicable} | {row['passed']} "
            f"| {row['failed']} | {rate} | {row['set_aside']} |"
        )
    print("\nFailing cases by gap:")
    for gap, ids in sorted(gaps.items()):
        print(f"- {gap} ({len(ids)}): " + "; ".join(ids))
    if args.failures:
        print("\n" + "\n".join(failures))


if __name__ == "__main__":
    main()
