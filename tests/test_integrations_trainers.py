"""advshape.integrations.trainers: other trainers' estimators, transcribed from their source.

Each transcription is checked on fixed groups against values computed here, one response at a
time with plain Python floats, straight from the formula in the trainer's source file (the
file and commit named in ESTIMATORS) — a second, independent reading of that source. Where the
trainer's package is installed (SkyRL in the SkyRL environment, ms-swift where present), the
transcription is also checked against the package's own function.
"""

from __future__ import annotations

import importlib.util
import math
import statistics
import subprocess
import sys

import numpy as np
import pytest

from advshape.integrations import trainers

if importlib.util.find_spec("skyrl") is not None:
    import tests._skyrl_shim  # noqa: F401  (SkyRL on Python 3.11: see that module)

GROUPS = [  # fixed groups of several sizes, binary and graded rewards
    [1, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 0],
    [0, 0, 0, 0],
    [1, 1, 1],
    [1, 0],
    [0.5, 0.25, 1.0, 0.0, 0.75],
]


def others(group, i):
    return [r for j, r in enumerate(group) if j != i]


def stdev(values):  # Bessel-corrected, as torch.std; NaN for one value, as torch gives
    return statistics.stdev(values) if len(values) > 1 else math.nan


# Each reference maps one group (a list) to its advantages, response by response.


def nemo_grpo(group, loo=True, normalize=True):
    n = len(group)
    if n <= 1:
        return [0.0] * n
    out = []
    for i, r in enumerate(group):
        pool = others(group, i) if loo else group
        m = len(pool)
        b = sum(pool) / m
        var = (sum(x * x for x in pool) / m - b * b) * m / (m - 1) if m > 1 else math.nan
        s = 0.0 if math.isnan(var) else math.sqrt(max(var, 0.0))
        out.append((r - b) / (s + 1e-6) if normalize and s > 0 else r - b)
    return out


def prime_grpo(group):
    mean = sum(group) / len(group)
    return [r - mean for r in group]


def prime_max_rl(group):
    mean = sum(group) / len(group)
    return [0.0 if mean <= 0 else (r - mean) / mean for r in group]


def openrlhf_group_norm(group):
    mean = sum(group) / len(group)
    return [(r - mean) / (stdev(group) + 1e-9) for r in group]


def openrlhf_rloo(group):
    if len(group) == 1:  # torch: 0 / 0
        return [math.nan]
    return [r - sum(others(group, i)) / (len(group) - 1) for i, r in enumerate(group)]


def slime_grpo(group, normalize=True):
    mean = sum(group) / len(group)
    centred = [r - mean for r in group]
    return [c / (stdev(centred) + 1e-6) for c in centred] if normalize else centred


def swift(group, estimator="grpo", scale="group"):
    k = len(group)
    mean = sum(group) / k
    adv = [(r - mean) * (k / (k - 1) if estimator == "rloo" and k > 1 else 1) for r in group]
    if scale == "group":
        s = stdev(group) if k > 1 else 0.0
        adv = [a / (s + 1e-4) for a in adv]
    return adv


def areal(group, loo=False, unbiased=True, eps=1e-5):
    n = len(group)
    means = [
        (0.0 if n <= 1 else sum(others(group, i)) / (n - 1)) if loo else sum(group) / n
        for i in range(n)
    ]
    centred = [r - m for r, m in zip(group, means)]
    if n == 1 and unbiased:
        s = 1.0
    else:
        ss = sum(c * c for c in centred)
        s = (1.0 if n <= 1 else math.sqrt(ss / (n - 1))) if unbiased else math.sqrt(ss / n)
    return [c / (s + eps) for c in centred]


def skyrl_grpo(group, norm=True):
    if len(group) == 1:
        mean, s = 0.0, 1.0
    else:
        mean, s = sum(group) / len(group), stdev(group)
    return [(r - mean) / (s + 1e-6) if norm else r - mean for r in group]


def skyrl_rloo(group):
    n = len(group)
    if n == 1:
        return [0.0]
    mean = sum(group) / n
    return [(r - mean) * n / (n - 1) for r in group]


def skyrl_maxrl(group):
    if len(group) == 1:
        return [float(group[0])]
    mean = sum(group) / len(group)
    return [(r - mean) / (mean + 1e-6) for r in group]


CASES = [
    ("nemo-rl:grpo", nemo_grpo),
    ("nemo-rl:grpo:use_leave_one_out_baseline=false", lambda g: nemo_grpo(g, loo=False)),
    ("nemo-rl:grpo:normalize_rewards=false", lambda g: nemo_grpo(g, normalize=False)),
    ("prime-rl:grpo", prime_grpo),
    ("prime-rl:max_rl", prime_max_rl),
    ("openrlhf:group_norm", openrlhf_group_norm),
    ("openrlhf:rloo", openrlhf_rloo),
    ("openrlhf:dr_grpo", prime_grpo),
    ("slime:grpo", slime_grpo),
    ("slime:grpo:grpo_std_normalization=false", lambda g: slime_grpo(g, normalize=False)),
    ("ms-swift:grpo", swift),
    ("ms-swift:grpo:scale_rewards=none", lambda g: swift(g, scale="none")),
    ("ms-swift:rloo", lambda g: swift(g, "rloo")),
    ("areal:group_norm", areal),
    ("areal:group_norm:mean_leave1out=true", lambda g: areal(g, loo=True)),
    ("areal:group_norm:std_unbiased=false", lambda g: areal(g, unbiased=False)),
    ("skyrl:grpo", skyrl_grpo),
    ("skyrl:grpo:grpo_norm_by_std=false", lambda g: skyrl_grpo(g, norm=False)),
    ("skyrl:rloo", skyrl_rloo),
    ("skyrl:maxrl", skyrl_maxrl),
]


