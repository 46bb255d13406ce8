"""The one registry of operator and player operations under /api/v1."""

from server.api.spec import Api

API_PREFIX = "/api/v1"
api = Api(API_PREFIX)
