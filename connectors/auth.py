"""Credentials for the platforms, each an `Auth` for connectors/http.py.

Tokens live in memory only (never in the database, never logged); each knows how to
get a fresh one when the platform answers 401, and which variable or file to fix
when even a fresh one is refused.

- ApiKey: a fixed header (Yelp's bearer key, Trustpilot's apikey)
- OAuthRefreshToken: the OAuth2 refresh-token grant (Google Business Profile)
- OAuthClientCredentials: the OAuth2 client-credentials grant (Trustpilot business users)
- GoogleServiceAccount: the JWT-bearer grant from a service-account key file (Google Play)
- AppStoreConnectKey: an ES256 JWT made locally from a .p8 key (App Store Connect)
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt

from connectors.errors import AuthError

if TYPE_CHECKING:
    from connectors.http import Http


class ApiKey:
    def __init__(self, header: str, value: str, *, env_name: str, prefix: str = ""):
        self._headers = {header: f"{prefix}{value}"}
        self._value = value
        self.hint = f"check the key in the environment variable {env_name}"

    async def headers(self, http: Http) -> dict[str, str]:
        return self._headers

    async def refresh(self, http: Http) -> None:
        """A fixed key cannot be refreshed; the second 401 will say which variable to fix."""

    def secrets(self) -> Iterable[str]:
        return [self._value]


class _BearerToken:
    """Caches a bearer token until a minute before it expires."""

    hint = ""

    def __init__(self) -> None:
        self._token: str | None = None
        self._expires = 0.0

    async def headers(self, http: Http) -> dict[str, str]:
        if self._token is None or time.time() >= self._expires - 60:
            await self.refresh(http)
        return {"Authorization": f"Bearer {self._token}"}

    def _store(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise AuthError(f"the token endpoint answered without an access_token; {self.hint}")
        self._token = body["access_token"]
        try:
            lifetime = float(body.get("expires_in", 3600))  # Trustpilot sends it as a string
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._expires = time.time() + lifetime

    def secrets(self) -> Iterable[str]:
        return [self._token] if self._token else []

    async def _exchange(self, http: Http, url: str, data: dict[str, str], headers: dict[str, str] | None = None) -> None:
        from connectors.http import json_body

        response = await http.request("POST", url, auth=False, data=data, headers=headers or {}, allow=(400, 401, 403))
        if response.status_code >= 400:
            raise AuthError(http.redact(f"the token endpoint refused ({response.status_code}: {http.reason(response)}); {self.hint}"))
        self._store(json_body(response))


class OAuthRefreshToken(_BearerToken):
    def __init__(
        self, *, token_url: str, client_id: str, client_secret: str, refresh_token: str, env_names: Iterable[str],
        client_auth: str = "body",
    ):
        super().__init__()
        self.token_url = token_url
        self._client = (client_id, client_secret)
        self._refresh_token = refresh_token
        self._client_auth = client_auth  # "body" (Google) or "basic" (Trustpilot)
        self.hint = "check " + ", ".join(env_names)

    async def refresh(self, http: Http) -> None:
        data = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        headers = {}
        if self._client_auth == "basic":
            pair = f"{self._client[0]}:{self._client[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            data.update(client_id=self._client[0], client_secret=self._client[1])
        await self._exchange(http, self.token_url, data, headers)

    def secrets(self) -> Iterable[str]:
        return [*super().secrets(), self._client[1], self._refresh_token]


class OAuthClientCredentials(_BearerToken):
    """The client's own id and secret buy a token (HTTP Basic): there is no refresh token to
    renew by hand, a new token is simply asked for when the last one expires or is refused."""

    def __init__(self, *, token_url: str, client_id: str, client_secret: str, env_names: Iterable[str]):
        super().__init__()
        self.token_url = token_url
        self._client = (client_id, client_secret)
        self.hint = "check " + ", ".join(env_names)

    async def refresh(self, http: Http) -> None:
        pair = base64.b64encode(f"{self._client[0]}:{self._client[1]}".encode()).decode()
        await self._exchange(http, self.token_url, {"grant_type": "client_credentials"}, {"Authorization": f"Basic {pair}"})

    def secrets(self) -> Iterable[str]:
        return [*super().secrets(), self._client[1]]


class GoogleServiceAccount(_BearerToken):
    DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"

    def __init__(self, key_file: Path, *, scope: str, token_url: str | None = None, config_key: str = "service_account_file"):
        super().__init__()
        self.hint = f"check the service-account key file {key_file} (named by {config_key}) and its access in Play Console"
        try:
            key = json.loads(Path(key_file).read_text(encoding="utf-8"))
            self._email, self._private_key = key["client_email"], key["private_key"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AuthError(f"cannot read a service-account key from {key_file} (named by {config_key}): {type(exc).__name__}") from None
        self.token_url = token_url or key.get("token_uri") or self.DEFAULT_TOKEN_URL
        self.scope = scope

    async def refresh(self, http: Http) -> None:
        now = int(time.time())
        claims = {"iss": self._email, "scope": self.scope, "aud": self.token_url, "iat": now, "exp": now + 3600}
        try:
            assertion = jwt.encode(claims, self._private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthError(f"the service-account private key cannot sign ({type(exc).__name__}); {self.hint}") from None
        await self._exchange(http, self.token_url, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})

    def secrets(self) -> Iterable[str]:
        return [*super().secrets(), self._private_key]


class AppStoreConnectKey:
    """Signs its own short-lived tokens: nothing to exchange, 'refresh' makes a new one."""

    # Apple refuses an exp more than 20 minutes past ITS clock: 19 leaves a minute for this
    # machine's clock running fast (at exactly 20, any fast clock made every token fail).
    LIFETIME = 19 * 60

    def __init__(self, *, key_id: str, issuer_id: str, private_key: str, env_name: str):
        self._key_id, self._issuer_id, self._private_key = key_id, issuer_id, private_key
        self.hint = f"check the .p8 key in {env_name}, its key id and issuer id, and the key's role in App Store Connect"
        self._token: str | None = None
        self._made = 0.0

    async def headers(self, http: Http) -> dict[str, str]:
        if self._token is None or time.time() - self._made > self.LIFETIME - 120:
            await self.refresh(http)
        return {"Authorization": f"Bearer {self._token}"}

    async def refresh(self, http: Http) -> None:
        now = int(time.time())
        claims = {"iss": self._issuer_id, "iat": now, "exp": now + self.LIFETIME, "aud": "appstoreconnect-v1"}
        try:
            self._token = jwt.encode(claims, self._private_key, algorithm="ES256", headers={"kid": self._key_id, "typ": "JWT"})
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthError(f"the App Store Connect key cannot sign ({type(exc).__name__}); {self.hint}") from None
        self._made = time.time()

    def secrets(self) -> Iterable[str]:
        return [s for s in (self._token, self._private_key) if s]
