"""The ``advshape list`` / ``show`` commands and the README's generated shaper table."""

import json
from pathlib import Path

import numpy as np
import pytest

import advshape
from advshape.cli import main
from advshape.cli.registry_cmds import _render, registry_table


def test_list_prints_every_registered_shaper(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in advshape.names():
        assert f"\n{name} " in out


def test_list_json_is_the_registry(capsys):
    assert main(["list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(advshape.names())
    assert {r["name"]: r["unbiased"] for r in rows}["rloo_k"] == "yes"


def test_show_prints_scores_and_weights_for_every_n_pos(capsys):
    assert main(["show", "grpo_k:k=4", "--n", "16", "--format", "csv", "--digits", "17"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "N+,rho_hat,A+,A-,w+,w-"
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert table.shape == (17, 6)
    s = advshape.shaper("grpo_k:k=4")
    np.testing.assert_allclose(table[:, 2:4].T, s.scores(np.arange(17), 16), rtol=1e-15)
    np.testing.assert_allclose(table[:, 4:6].T, s.weights(np.arange(17), 16), rtol=1e-15)


@pytest.mark.parametrize(
    ("spec", "target"),
    [
        ("grpo_k:k=4", "target Pass@4, biased"),
        ("maxrl", "target log ρ (max. likelihood), biased"),
        ("maclaurin:T=8", "target Σ_{k≤T} Pass@k/k (T = 8), unbiased"),
        ("linear_r", "target Σ_{k≤N} Pass@k/k → log ρ, unbiased"),
    ],
)
def test_show_names_each_shapers_own_target(capsys, spec, target):
    assert main(["show", spec, "--n", "4"]) == 0
    assert f"  {target}, N = 4;" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "grpo_kk:k=4"], "did you mean 'grpo_k'"),
        (["show", "rloo_k:k=9", "--n", "8"], "'biased_k:k=9'"),
        (["show", "grpo", "--n", "0"], "--n must be an integer in [1, "),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("page", ["README.md", "docs/shapers.md"])
def test_readme_shaper_table_is_generated_from_the_registry(page):
    text = (Path(__file__).resolve().parent.parent / page).read_text()
    section = text.split("<!-- shaper-table:start -->\n", 1)[1].split(
        "\n<!-- shaper-table:end -->", 1
    )[0]
    assert section == _render(*registry_table(), "markdown"), (
        "run: python scripts/update_readme_table.py"
    )
