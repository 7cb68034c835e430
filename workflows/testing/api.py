"""What the fake cluster's APIs share: resource kinds and API errors in the Kubernetes API server's terms."""

from __future__ import annotations

from dataclasses import dataclass
from ..errors import ApiError, Expired


@dataclass(frozen=True)
class Kind:
    """What the API server knows of a resource: its plural, group and kind (for messages and new objects)."""

    plural: str
    group: str
    api_version: str
    kind: str

    @property
    def qualified(self) -> str:
        """``plural.group`` as the API server names the resource in messages (``pods`` for the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def not_found(self, name: str) -> ApiError:
        """The API server's 404 for ``name``."""
        return ApiError(404, "NotFound", f'{self.qualified} "{name}" not found',
                        {"name": name, "group": self.group, "kind": self.plural})

    def already_exists(self, name: str) -> ApiError:
        """The API server's 409 for ``name``."""
        return ApiError(409, "AlreadyExists", f'{self.qualified} "{name}" already exists',
                        {"name": name, "group": self.group, "kind": self.plural})

    def invalid(self, name: str, field: str, problem: str) -> ApiError:
        """The API server's 422 for a field of ``name``."""
        return ApiError(422, "Invalid", f'{self.kind}.{self.group} "{name}" is invalid: {field}: {problem}',
                        {"name": name, "group": self.group, "kind": self.kind,
                         "causes": [{"reason": "FieldValueRequired" if "Required" in problem else "FieldValueInvalid",
                                     "message": problem, "field": field}]})


WORKFLOWS = Kind("workflows", "argoproj.io", "argoproj.io/v1alpha1", "Workflow")
PODS = Kind("pods", "", "v1", "Pod")


def bad_request(message: str) -> ApiError:
    """The API server's 400 BadRequest."""
    return ApiError(400, "BadRequest", message)

