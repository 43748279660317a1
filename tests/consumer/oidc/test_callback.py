from __future__ import annotations

import pytest

from flask_dance.consumer.oidc import AuthorizationResponseError
from flask_dance.consumer.oidc import check_authorization_response_iss
from flask_dance.consumer.oidc import ProviderMetadata

from .conftest import ISSUER


def test_c11_wrong_iss_rejected() -> None:
    with pytest.raises(AuthorizationResponseError) as exc_info:
        check_authorization_response_iss(
            "https://evil.example", expected_issuer=ISSUER, required=False
        )
    assert exc_info.value.error == "iss_mismatch"
    assert isinstance(exc_info.value, ValueError)


@pytest.mark.parametrize("iss", ["", ISSUER + "/", ISSUER.upper()])
def test_c11_iss_compared_exactly(iss: str) -> None:
    with pytest.raises(AuthorizationResponseError, match="not from"):
        check_authorization_response_iss(iss, expected_issuer=ISSUER, required=True)


def test_c11_missing_iss_rejected_when_announced() -> None:
    metadata = ProviderMetadata.from_dict(
        {"issuer": ISSUER, "authorization_response_iss_parameter_supported": True}
    )
    with pytest.raises(AuthorizationResponseError) as exc_info:
        check_authorization_response_iss(
            None, expected_issuer=ISSUER, required=metadata.requires_iss_parameter()
        )
    assert exc_info.value.error == "missing_iss"


def test_c11_missing_iss_accepted_when_not_announced() -> None:
    check_authorization_response_iss(None, expected_issuer=ISSUER, required=False)


def test_c11_matching_iss_accepted() -> None:
    check_authorization_response_iss(ISSUER, expected_issuer=ISSUER, required=True)
    check_authorization_response_iss(ISSUER, expected_issuer=ISSUER, required=False)
