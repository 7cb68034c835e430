"""Argo's enhanced depends expressions: parsing, precedence, errors, evaluation."""

from __future__ import annotations

import itertools

import pytest

from workflows.errors import BadOperationConfiguration
from workflows.validation import (
    DependsExpression,
    DependsSyntaxError,
    TaskOutcome,
    parse_depends,
)
from workflows.depends import TASK_RESULTS, And, Not, Operand, Or

SUCCEEDED = TaskOutcome("Succeeded")
FAILED = TaskOutcome("Failed")


@pytest.mark.parametrize(
    ("expression", "tasks"),
    [
        ("a", {"a"}),
        ("task-1.Succeeded", {"task-1"}),
        ("a && b-2.Failed || !c.Skipped", {"a", "b-2", "c"}),
        ("(a || b) && (a || c.Errored)", {"a", "b", "c"}),
        ("  A.Daemoned&&0b.Omitted  ", {"A", "0b"}),
        ("x.AnySucceeded || y.AllFailed", {"x", "y"}),
    ],
)
def test_tasks_are_the_referenced_names(expression: str, tasks: set[str]) -> None:
    assert parse_depends(expression).tasks == frozenset(tasks)


def test_item_tasks_are_those_tested_on_their_children() -> None:
    assert parse_depends("a.AnySucceeded && b && !c.AllFailed").item_tasks == {"a", "c"}


def test_every_argo_result_parses() -> None:
    for result in TASK_RESULTS:
        assert parse_depends(f"t.{result}").root == Operand("t", result)


@pytest.mark.parametrize(
    ("expression", "tree"),
    [
        ("a || b && c", Or((Operand("a"), And((Operand("b"), Operand("c")))))),
        ("a && b || c", Or((And((Operand("a"), Operand("b"))), Operand("c")))),
        ("!a && b", And((Not(Operand("a")), Operand("b")))),
        ("!(a && b)", Not(And((Operand("a"), Operand("b"))))),
        ("!!a.Failed", Not(Not(Operand("a", "Failed")))),
        ("(a && b) && c", And((Operand("a"), Operand("b"), Operand("c")))),
        ("a || (b || c)", Or((Operand("a"), Operand("b"), Operand("c")))),
    ],
)
def test_precedence_not_then_and_then_or(expression: str, tree: object) -> None:
    assert parse_depends(expression).root == tree


@pytest.mark.parametrize(
    ("expression", "canonical"),
    [
        ("a&&b", "a && b"),
        ("((a))", "a"),
        ("(a && b) || c", "a && b || c"),
        ("a && (b || c)", "a && (b || c)"),
        ("! ( a || b.Failed )", "!(a || b.Failed)"),
        ("!(!a)", "!!a"),
        ("(a||b)&&!(c&&d)||e.AllFailed", "(a || b) && !(c && d) || e.AllFailed"),
    ],
)
def test_str_is_canonical_and_round_trips(expression: str, canonical: str) -> None:
    parsed = parse_depends(expression)
    assert str(parsed) == canonical
    assert parse_depends(canonical) == parsed
    assert str(parse_depends(canonical)) == canonical


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "'' (at the end): the expression is empty"),
        ("   ", "the expression is empty"),
        ("a &&", "'a &&' (at the end): expected a task or '(' after '&&'"),
        ("|| a", "'|| a' (at position 0): expected a task or '(', got '||'"),
        ("!", "expected a task or '(' after '!'"),
        ("(a || b", "'(a || b' (at position 0): '(' is never closed"),
        ("a || b)", "'a || b)' (at position 6): unbalanced ')'"),
        ("a.Succeded", "(at position 2): unknown task result 'Succeded' for task 'a': expected one of Succeeded"),
        ("a.succeeded", "unknown task result 'succeeded'"),
        ("a.Completed", "unknown task result 'Completed'"),
        ("a.", "missing task result after 'a.'"),
        ("a b", "(at position 2): expected '&&' or '||' before 'b'"),
        ("a & b", "(at position 2): unexpected character '&'"),
        ("a and b", "expected '&&' or '||' before 'and'"),
        ("task_1", "unexpected character '_'"),
        ("a && ()", "expected a task or '(', got ')'"),
    ],
)
def test_syntax_errors_quote_the_expression_and_say_where(expression: str, message: str) -> None:
    with pytest.raises(DependsSyntaxError) as raised:
        parse_depends(expression)
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"invalid depends expression {expression!r}")
    assert isinstance(raised.value, BadOperationConfiguration)
    assert raised.value.expression == expression


@pytest.mark.parametrize(
    ("phase", "daemoned", "matching"),
    [
        ("Succeeded", False, {"Succeeded"}),
        ("Failed", False, {"Failed"}),
        ("Error", False, {"Errored"}),
        ("Skipped", False, {"Skipped"}),
        ("Omitted", False, {"Omitted"}),
        ("Running", True, {"Daemoned"}),
        ("Pending", True, set()),
        ("Succeeded", True, {"Succeeded", "Daemoned"}),
    ],
)
def test_results_of_a_single_task(phase: str, daemoned: bool, matching: set[str]) -> None:
    outcome = {"t": TaskOutcome(phase, daemoned=daemoned)}
    assert {result for result in TASK_RESULTS if parse_depends(f"t.{result}").evaluate(outcome)} == matching


@pytest.mark.parametrize(
    ("phase", "daemoned", "expected"),
    [
        ("Succeeded", False, True),
        ("Skipped", False, True),
        ("Running", True, True),
        ("Failed", False, False),
        ("Error", False, False),
        ("Omitted", False, False),
    ],
)
def test_a_bare_task_means_succeeded_skipped_or_daemoned(phase: str, daemoned: bool, expected: bool) -> None:
    assert parse_depends("t").evaluate({"t": TaskOutcome(phase, daemoned=daemoned)}) is expected


@pytest.mark.parametrize(
    ("children", "any_succeeded", "all_failed"),
    [
        (None, False, False),
        ((), False, False),
        (("Succeeded", "Failed"), True, False),
        (("Failed", "Failed"), False, True),
        (("Failed", "Error"), False, False),
        (("Skipped",), False, False),
    ],
)
def test_fan_out_results_look_at_the_children(children, any_succeeded: bool, all_failed: bool) -> None:
    outcome = {"t": TaskOutcome("Failed", children=children)}
    assert parse_depends("t.AnySucceeded").evaluate(outcome) is any_succeeded
    assert parse_depends("t.AllFailed").evaluate(outcome) is all_failed


def test_truth_table_of_the_operators() -> None:
    expression = parse_depends("!a && b || c")
    for a, b, c in itertools.product((True, False), repeat=3):
        results = {name: SUCCEEDED if value else FAILED for name, value in zip("abc", (a, b, c), strict=True)}
        assert expression.evaluate(results) is ((not a and b) or c), (a, b, c)


def test_evaluation_needs_every_referenced_task() -> None:
    with pytest.raises(KeyError, match="'b'"):
        parse_depends("a && b").evaluate({"a": SUCCEEDED})


def test_unknown_phases_are_rejected() -> None:
    with pytest.raises(ValueError, match="Errored"):
        TaskOutcome("Errored")
    with pytest.raises(ValueError, match="Done"):
        TaskOutcome("Failed", children=("Done",))


def test_expressions_are_values() -> None:
    assert parse_depends("a && b") == parse_depends("(a)&&(b)")
    assert hash(parse_depends("a || b")) == hash(parse_depends("a||b"))
    assert isinstance(parse_depends("a"), DependsExpression)
