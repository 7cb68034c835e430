"""``{{...}}`` references and the scopes that resolve them, following ``argo lint``.

Like Argo (``util/template`` and ``resolveAllVariables`` in
``workflow/validate/validate.go``), only simple tags whose name starts with one
of :data:`CHECKED_PREFIXES` are checked: ``{{=expression}}`` tags are left to
the runtime, and tags such as ``{{item}}``, ``{{retries}}`` or a script's own
templating are never rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator

from .problems import Problem, render

#: Argo checks the tags that start with these (``GlobalVarValidWorkflowVariablePrefix``).
CHECKED_PREFIXES = ("item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks.")
#: Tags Argo accepts anywhere: they are set at run time.
RUNTIME_PREFIXES = (
    "outputs.",
    "workflow.creationTimestamp",
    "workflow.scheduledTime",
    "workflow.duration",
    "tasks.name",
    "steps.name",
    "node.name",
)

#: Explains why a name is not resolvable: ``None`` when it is resolvable after
#: all, ``""`` when the resolver has nothing to say about it.
Resolver = Callable[[str], str | None]


def references(text: str) -> Iterator[str]:
    """Yield the names of the ``{{...}}`` tags of ``text`` that Argo checks, stripped of spaces."""
    start = text.find("{{")
    while start >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            return
        tag = text[start + 2 : end]
        name = tag.strip()
        if not tag.startswith("=") and name.startswith(CHECKED_PREFIXES):
            yield name
        start = text.find("{{", end + 2)


class Scope:
    """The names one string may reference: a layer of names and prefixes over a parent scope.

    ``resolver`` is asked about a name this layer does not hold: it may accept
    it (return ``None``) or explain why it cannot be resolved.
    """

    def __init__(
        self,
        names: Collection[str] = (),
        prefixes: tuple[str, ...] = (),
        parent: Scope | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.names = names
        self.prefixes = prefixes
        self.parent = parent
        self.resolver = resolver

    def unresolved(self, name: str) -> str | None:
        """Return ``None`` when ``name`` resolves, else why not (``""`` when no layer can tell)."""
        reasons = []
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names or name.startswith(scope.prefixes):
                return None
            if scope.resolver is not None:
                reason = scope.resolver(name)
                if reason is None:
                    return None
                reasons.append(reason)
            scope = scope.parent
        return next((reason for reason in reasons if reason), "")


def check_text(text: str, scope: Scope, path: str, problems: list[Problem]) -> None:
    """Report each reference of ``text`` (the value at ``path``) that ``scope`` cannot resolve."""
    for name in references(text):
        reason = scope.unresolved(name)
        if reason is not None:
            problems.append(Problem(path, f"cannot resolve {{{{{name}}}}}" + (f": {reason}" if reason else "")))


def check_value(value: object, scope: Scope, path: str, problems: list[Problem], skip: Collection[str] = ()) -> None:
    """Check the references of every string in ``value`` (maps and lists walked), except under keys in ``skip``."""
    trail: list[object] = []

    def walk(pairs: Iterable[tuple[object, object]]) -> None:
        for key, sub in pairs:
            kind = type(sub)
            if kind is str:
                if "{{" in sub:
                    trail.append(key)
                    check_text(sub, scope, render(path, trail), problems)
                    trail.pop()
            elif kind is dict or kind is list:
                trail.append(key)
                walk(sub.items() if kind is dict else enumerate(sub))
                trail.pop()

    if type(value) is dict:
        walk((key, sub) for key, sub in value.items() if key not in skip)
    elif type(value) is list:
        walk(enumerate(value))
    elif type(value) is str and "{{" in value:
        check_text(value, scope, path, problems)


def item_scope(step: dict, parent: Scope) -> Scope:
    """Return ``parent`` plus the ``{{item...}}`` names the loop of ``step`` (a step or DAG task) sets."""
    items = step.get("withItems")
    names: set[str] = set()
    prefixes: tuple[str, ...] = ()
    if isinstance(items, list) and items:
        for entry in items:
            if isinstance(entry, dict):
                names.update(f"item.{key}" for key in entry)
            elif isinstance(entry, list):
                names.update(f"item.[{index}]" for index in range(len(entry)))
        loop = "withItems entries have no such key"
    elif step.get("withParam"):
        prefixes = ("item.",)
        loop = ""
    elif step.get("withSequence") is not None:
        loop = "withSequence items are numbers, use {{item}}"
    else:
        loop = "{{item}} is only set by withItems, withParam and withSequence"

    def explain(name: str) -> str:
        return loop if name.startswith("item.") else ""

    return Scope(names, prefixes, parent, explain)