@pytest.mark.parametrize(("target", "reference"), CASES)
def test_transcription_matches_the_source_formula(target, reference):
    fn, _, notes = trainers.trainer_estimator(target, prefer_installed=False)
    assert "TRANSCRIBED" in notes[0]
    for group in [*GROUPS, [1], [0]]:
        got = fn(np.array([group], dtype=np.float64))[0]
        np.testing.assert_allclose(got, reference(group), rtol=1e-12, atol=1e-12, equal_nan=True)
    # several groups at once: each row on its own
    batch = np.array(GROUPS[:3], dtype=np.float64)
    np.testing.assert_allclose(fn(batch), [reference(g) for g in GROUPS[:3]], rtol=1e-12)


def test_nemo_rl_values_of_the_issue():
    """At N = 8: A+ = 1.00 at N+ = 1 (the others' std is 0: no division), 2.27 at N+ = 2."""
    fn, *_ = trainers.trainer_estimator("nemo-rl:grpo", prefer_installed=False)
    one = fn(np.array([[1, 0, 0, 0, 0, 0, 0, 0]], dtype=float))[0, 0]
    two = fn(np.array([[1, 1, 0, 0, 0, 0, 0, 0]], dtype=float))[0, 0]
    assert one == 1.0
    assert two == pytest.approx((6 / 7) / (math.sqrt(1 / 7) + 1e-6), rel=1e-12)
    assert round(two, 2) == 2.27


def test_every_estimator_names_its_source():
    for target, entry in trainers.ESTIMATORS.items():
        assert target.split(":")[0] in trainers.TRAINERS
        assert entry.repository.count("/") == 1 and len(entry.commit) == 40
        int(entry.commit, 16)
        _, _, notes = trainers.trainer_estimator(target, prefer_installed=False)
        assert entry.repository in notes[0] and entry.commit in notes[0]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nemo-rl:ppo", r"no transcribed estimator 'nemo-rl:ppo'; nemo-rl has: nemo-rl:grpo"),
        ("nemo-rl:grpo:leave_one_out=true", r"has no setting 'leave_one_out=true'.*use_leave_one_out"),
        ("slime:grpo:grpo_std_normalization=yes", r"must be true or false"),
        ("ms-swift:grpo:scale_rewards=batch", r"not group-local"),
    ],
)
def test_bad_targets_explain(target, message):
    with pytest.raises(ValueError, match=message):
        fn, *_ = trainers.trainer_estimator(target)
        fn(np.zeros((1, 4)))


def test_flags():
    n = 8
    fn, *_ = trainers.trainer_estimator("nemo-rl:grpo", prefer_installed=False)
    scores = fn(np.tril(np.ones((n + 1, n)), -1)[:, ::-1].copy())  # row m: m correct
    a_pos = np.array([np.nan] + [scores[m, n - 1] for m in range(1, n + 1)])
    a_neg = np.array([scores[m, 0] for m in range(n)] + [np.nan])
    found = trainers.flags(fn, a_pos, a_neg, n)
    assert any(f.startswith("not zero-sum") for f in found)
    assert any(f.startswith("non-monotone in N+: A+ turns near N+ = 2") for f in found)
    assert not any(f.startswith("group of one") for f in found)  # NeMo-RL gives 0
    skyrl_maxrl_fn, *_ = trainers.trainer_estimator("skyrl:maxrl", prefer_installed=False)
    assert trainers.flags(skyrl_maxrl_fn, a_pos * 0, a_neg * 0, n) == [
        "group of one: A(r=1) = 1, A(r=0) = 0 (advshape's shapers give 0 or refuse)"
    ]


def test_installed_packages_match_their_transcription():
    """Where a trainer's package is installed, its own function gives the transcribed values."""
    ran = []
    for target, entry in trainers.ESTIMATORS.items():
        if entry.installed is None:
            continue
        fn, _, notes = trainers.trainer_estimator(target)
        if "TRANSCRIBED" in notes[0]:
            continue  # not installed here
        ran.append(target)
        transcribed, *_ = trainers.trainer_estimator(target, prefer_installed=False)
        for group in GROUPS:
            rewards = np.array([group], dtype=np.float64)
            np.testing.assert_allclose(fn(rewards), transcribed(rewards), rtol=1e-6, atol=1e-6)
    if not ran:
        pytest.skip("no trainer package with a callable estimator is installed here")


def run_cli(*args):
    command = "import sys; from advshape.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", command, *args], capture_output=True, text=True, timeout=300
    )


def test_cli_explains_a_trainer_and_flags_it():
    result = run_cli("explain", "nemo-rl:grpo", "--n", "8", "--population", "off")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "TRANSCRIBED from NVIDIA-NeMo/RL" in out and trainers.ESTIMATORS["nemo-rl:grpo"].commit in out
    assert "flags:" in out and "not zero-sum" in out and "non-monotone in N+" in out


def test_cli_bad_trainer_target_is_one_line_exit_2():
    result = run_cli("explain", "nemo-rl:grpo:bogus=1", "--n", "8")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "has no setting 'bogus=1'" in result.stderr


def test_table_trainers_lists_every_estimator():
    result = run_cli("table", "--trainers", "--paper-only", "--n", "8", "--k", "2")
    assert result.returncode == 0, result.stderr
    for target in trainers.ESTIMATORS:
        assert f"\n{target}  [" in result.stdout
    assert "nearest maxrl (distance 0e+00)" in result.stdout  # prime-rl:max_rl is MaxRL


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(trainers, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
