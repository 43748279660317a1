import json
import secrets

from flask import session
from flask_dance.consumer.storage import BaseStorage


class RedisStorage(BaseStorage):
    """Keeps tokens in Redis, under the id of the user's browser session."""

    def __init__(self, redis, timeout=30 * 24 * 3600):
        self.redis = redis
        self.timeout = timeout

    def _key(self, blueprint):
        # Find the user from the request on every call: the storage object is
        # shared by all the requests, so it must not remember a user.
        user_key = session.setdefault("token_key", secrets.token_urlsafe(32))
        return f"token:{blueprint.name}:{user_key}"

    def get(self, blueprint):
        data = self.redis.get(self._key(blueprint))
        return None if data is None else json.loads(data)

    def set(self, blueprint, token):
        self.redis.set(self._key(blueprint), json.dumps(token), ex=self.timeout)

    def delete(self, blueprint):
        self.redis.delete(self._key(blueprint))
