"""The contrast-level data of a network: incidence matrix, studies' arms, designs, and the
random-effects structure of multi-arm studies."""

from __future__ import annotations

import numpy as np

from srma.stats.network.data import ContrastData


def _network() -> ContrastData:
    # study 0: A-B; study 1: three arms A, B, C (two contrasts against A); study 2: A-B
    return ContrastData(
        treatments=("A", "B", "C"),
        studies=("s1", "s2", "s3"),
        study=np.array([0, 1, 1, 2]),
        treat1=np.array([1, 1, 2, 1]),
        treat2=np.array([0, 0, 0, 0]),
        y=np.array([0.1, 0.2, 0.3, 0.4]),
        V=np.diag([0.1, 0.2, 0.2, 0.1]),
    )


def test_incidence_has_one_plus_and_one_minus_per_contrast() -> None:
    data = _network()
    expected = np.array([[-1, 1, 0], [-1, 1, 0], [-1, 0, 1], [-1, 1, 0]], dtype=float)
    np.testing.assert_array_equal(data.incidence, expected)
    assert data.n_treatments == 3 and data.n_contrasts == 4


def test_designs_are_the_sets_of_treatments_of_the_studies() -> None:
    data = _network()
    assert data.study_arms == ((0, 1), (0, 1, 2), (0, 1))
    assert data.designs == ((0, 1), (0, 1, 2))
    np.testing.assert_array_equal(data.design, [0, 1, 1, 0])
    assert data.design_name(1) == "A:B:C"


def test_contrasts_of_one_study_share_half_the_heterogeneity() -> None:
    structure = _network().random_effects_structure()
    expected = np.eye(4)
    expected[1, 2] = expected[2, 1] = 0.5
    np.testing.assert_array_equal(structure, expected)
