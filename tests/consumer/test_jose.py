"""The JOSE names of consumer/_jose.py: the asymmetric signature algorithms."""

from __future__ import annotations

import pytest
from jwt.algorithms import get_default_algorithms
from jwt.algorithms import HMACAlgorithm
from jwt.algorithms import NoneAlgorithm

from flask_dance.consumer._jose import ASYMMETRIC_ALGS


def test_no_shared_secret_or_unsigned_algorithm_is_asymmetric() -> None:
    assert not {"none", "HS256", "HS384", "HS512"} & set(ASYMMETRIC_ALGS)


@pytest.mark.parametrize("alg", [a for a in ASYMMETRIC_ALGS if a != "Ed25519"])
def test_each_is_a_public_key_algorithm_of_pyjwt(alg: str) -> None:
    algorithm = get_default_algorithms()[alg]
    assert not isinstance(algorithm, (HMACAlgorithm, NoneAlgorithm))


def test_every_family_is_there() -> None:
    families = {alg[:2] for alg in ASYMMETRIC_ALGS}
    assert families == {"RS", "PS", "ES", "Ed"}
    assert "Ed25519" in ASYMMETRIC_ALGS  # RFC 9864's name
    assert len(set(ASYMMETRIC_ALGS)) == len(ASYMMETRIC_ALGS)
