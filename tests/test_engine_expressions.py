"""The engine's expression languages: govaluate ``when:`` conditions and expr-lang expressions (Argo semantics)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from argo_reference import nodes

from workflows.durations import parse_go_duration
from workflows.engine.lang.gofmt import (
    RawNumber,
    go_duration_string,
    go_float_json,
    go_float_v,
    go_json,
    go_sprint,
    go_sprintf_int,
    go_time_format,
    parse_go_json,
)
from workflows.engine.lang.jsonpath import JSONPathError, query
from workflows.engine.lang.expr import (
    ExpressionError,
    TemplateError,
    UnresolvedReference,
    compile_expression,
    evaluate_expression,
    evaluate_expression_bool,
    expression_references,
    has_reference,
)
from workflows.engine.lang.govaluate import evaluate_when
from workflows.engine.lang.gotime import parse_go_time
from workflows.engine.lang.templating import expression_env, substitute


def ev(expression: str, **scope):
    """Evaluate ``expression`` against the expression environment of a flat scope."""
    return evaluate_expression(expression, expression_env(scope))


# ============================================================================================ when: (govaluate)


@pytest.mark.parametrize(
    "condition, expected",
    [
        ("", True),
        ("true", True),
        ("false", False),
        ("tails == tails", True),
        ("heads == tails", False),
        ("Succeeded != Succeeded", False),
        ("'a' == \"a\"", True),
        ('"{{x}}" == "{{x}}"', True),  # quoted text is never parsed
        ("'it is' == 'it is'", True),
        ("[foo bar] == 'foo bar'", True),  # govaluate's escaped variable: a string for Argo
        ("3 < 10", True),  # unquoted numbers compare as numbers...
        ("10 < 9", False),
        ("'10' < '9'", True),  # ...quoted ones as strings
        ("'3' == 3", False),  # a string never equals a number
        ("3 == 3.0", True),
        ("0x10 == 16", True),
        (".5 == 0.5", True),
        ("1 + 2 == 3", True),
        ("'a' + 1 == 'a1'", True),  # + concatenates when either side is a string
        ("10 - 2 - 3 == 5", True),  # left-associative
        ("2 + 3 * 4 == 14", True),
        ("2 ** 3 == 8", True),
        ("7 % 4 == 3", True),
        ("7 / 2 == 3.5", True),
        ("-1 < 0", True),
        ("6 & 3 == 2", True),
        ("1 << 3 == 8", True),
        ("!true", False),
        ("!(1 == 2)", True),
        ("true && false", False),
        ("true || false && false", True),  # && binds tighter than ||
        ("(true || false) && false", False),
        ("false && 'not a bool'", False),  # short-circuit skips the type check
        ("true || 'not a bool'", True),
        ("tails =~ tai", True),
        ("heads =~ tai", False),
        ("heads =~ '^h.*s$'", True),
        ("heads !~ tai", True),
        ("x in (x, y)", True),
        ("z in (x, y)", False),
        ("'' in ('a', '')", True),
        ("2 in (1, 2)", True),
        ("true ? true : false", True),
        ("false ? true : false", False),
        ("'2024-01-02' < '2024-02-01'", True),  # strings that are dates compare as times
        ("'2024-01-02T00:00:00Z' == '2024-01-02T00:00:00+00:00'", True),
        ("2024-01-01 == 2022", True),  # unquoted: arithmetic
        ("(true) (false)", True),  # govaluate ignores what follows a complete clause
        ("YES == YES", True),
        ("héllo == héllo", True),
    ],
)
def test_when_govaluate_semantics(condition, expected):
    assert evaluate_when(condition) is expected


@pytest.mark.parametrize(
    "condition, message",
    [
        ("hello world == x", "Cannot transition token types from VARIABLE [hello] to VARIABLE [world]"),
        ("{{steps.a.outputs.result}} == x", "Invalid token: '{{'"),
        ("{{=item}} == x", "hint: try wrapping the affected expression in quotes"),
        ("a.b == c", "Unable to access unexported field 'b' in token 'a.b'"),
        ("A.B == c", "No parameter 'A' found"),
        ("foo-bar == foo-bar", "Value 'foo' cannot be used with the modifier '-', it is not a number"),
        ("'a' < 1", "cannot be used with the comparator '<'"),
        ("true && 'x'", "cannot be used with the logical operator '&&'"),
        ("!heads", "Cannot transition token types from PREFIX [!] to STRING [heads]"),
        ("1", "Expected boolean evaluation for '1'. Got 1"),
        ("heads", "Expected boolean evaluation for 'heads'. Got heads"),
        ("  ", "Unexpected end of expression"),
        ("(true", "Unbalanced parenthesis"),
        ("'open", "Unclosed string literal"),
        ("[open", "Unclosed parameter bracket"),
        ("1.2.3 == 1", "Unable to parse numeric value '1.2.3' to float64"),
        ("a =~ '('", "error parsing regexp"),
        ("x in 'x'", "cannot be used with the comparator 'in'"),
        ("== 1", "Cannot transition token types from UNKNOWN"),
    ],
)
def test_when_errors_name_the_condition(condition, message):
    with pytest.raises(ExpressionError) as caught:
        evaluate_when(condition)
    assert message in str(caught.value)
    assert caught.value.tag == condition
    assert isinstance(caught.value, TemplateError)


# Every ``when:`` of Argo's examples and e2e tests, with a scope that makes it resolvable, and its value.
EXAMPLE_WHENS = {
    "false": ({}, False),
    "{{steps.flip-coin.outputs.result}} == heads": ({"steps.flip-coin.outputs.result": "heads"}, True),
    "{{steps.flip-coin.outputs.result}} == tails": ({"steps.flip-coin.outputs.result": "heads"}, False),
    "{{tasks.flip-coin.outputs.result}} == heads": ({"tasks.flip-coin.outputs.result": "tails"}, False),
    "{{tasks.flip-coin.outputs.result}} == tails": ({"tasks.flip-coin.outputs.result": "tails"}, True),
    "{{item.evenness}} == even": ({"item": '{"evenness":"even","num":"2"}', "item.evenness": "even", "item.num": "2"}, True),
    "{{steps.approval.outputs.parameters.approve}} == YES": ({"steps.approval.outputs.parameters.approve": "NO"}, False),
    "{{workflow.status}} == Succeeded": ({"workflow.status": "Succeeded"}, True),
    "{{workflow.status}} != Succeeded": ({"workflow.status": "Failed"}, True),
    "{{steps.submit-resource.status}} == Failed": ({"steps.submit-resource.status": "Succeeded"}, False),
    "{{steps.iterate-counter.outputs.result}} < {{inputs.parameters.limit}}": (
        {"steps.iterate-counter.outputs.result": "9", "inputs.parameters.limit": "10"},
        True,  # numbers: "9" < "10" would be false as strings
    ),
    "{{steps.flip-again.outputs.result}} =~ tai": ({"steps.flip-again.outputs.result": "tails"}, True),
    "{{steps.flip-again.outputs.result}} =~ hea": ({"steps.flip-again.outputs.result": "tails"}, False),
    "{{steps.flakey-container.status}} == Succeeded": ({"steps.flakey-container.status": "Succeeded"}, True),
    "{{steps.flakey-container.status}} == Failed": ({"steps.flakey-container.status": "Succeeded"}, False),
    "{{status}} == Succeeded": ({"status": "Succeeded"}, True),
    "{{inputs.parameters.should-print}} == true": ({"inputs.parameters.should-print": "true"}, True),
    "{{inputs.parameters.num}} != 1 && {{inputs.parameters.num}} != 2": ({"inputs.parameters.num": "3"}, True),
    "{{inputs.parameters.num-1}} != 1 && {{inputs.parameters.num-1}} != 2": ({"inputs.parameters.num-1": "2"}, False),
    "( {{steps.flip-coin.outputs.result}} == heads &&\n  {{steps.flip-again.outputs.result}} == tails\n) || ( {{steps.flip-coin.outputs.result}} == tails &&\n  {{steps.flip-again.outputs.result}} == tails )": (
        {"steps.flip-coin.outputs.result": "tails", "steps.flip-again.outputs.result": "tails"},
        True,
    ),
    '"{{tasks.check-running.outputs.result}}" != "failed"': ({"tasks.check-running.outputs.result": "false"}, True),
    '"{{inputs.parameters.run-stage-b}}" == "true"': ({"inputs.parameters.run-stage-b": "false"}, False),
    "{{= inputs.parameters[\"should-print\"] == 'true'}}": ({"inputs.parameters.should-print": "true"}, True),
    "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}": ({"workflow.parameters.json": '[{"value": "true"}]'}, True),
    "{{= workflow.parameters.data != '' }}": ({"workflow.parameters.data": ""}, False),
    "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}": (
        {"cronworkflow.lastScheduledTime": None},
        True,
    ),
    # steps-when-expr-filter: the template-level pass resolves the list, the item pass the rest (see below).
    '"{{= get(item, \'type\') ?? \'always\' }}"\nin\n("{{= inputs.parameters.list | fromJSON() | join(\'","\') }}","")\n': (
        {"inputs.parameters.list": '[\n  "always",\n  "test"\n]', "item": '{"name":"fourth"}', "item.name": "fourth"},
        True,
    ),
}


@pytest.mark.parametrize("condition", sorted(EXAMPLE_WHENS))
def test_every_example_when_evaluates(condition):
    scope, expected = EXAMPLE_WHENS[condition]
    assert evaluate_when(substitute(condition, scope)) is expected


@pytest.mark.parametrize(
    "last_scheduled, expected",
    [(None, True), (dt.timedelta(seconds=100), False), (dt.timedelta(seconds=1000), True)],
)
def test_cron_when_with_times(last_scheduled, expected):
    condition = "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}"
    value = None if last_scheduled is None else dt.datetime.now(dt.timezone.utc) - last_scheduled
    resolved = substitute(condition, {"cronworkflow.lastScheduledTime": value})
    assert resolved == ("true" if expected else "false")
    assert evaluate_when(resolved) is expected


def test_steps_when_expr_filter_end_to_end():
    """e2e/functional/steps-when-expr-filter.yaml: every item runs (the list holds 'always', 'test' and '')."""
    from workflows.engine.loops import expand_loop, item_scope

    template_scope = {"inputs.parameters.test": "true"}
    listing = substitute(
        "{{= concat(['always'], inputs.parameters.test == 'true' ? ['test'] : []) | toJSON() }}", template_scope
    )
    assert listing == '[\n  "always",\n  "test"\n]'  # expr's toJSON is indented
    condition = '"{{= get(item, \'type\') ?? \'always\' }}"\nin\n("{{= inputs.parameters.list | fromJSON() | join(\'","\') }}","")\n'
    # template level: inputs are known, item is not (a late-bound name: the tag stays verbatim)
    condition = substitute(condition, {"inputs.parameters.list": listing}, strict=False)
    assert condition == '"{{= get(item, \'type\') ?? \'always\' }}"\nin\n("always","test","")\n'
    items = expand_loop(
        {"withParam": '[{"name": "first", "type": ""}, {"name": "second", "type": "always"}, {"name": "third", "type": "test"}, {"name": "fourth"}]'}
    )
    resolved = [substitute(condition, item_scope(item)) for item in items]
    assert [text.split("\n")[0] for text in resolved] == ['""', '"always"', '"test"', '"always"']
    assert all(evaluate_when(text) for text in resolved)
    assert evaluate_when('"other"\nin\n("always","test","")\n') is False


def test_example_whens_cover_the_reference_data(argo_documents):
    whens = _collect(argo_documents, lambda key, value: key == "when" and isinstance(value, str))
    missing = sorted(whens - set(EXAMPLE_WHENS))
    assert not missing, f"when: forms of the examples without a test: {missing}"


def _collect(documents, select) -> set:
    """The values of ``documents`` (anywhere inside) that ``select(key, value)`` keeps."""
    return {value for document in documents for key, value in nodes(document.data) if select(key, value)}


# ============================================================================================ expr-lang


@pytest.mark.parametrize(
    "expression, expected",
    [
        # literals
        ("1", 1),
        ("0x1F", 31),
        ("0b101", 5),
        ("0o17", 15),
        ("1_000", 1000),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("'single'", "single"),
        ('"double"', "double"),
        ("`raw \\n`", "raw \\n"),
        ("'tab\\there'", "tab\there"),
        ("'\\u00e9'", "é"),
        ("true", True),
        ("false", False),
        ("nil", None),
        ("[1, 'a', [2]]", [1, "a", [2]]),
        ("[1, 2,]", [1, 2]),
        ("{a: 1, 'b-c': 2, 3: 'x'}", {"a": 1, "b-c": 2, "3": "x"}),
        ("{('k' + 'ey'): 1}", {"key": 1}),
        # arithmetic: ints stay ints, / is always float, ** is float
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("8 / 2", 4.0),
        ("7 % 3", 1),
        ("-7 % 3", -1),  # Go's remainder keeps the dividend's sign
        ("2 ** 10", 1024.0),
        ("2 ** 3 ** 2", 512.0),  # right-associative
        ("2 ^ 3", 8.0),
        ("-2 ** 2", -4.0),  # unary minus binds looser than **
        ("1 + 2.5", 3.5),
        ("- 3", -3),
        ("+3", 3),
        ("1 / 0", math.inf),
        ("'a' + 'b'", "ab"),
        # comparisons
        ("1 == 1.0", True),
        ("'1' == 1", False),
        ("nil == nil", True),
        ("nil == 0", False),
        ("[1, 2] == [1, 2.0]", True),
        ("{a: 1} == {a: 1}", True),
        ("1 != 2", True),
        ("'a' < 'b'", True),
        ("1 < 2 < 3", True),
        ("3 > 2 > 2", False),
        ("1 <= 1 && 2 >= 3", False),
        # logic
        ("true && false", False),
        ("true and true", True),
        ("false || true", True),
        ("false or false", False),
        ("!true", False),
        ("not false", True),
        ("true || false && false", True),
        ("not (1 > 2)", True),
        # membership and strings
        ("1 in [1.0, 2]", True),
        ("3 not in [1, 2]", True),
        ("'a' in {a: 1}", True),
        ("'x' in nil", False),
        ("'abc' contains 'b'", True),
        ("'abc' not contains 'b'", False),
        ("'abc' startsWith 'ab'", True),
        ("'abc' endsWith 'bc'", True),
        ("'abc' matches '^a.c$'", True),
        ("'abc' not matches 'z'", True),
        # ternaries, coalescing, ranges, let, if, sequences, comments
        ("true ? 1 : 2", 1),
        ("false ? 1 : 2", 2),
        ("1 > 2 ? 'a' : 2 > 1 ? 'b' : 'c'", "b"),
        ("nil ?? 'x'", "x"),
        ("'' ?? 'x'", ""),
        ("{a: nil}.a ?? 'd'", "d"),
        ("{}.a?.b", None),
        ("{}.a?.b.c ?? 'd'", "d"),
        ("1..4", [1, 2, 3, 4]),
        ("let x = 2; let y = x * 3; y + 1", 7),
        ("if 1 > 2 { 'a' } else if 2 > 1 { 'b' } else { 'c' }", "b"),
        ("1; 2", 2),
        ("1 + /* two */ 2 // three", 3),
        # members, indexes, slices
        ("{a: {b: [10, 20]}}.a.b[1]", 20),
        ("{'a-b': 1}['a-b']", 1),
        ("[1, 2, 3][-1]", 3),
        ("[1, 2, 3][1:]", [2, 3]),
        ("[1, 2, 3][:2]", [1, 2]),
        ("[1, 2, 3][-2:]", [2, 3]),
        ("[1, 2, 3][5:9]", []),
        ("'hello'[1:3]", "el"),
        ("{a: 1}.missing", None),
        # pipes and closures
        ("[1, 2, 3] | filter(# > 1)", [2, 3]),
        ("'a,b' | split(',') | join('+')", "a+b"),
        ("' x ' | trim() | upper()", "X"),
        ("filter([1, 3], {# > 1})", [3]),
        ("map([1, 2], # * 10)", [10, 20]),
        ("map([{n: 1}, {n: 2}], .n)", [1, 2]),
        ("map([{n: 1}, {n: 2}], #.n + #index)", [1, 3]),
        ("all([1, 2], # > 0)", True),
        ("any([1, 2], # > 1)", True),
        ("none([1, 2], # > 5)", True),
        ("one([1, 2], # > 1)", True),
        ("find([1, 2, 3], # > 1)", 2),
        ("findIndex([1, 2, 3], # > 1)", 1),
        ("findLast([1, 2, 3], # > 1)", 3),
        ("findLastIndex([1, 2, 3], # > 5)", -1),
        ("count([1, 2, 3], # > 1)", 2),
        ("count([true, false, true])", 2),
        ("sum([1, 2, 3])", 6),
        ("sum([1, 2], # * 1.5)", 4.5),
        ("reduce([1, 2, 3], #acc + #)", 6),
        ("reduce([1, 2, 3], #acc + #, 10)", 16),
        ("groupBy([1, 2, 3], # % 2)", {1: [1, 3], 0: [2]}),
        ("sortBy([3, 1, 2], #)", [1, 2, 3]),
        ("sortBy([3, 1, 2], #, 'desc')", [3, 2, 1]),
        # builtins
        ("len([1, 2])", 2),
        ("len({a: 1})", 1),
        ("len('héllo')", 5),
        ("type(1)", "int"),
        ("type(1.5)", "float"),
        ("type('a')", "string"),
        ("type(nil)", "nil"),
        ("type([])", "array"),
        ("type({})", "map"),
        ("abs(-2)", 2),
        ("ceil(1.2)", 2.0),
        ("floor(-1.2)", -2.0),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("int('42')", 42),
        ("int(3.9)", 3),
        ("float('1.5')", 1.5),
        ("float(2)", 2.0),
        ("string(1.5)", "1.5"),
        ("string(1000000.0)", "1e+06"),
        ("string([1, 'a'])", "[1 a]"),
        ("string({b: 1, a: 2})", "map[a:2 b:1]"),
        ("string(nil)", "<nil>"),
        ("trim('  x  ')", "x"),
        ("trim('xxaxx', 'x')", "a"),
        ("trimPrefix('abc', 'a')", "bc"),
        ("trimSuffix('abc', 'c')", "ab"),
        ("upper('a')", "A"),
        ("lower('A')", "a"),
        ("split('a,b,c', ',')", ["a", "b", "c"]),
        ("split('a,b,c', ',', 2)", ["a", "b,c"]),
        ("splitAfter('a,b', ',')", ["a,", "b"]),
        ("replace('aaa', 'a', 'b')", "bbb"),
        ("replace('aaa', 'a', 'b', 1)", "baa"),
        ("repeat('ab', 2)", "abab"),
        ("join(['a', 'b'], ', ')", "a, b"),
        ("join(['a', 'b'])", "ab"),
        ("indexOf('abc', 'c')", 2),
        ("lastIndexOf('abcabc', 'a')", 3),
        ("hasPrefix('abc', 'a')", True),
        ("hasSuffix('abc', 'a')", False),
        ("max(1, 5, 3)", 5),
        ("min([3, 1.5])", 1.5),
        ("mean([1, 2])", 1.5),
        ("median([3, 1, 2])", 2.0),
        ("toJSON({b: 1, a: [1, 2]})", '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}'),
        ("toJSON([])", "[]"),
        ("fromJSON('{\"a\": [1, 2]}')", {"a": [1.0, 2.0]}),
        ("fromJSON('3') * 10", 30.0),
        ("toBase64('hi')", "aGk="),
        ("fromBase64('aGk=')", "hi"),
        ("first([7, 8])", 7),
        ("first([])", None),
        ("last([7, 8])", 8),
        ("get({a: 1}, 'a')", 1),
        ("get({a: 1}, 'b')", None),
        ("get([1, 2], 5)", None),
        ("get(nil, 'x')", None),
        ("take([1, 2, 3], 2)", [1, 2]),
        ("keys({a: 1})", ["a"]),
        ("values({a: 1})", [1]),
        ("toPairs({a: 1})", [["a", 1]]),
        ("fromPairs([['a', 1]])", {"a": 1}),
        ("reverse([1, 2])", [2, 1]),
        ("uniq([1, 1.0, 2])", [1, 2]),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ("flatten([[1], [2, [3]]])", [1, 2, 3]),
        ("sort([3, 1, 2])", [1, 2, 3]),
        ("sort(['b', 'a'], 'desc')", ["b", "a"]),
        ("bitand(6, 3)", 2),
        ("bitor(6, 3)", 7),
        ("bitshl(1, 4)", 16),
        ("bitnot(0)", -1),
        ("duration('1h30m').Minutes()", 90.0),
        ("duration('1.5s').Seconds()", 1.5),
        ("duration('90s').String()", "1m30s"),
        ("date('2024-01-02').Year()", 2024),
        ("date('2024-01-02T03:04:05Z').Format('2006/01/02 15:04')", "2024/01/02 03:04"),
        ("date('02/01/2024', '02/01/2006').Month()", 1),
        ("date('2024-01-02T00:00:00Z') < date('2024-01-03T00:00:00Z')", True),
        ("date('2024-01-02T00:00:00Z') + duration('24h') == date('2024-01-03T00:00:00Z')", True),
        ("(date('2024-01-02T00:00:00Z') - date('2024-01-01T00:00:00Z')).Hours()", 24.0),
        ("now() > date('2000-01-01')", True),
        # Argo's functions
        ("asInt('3') * 10", 30),
        ("asFloat('1.5') * 2", 3.0),
        ("toJson({b: 1, a: '<x>'})", '{"a":"\\u003cx\\u003e","b":1}'),
        ("jsonpath('{\"a\": {\"b\": 2}}', '$.a.b')", 2.0),
        ("sprig.upper('a')", "A"),
        ("sprig.lower('A')", "a"),
        ("sprig.trim('  x ')", "x"),
        ("sprig.replace('a', 'b', 'banana')", "bbnbnb"),
        ("sprig.int('42')", 42),
        ("sprig.int('0x10')", 16),
        ("sprig.int('nope')", 0),
        ("sprig.add(1, '2', 3.9)", 6),
        ("sprig.add1(1)", 2),
        ("sprig.sub(5, 2)", 3),
        ("sprig.mul(2, 3, 4)", 24),
        ("sprig.div(-7, 2)", -3),
        ("sprig.mod(-7, 2)", -1),
        ("sprig.max(1, 5.5, 3)", 5),
        ("sprig.min(4, 2)", 2),
        ("sprig.addf(1.5, 2)", 3.5),
        ("sprig.b64enc('hi')", "aGk="),
        ("sprig.b64dec('aGk=')", "hi"),
        ("sprig.default('d', '')", "d"),
        ("sprig.default('d', 'v')", "v"),
        ("sprig.empty('')", True),
        ("sprig.toJson({'a': [1]})", '{"a":[1]}'),
        ("sprig.fromJson('{\"a\": 1}').a", 1.0),
        ("sprig.join('-', ['a', 'b'])", "a-b"),
        ("sprig.splitList(',', 'a,b')", ["a", "b"]),
        ("sprig.contains('b', 'abc')", True),
        ("sprig.quote('a')", '"a"'),
        ("sprig.squote('a')", "'a'"),
        ("sprig.cat('a', 1, nil, 'b')", "a 1 b"),
        ("sprig.repeat(2, 'ab')", "abab"),
        ("sprig.trunc(2, 'abc')", "ab"),
        ("sprig.substr(1, 3, 'abcd')", "bc"),
        ("sprig.ternary('y', 'n', true)", "y"),
        ("sprig.list(1, 2)", [1, 2]),
        ("sprig.dict('a', 1)", {"a": 1}),
        ("sprig.first([1, 2])", 1),
        ("sprig.regexMatch('^a', 'abc')", True),
        ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"),
        ("sprig.sha256sum('')", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("sprig.date('2006-01-02', date('2024-03-05T12:00:00Z'))", "2024-03-05"),
        ("sprig.dateInZone('2006-01-02 15:04 MST', 0, 'UTC')", "1970-01-01 00:00 UTC"),
    ],
)
def test_expr_language(expression, expected):
    result = evaluate_expression(expression, {})
    if isinstance(expected, float) and math.isinf(expected):
        assert math.isinf(result)
    else:
        assert result == expected
        assert type(result) is type(expected), (result, expected)


@pytest.mark.parametrize(
    "expression, error, message",
    [
        ("missing", UnresolvedReference, "unknown name missing"),
        ("true || missing", UnresolvedReference, "unknown name missing"),  # checked before running, like expr
        ("undefinedFunction(1)", UnresolvedReference, "unknown name undefinedFunction"),
        ("1 +", ExpressionError, "unexpected end of expression"),
        ("(1", ExpressionError, "unexpected end of expression"),
        ("1 2", ExpressionError, "unexpected token Number('2')"),
        ("'open", ExpressionError, "literal not terminated"),
        ("1 @ 2", ExpressionError, "unrecognized character"),
        ("3abc", ExpressionError, "bad number syntax"),
        ("a ?? b == c", ExpressionError, "cannot be mixed"),
        ("filter([1], # > 0; 1)", ExpressionError, "wrap predicate with brackets"),
        ("len(1, 2)", ExpressionError, "invalid number of arguments for len"),
        ("'a' < 1", ExpressionError, "invalid operation: string < int"),
        ("'a' + 1", ExpressionError, "invalid operation: string + int"),
        ("1 % 0", ExpressionError, "integer divide by zero"),
        ("10 % 2.5", ExpressionError, "invalid operation: int % float64"),
        ("1 && true", ExpressionError, "expected bool"),
        ("!'a'", ExpressionError, "expected bool"),
        ("'a' ? 1 : 2", ExpressionError, "expected bool"),
        ("{}.a.b", ExpressionError, "cannot fetch b from <nil>"),
        ("[1][5]", ExpressionError, "index out of range: 5 (array length is 1)"),
        ("1 in 'abc'", ExpressionError, 'operator "in" not defined on string'),
        ("int('4.2')", ExpressionError, "invalid operation: int(4.2)"),
        ("asInt('x')", ExpressionError, "invalid operation: int(x)"),
        ("float('x')", ExpressionError, "invalid operation: float(x)"),
        ("join([1])", ExpressionError, "not string"),
        ("fromJSON('{')", ExpressionError, "fromJSON"),
        ("jsonpath('{', '$.a')", ExpressionError, "jsonpath: invalid JSON"),
        ("jsonpath('{\"a\": 1}', '$.b')", ExpressionError, "key 'b' not found"),
        ("jsonpath(nil, '$.a')", ExpressionError, "the JSON argument must be a string"),
        ("sprig.nope()", ExpressionError, "cannot fetch nope"),
        ("sprig.upper(1)", ExpressionError, "expected a string"),
        ("reduce([], #acc)", ExpressionError, "reduce of empty array"),
        ("'x'.Seconds()", ExpressionError, "type string has no method Seconds"),
        ("", ExpressionError, "empty expression"),
    ],
)
def test_expr_errors_name_the_offending_text(expression, error, message):
    with pytest.raises(error) as caught:
        evaluate_expression(expression, {})
    assert message in str(caught.value)
    if expression:
        assert repr(expression) in str(caught.value) or caught.value.tag == expression


def test_expr_environment_values():
    env = expression_env(
        {
            "inputs.parameters.week-temps": '{"avg": 1}',
            "inputs.parameters.n": "3",
            "workflow.name": "wf",
            "item": '{"type":"x"}',
            "item.type": "x",
            "tasks.a.outputs.parameters.p": None,
            "steps.t.started": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        }
    )
    assert evaluate_expression("inputs.parameters['week-temps']", env) == '{"avg": 1}'  # JSON stays a string
    assert evaluate_expression("asInt(inputs.parameters.n) + 1", env) == 4
    assert evaluate_expression("item.type", env) == "x"  # a map item is a map of strings
    assert evaluate_expression("get(item, 'type')", env) == "x"
    assert evaluate_expression("tasks.a.outputs.parameters.p ?? 'fallback'", env) == "fallback"
    assert evaluate_expression("steps.t.started.Year()", env) == 2024
    assert evaluate_expression("workflow.name + '-x'", env) == "wf-x"
    with pytest.raises(ExpressionError, match="cannot fetch q from <nil>"):
        evaluate_expression("workflow.missing.q", env)


def test_expression_bool():
    assert evaluate_expression_bool("1 < 2", {}) is True
    with pytest.raises(ExpressionError, match="unable to cast expression result '1' to bool"):
        evaluate_expression_bool("1", {})


def test_compiled_expressions_are_cached_and_reusable():
    compiled = compile_expression("x + 1")
    assert compile_expression("x + 1") is compiled
    assert compiled.evaluate({"x": 1}) == 2
    assert compiled.evaluate({"x": 2}) == 3
    assert compiled.free_names == ("x",)


@pytest.mark.parametrize(
    "expression, references",
    [
        ("inputs.parameters.a + item", ("inputs.parameters.a", "inputs.parameters", "inputs", "item")),
        ("inputs.parameters['week-temps']", ("inputs.parameters.week-temps", "inputs.parameters", "inputs")),
        ("tasks.a.outputs.result ?? 'x'", ("tasks",)),  # members left of ?? may be absent
        ("a?.b.c", ("a",)),
        ("get(item, 'type') ?? 'always'", ("item",)),
        ("sprig.date('2006', x)", ("sprig", "x")),
        ("let v = 1; v + w", ("w",)),
        ("map([1], # + 1)", ()),
    ],
)
def test_expression_references_follow_argo(expression, references):
    assert set(expression_references(expression)) == set(references)


def test_has_reference():
    env = expression_env({"a.b": "1", "c": None})
    assert has_reference(env, "a.b")
    assert has_reference(env, "a")
    assert has_reference(env, "c")  # an absent optional is present
    assert not has_reference(env, "a.x")
    assert not has_reference(env, "a.b.c")
    assert has_reference(env, "sprig.date")
    assert has_reference({"flat.key": 1}, "flat.key")


# Every ``expression:``/``fromExpression:`` of Argo's examples (scope, expected value).
EXAMPLE_EXPRESSION_FIELDS = {
    "steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.result : steps.tails.outputs.result": (
        {"steps.flip-coin.outputs.result": "tails", "steps.heads.outputs.result": None, "steps.tails.outputs.result": "it was tails"},
        "it was tails",
    ),
    "tasks['flip-coin'].outputs.result == 'heads' ? tasks.heads.outputs.result : tasks.tails.outputs.result": (
        {"tasks.flip-coin.outputs.result": "heads", "tasks.heads.outputs.result": "it was heads", "tasks.tails.outputs.result": None},
        "it was heads",
    ),
    "steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.artifacts.result : steps.tails.outputs.artifacts.result": (
        {"steps.flip-coin.outputs.result": "heads", "steps.heads.outputs.artifacts.result": {"name": "result", "path": "/a"}, "steps.tails.outputs.artifacts.result": None},
        {"name": "result", "path": "/a"},
    ),
    "tasks['flip-coin'].outputs.result == 'heads' ? tasks.heads.outputs.artifacts.result : tasks.tails.outputs.artifacts.result": (
        {"tasks.flip-coin.outputs.result": "tails", "tasks.heads.outputs.artifacts.result": None, "tasks.tails.outputs.artifacts.result": {"name": "t"}},
        {"name": "t"},
    ),
    "asInt(inputs.parameters.num) == 1? 1: asInt(inputs.parameters.num) == 2? 1: steps['fibonacci-helper'].outputs.parameters.result": (
        {"inputs.parameters.num": "5", "steps.fibonacci-helper.outputs.parameters.result": "5"},
        "5",
    ),
    'asInt(lastRetry.exitCode) > 1 && lastRetry.status != "Error" && asInt(lastRetry.duration) < 120 && ({{inputs.parameters.safe-to-retry}} == true || lastRetry.message matches \'imminent node shutdown|pod deleted\')': (
        {"lastRetry.exitCode": "2", "lastRetry.status": "Failed", "lastRetry.duration": "30", "lastRetry.message": "pod deleted", "inputs.parameters.safe-to-retry": "false"},
        True,
    ),
    'filter(data, {# endsWith "main.log"})': ({"data": ["a/main.log", "b/other.log"]}, ["a/main.log"]),
    'steps["step-1"].status == "Running"': ({"steps.step-1.status": "Running"}, True),
    'steps["step-1"].status == "Succeeded"': ({"steps.step-1.status": "Running"}, False),
    'steps.step2.status == "Running"': ({"steps.step2.status": "Succeeded"}, False),
    'steps.step2.status == "Succeeded"': ({"steps.step2.status": "Succeeded"}, True),
    "tasks.producer.outputs.parameters.msg ?? 'expr-fallback'": ({"tasks.producer.outputs.parameters.msg": None}, "expr-fallback"),
    "workflow.parameters.foo": ({"workflow.parameters.foo": "bar"}, "bar"),
    'workflow.status == "Running"': ({"workflow.status": "Running"}, True),
}


@pytest.mark.parametrize("expression", sorted(EXAMPLE_EXPRESSION_FIELDS))
def test_every_example_expression_field_evaluates(expression):
    scope, expected = EXAMPLE_EXPRESSION_FIELDS[expression]
    text = substitute(expression, scope, strict=False)  # Argo substitutes {{...}} in these fields first
    assert evaluate_expression(text, expression_env(scope)) == expected


def test_example_expression_fields_cover_the_reference_data(argo_documents):
    fields = _collect(argo_documents, lambda key, value: key in ("expression", "fromExpression") and isinstance(value, str))
    missing = sorted(fields - set(EXAMPLE_EXPRESSION_FIELDS))
    assert not missing, f"expression fields of the examples without a test: {missing}"


# ============================================================================================ JSONPath

EMPLOYEES = parse_go_json('{"employees": [{"name": "Baris", "age":43},{"name": "Mo", "age": 42}, {"name": "Jai", "age" :44}], "store": {"b": 2, "a": 1}}')


@pytest.mark.parametrize(
    "path, expected",
    [
        ("$", EMPLOYEES),
        ("$.store.a", 1.0),
        ("$['store']['b']", 2.0),
        ('$["store"].a', 1.0),
        ("$.employees[0].name", "Baris"),
        ("$.employees[-1].name", "Jai"),
        ("$.employees.length", 3),
        ("$.employees[*].name", ["Baris", "Mo", "Jai"]),
        ("$.employees.*.age", [43.0, 42.0, 44.0]),
        ("$.store.*", [1.0, 2.0]),  # maps in sorted-key order
        ("$.employees[0:1]", [{"name": "Baris", "age": 43.0}]),
        ("$.employees[1:]", [{"name": "Mo", "age": 42.0}, {"name": "Jai", "age": 44.0}]),
        ("$.employees[:1].name", ["Baris"]),
        ("$.employees[::-1].age", [44.0, 42.0, 43.0]),
        ("$.employees[0,2].name", ["Baris", "Jai"]),
        ("$.employees[?(@.name==\"Baris\")].age", [43.0]),
        ("$.employees[?(@.name=='Mo')].age", [42.0]),
        ("$.employees[?(@.age>42 && @.age<44)].age", [43.0]),
        ("$.employees[?(@.age>=43)].name", ["Baris", "Jai"]),
        ("$.employees[?(@.age == 42 || @.age == 44)].name", ["Mo", "Jai"]),
        ("$.employees[?(@.age != 42)].name", ["Baris", "Jai"]),
        ("$.employees[?(@.name =~ '^J')].name", ["Jai"]),
        ("$.employees[?(@.age > 40)][0].name", "Baris"),  # an index after a filter indexes the result
        ("$.employees[?(@.age > 100)].name", []),
        ("$.employees[?(@.missing)].name", []),
        ("$.employees[(@.length-1)].name", "Jai"),
        ("$..name", ["Baris", "Mo", "Jai"]),
        ("$..a", [1.0]),
    ],
)
def test_jsonpath(path, expected):
    assert query(path, EMPLOYEES) == expected


@pytest.mark.parametrize(
    "path, message",
    [
        ("$.nope", "key 'nope' not found"),
        ("$.employees[9]", "out of range"),
        ("$.employees.name", "expected [map] got [slice]"),
        ("a.b", "unexpected token 'a'"),
        ("$x", "unexpected token 'x'"),
        ("", "unexpected token ''"),
        ("$[?@.a]", "does not match any token format"),
        ("$.employees[0", "unclosed subscript"),
    ],
)
def test_jsonpath_errors(path, message):
    with pytest.raises(JSONPathError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        query(path, EMPLOYEES)


def test_jsonpath_filter_quirks_of_argos_library():
    # evilmonkeyinc/jsonpath splits a filter at the first "in", even inside a key: such filters never match in Argo.
    assert query("$[?(@.kind == 'x')]", [{"kind": "x"}]) == []
    assert query("$[?(@.type == 'x')]", [{"type": "x"}]) == [{"type": "x"}]
    # it splits at the first occurrence of an operator, so "10 - 2 - 3" is 10 - (2 - 3)
    assert query("$[?(@.n - 2 - 3 == 11)]", [{"n": 10}]) == [{"n": 10}]
    # numbers compare numerically, strings as quoted strings: '1' and 1 never match each other
    assert query("$[?(@.v == '1')]", [{"v": "1"}, {"v": 1}]) == [{"v": "1"}]
    assert query("$[?(@.v == \"1\")]", [{"v": "1"}, {"v": 1}]) == [{"v": "1"}]
    assert query("$[?(@.v == 1)]", [{"v": "1"}, {"v": 1}]) == [{"v": 1}]


def test_jsonpath_results_render_like_argo():
    config = '{"employees": [{"name": "Baris", "age":43},{"name": "Mo", "age": 42}]}'
    render = lambda path: substitute(f"{{{{=jsonpath(workflow.parameters.config, '{path}')}}}}", {"workflow.parameters.config": config})
    assert render("$.employees[0].age") == "43"
    assert render("$.employees[0:1]") == '[{"age":43,"name":"Baris"}]'  # keys sorted, compact
    assert render("$.employees[*].name") == '["Baris","Mo"]'


# ============================================================================================ Go formatting


@pytest.mark.parametrize(
    "value, json_text, v_text",
    [
        (1.0, "1", "1"),
        (35.8, "35.8", "35.8"),
        (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
        (1e21, "1e+21", "1e+21"),
        (1e20, "100000000000000000000", "1e+20"),
        (123456.0, "123456", "123456"),
        (1234567.0, "1234567", "1.234567e+06"),
        (1e-7, "1e-7", "1e-07"),
        (0.000001, "0.000001", "1e-06"),
        (0.0001, "0.0001", "0.0001"),
        (-2.5, "-2.5", "-2.5"),
        (RawNumber("1.0"), "1.0", "1"),
    ],
)
def test_go_float_formatting(value, json_text, v_text):
    assert go_float_json(value) == json_text
    assert go_float_v(value) == v_text


def test_go_json_and_sprint():
    value = {"b": [1, 2.5, {"z": True, "a": "<x&y>"}], "a": None}
    assert go_json(value) == '{"a":null,"b":[1,2.5,{"a":"\\u003cx\\u0026y\\u003e","z":true}]}'
    assert go_json(value, escape_html=False) == '{"a":null,"b":[1,2.5,{"a":"<x&y>","z":true}]}'
    assert go_json({"b": {"d": 1, "c": 2}, "a": 1}, sort_keys="top") == '{"a":1,"b":{"d":1,"c":2}}'
    assert go_json({"a": [1, {}], "b": []}, indent="  ") == '{\n  "a": [\n    1,\n    {}\n  ],\n  "b": []\n}'
    assert go_json("line\nbreak\u2028") == '"line\\nbreak\\u2028"'
    with pytest.raises(ValueError, match="unsupported value"):
        go_json(float("nan"))
    assert go_sprint([1, 2.0, "a", {"b": 1, "a": [1]}, None, True]) == "[1 2 a map[a:[1] b:1] <nil> true]"
    assert parse_go_json("[1, 2.5]") == [1.0, 2.5]
    assert all(type(number) is float for number in parse_go_json("[1, 2.5]"))
    with pytest.raises(ValueError):
        parse_go_json("NaN")


def test_go_time_and_duration():
    moment = dt.datetime(2024, 3, 5, 7, 8, 9, 123000, tzinfo=dt.timezone.utc)
    assert go_time_format(moment, "2006-01-02T15:04:05Z07:00") == "2024-03-05T07:08:09Z"
    assert go_time_format(moment, "Mon Jan _2 3:04:05.000 PM MST 06") == "Tue Mar  5 7:08:09.123 AM UTC 24"
    assert go_time_format(moment, "January 2, 2006 15h04 .999") == "March 5, 2024 07h08 .123"
    assert go_time_format(moment, "05.000000|05.99") == "09.123000|09.12"
    plus_two = moment.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert go_time_format(plus_two, "15:04 -07:00 Z0700") == "09:08 +02:00 +0200"
    assert go_duration_string(dt.timedelta(seconds=3723.5)) == "1h2m3.5s"
    assert go_duration_string(dt.timedelta(milliseconds=1.5)) == "1.5ms"
    assert go_duration_string(dt.timedelta(0)) == "0s"
    assert parse_go_duration("1h30m") == dt.timedelta(minutes=90)
    assert parse_go_duration("-1.5s") == dt.timedelta(seconds=-1.5)
    with pytest.raises(ValueError, match="missing unit"):
        parse_go_duration("10")
    assert parse_go_time("2006-01-02 15:04", "2024-03-05 07:08") == dt.datetime(2024, 3, 5, 7, 8, tzinfo=dt.timezone.utc)
    with pytest.raises(ValueError, match="cannot parse"):
        parse_go_time("2006-01-02", "05/03/2024")


@pytest.mark.parametrize(
    "layout, number, expected",
    [
        ("%d", 5, "5"),
        ("%02d", 5, "05"),
        ("%02X", 26, "1A"),
        ("%x", 255, "ff"),
        ("%#x", 255, "0xff"),
        ("%o", 8, "10"),
        ("%b", 5, "101"),
        ("%5d|", 42, "   42|"),
        ("%-5d|", 42, "42   |"),
        ("%+d", 3, "+3"),
        ("%03d", -5, "-05"),
        ("%v", 7, "7"),
        ("testuser%02X", 10, "testuser0A"),
        ("100%%-%d", 1, "100%-1"),
        ("%s", 5, "%!s(int=5)"),
        ("%d-%d", 5, "5-%!d(MISSING)"),
        ("plain", 5, "plain%!(EXTRA int=5)"),
    ],
)
def test_go_sprintf_int(layout, number, expected):
    assert go_sprintf_int(layout, number) == expected
