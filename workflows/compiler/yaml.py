"""YAML output of compiled specs."""

from __future__ import annotations

from typing import Any

import yaml

_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _SpecDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """Never writes anchors and aliases: a spec stays readable and every template stands alone."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(document: dict[str, Any]) -> str:
    """``document`` as block-style YAML, keys in their compiled order."""
    return yaml.dump(document, Dumper=_SpecDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
