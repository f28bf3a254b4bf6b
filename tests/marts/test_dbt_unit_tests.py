"""dbt's unit tests (the `unit_tests:` blocks beside the models) pass, every one of them.

The pipeline's `dbt build` leaves them out (`core.dbt_cli.PIPELINE_BUILD_ARGS`): they test the
models' SQL on fixture rows, not the data, so they belong here and not in every data run. They
run in the `dbt build` of `chain_start` (tests/marts/conftest.py): models and unit tests on a copy
of the demo warehouse (dbt reads the column types of each tested model's inputs from the warehouse,
so the upstream relations must exist), the build the incremental test starts from.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_every_dbt_unit_test_passes(chain_start):
    defined = chain_start.unit_tests_defined
    ran = {u: s for u, s in chain_start.results.items() if u.startswith("unit_test.")}
    assert len(defined) >= 20, f"only {len(defined)} unit tests defined: the YAML's unit_tests blocks were not parsed"
    assert set(ran) == defined, f"unit tests not run: {sorted(defined - set(ran))}"
    failed = {u: s for u, s in ran.items() if s != "pass"}
    assert not failed, f"{failed}\n{chain_start.output}"
