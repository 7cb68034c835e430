"""``{{...}}`` substitution in the engine, with Argo's semantics (util/template)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from argo_reference import nodes

from workflows.engine.lang.templating import (
    ExpressionError,
    TemplateError,
    UnresolvedReference,
    expression_env,
    find_tags,
    format_expression_result,
    has_tags,
    substitute,
    substitute_string,
    value_from_expression,
)
from workflows.errors import WorkflowsError

SCOPE = {
    "workflow.name": "wf-abc",
    "inputs.parameters.message": "hello",
    "inputs.parameters.num": "3",
    "inputs.parameters.week-temps": '{"avg": 35.8}',
    "steps.flip.outputs.result": "heads",
    "tasks.b.outputs.parameters.p": "pv",
    "item": "apple",
}


# ============================================================================================ simple tags


@pytest.mark.parametrize(
    "text, expected",
    [
        ("no tags at all", "no tags at all"),
        ("{{workflow.name}}", "wf-abc"),
        ("{{ workflow.name }}", "wf-abc"),
        ("{{workflow.name  }}", "wf-abc"),
        ("{{\tworkflow.name\n}}", "wf-abc"),
        ("a-{{inputs.parameters.message}}-{{item}}-b", "a-hello-apple-b"),
        ("{{steps.flip.outputs.result}}{{tasks.b.outputs.parameters.p}}", "headspv"),
        ("{{item}}}", "apple}"),  # the tag ends at the first }}
        ("{ {item}}", "{ {item}}"),
        ("{}", "{}"),
        ("}}{{item}}", "}}apple"),
    ],
)
def test_simple_tags(text, expected):
    assert substitute(text, SCOPE) == expected
    assert substitute_string(text, SCOPE) == expected


def test_values_are_inserted_verbatim():
    scope = {"x": 'a "quoted"\nline\\ <b> & {{not.a.tag}}'}
    assert substitute("[{{x}}]", scope) == '[a "quoted"\nline\\ <b> & {{not.a.tag}}]'  # no second pass


def test_nested_tag_builds_a_new_tag_like_argo():
    # fasttemplate's tag is "inputs.parameters.{{item"; Argo resolves the inner name and leaves "{{" + the rest.
    assert substitute("{{inputs.parameters.{{item}}}}", {"item": "message"}, strict=False) == "{{inputs.parameters.message}}"


def test_unknown_tag_strict_raises_naming_tag_and_location():
    with pytest.raises(UnresolvedReference) as caught:
        substitute({"args": ["ok", "{{inputs.parameters.nope}}"]}, SCOPE, where="templates.main.container")
    error = caught.value
    assert str(error) == "failed to resolve {{inputs.parameters.nope}} (at templates.main.container.args[1])"
    assert error.name == "inputs.parameters.nope"
    assert error.tag == "inputs.parameters.nope"
    assert error.where == "templates.main.container.args[1]"
    assert isinstance(error, TemplateError) and isinstance(error, WorkflowsError)


def test_unknown_tags_non_strict_stay_verbatim():
    text = "{{ steps.later.outputs.result }} {{item.x}} {{pod.name}} {{retries}} {{ jinja_var }} {{ =1}} {{workflow.name}}"
    assert substitute(text, SCOPE, strict=False) == (
        "{{ steps.later.outputs.result }} {{item.x}} {{pod.name}} {{retries}} {{ jinja_var }} {{ =1}} wf-abc"
    )  # "{{ =1}}" is a simple tag: the "=" must follow the braces


def test_strict_prefixes_like_argo_resolve_references():
    resolve = lambda text: substitute(text, SCOPE, strict=False, strict_prefixes=("steps", "tasks"))
    assert resolve("{{steps.flip.outputs.result}} {{pod.name}}") == "heads {{pod.name}}"
    assert resolve("{{tasks.a.outputs.artifacts.art}}") == "{{tasks.a.outputs.artifacts.art}}"  # resolved elsewhere
    assert resolve("{{stepsX.y}}") == "{{stepsX.y}}"  # a whole dot-segment must match
    for text in ("{{steps.other.outputs.result}}", "{{ tasks.x.ip }}", "{{steps}}"):
        with pytest.raises(UnresolvedReference, match="failed to resolve"):
            resolve(text)


def test_absent_optional_and_non_string_values():
    with pytest.raises(TemplateError, match=r"unable to substitute \{\{x\}\}: x is an absent optional"):
        substitute("{{x}}", {"x": None}, strict=False)
    with pytest.raises(TemplateError, match=r"failed to resolve \{\{x\}\} to string"):
        substitute("{{x}}", {"x": 3})


def test_unclosed_tag_is_an_error_in_every_mode():
    for strict in (True, False):
        with pytest.raises(TemplateError, match="cannot find the end tag"):
            substitute({"a": "ok {{item"}, SCOPE, strict=strict)


# ============================================================================================ structures


def test_deep_copy_without_mutation_and_scalars_untouched():
    value = {
        "name": "{{item}}",
        "{{inputs.parameters.message}}": ["{{inputs.parameters.num}}", 1, 2.5, True, None, {"deep": "{{workflow.name}}"}],
        "plain": {"x": [1, 2]},
        "tuple": ("{{item}}", 3),
    }
    original = copy.deepcopy(value)
    result = substitute(value, SCOPE)
    assert value == original  # not mutated
    assert result == {
        "name": "apple",
        "hello": ["3", 1, 2.5, True, None, {"deep": "wf-abc"}],  # keys are substituted too
        "plain": {"x": [1, 2]},
        "tuple": ("apple", 3),
    }
    assert result["plain"] is not value["plain"] and result["plain"]["x"] is not value["plain"]["x"]
    for scalar in (1, 2.5, True, None):
        assert substitute(scalar, SCOPE) is scalar


def test_error_location_in_nested_structures():
    with pytest.raises(TemplateError) as caught:
        substitute({"steps": [[{"arguments": {"parameters": [{"value": "{{nope}}"}]}}]]}, {})
    assert caught.value.where == "steps[0][0].arguments.parameters[0].value"


def test_has_tags_and_find_tags():
    assert has_tags({"a": ["x", {"b": "{{y}}"}]})
    assert has_tags({"{{k}}": 1})
    assert not has_tags({"a": ["x", 1, None]})
    assert find_tags("{{ a }} and {{=b + 1}} and {{c") == [" a ", "=b + 1"]


# ============================================================================================ expressions


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{{=1 + 1}}", "2"),
        ("{{= 1 + 1 }}", "2"),
        ("{{=7 / 2}}", "3.5"),
        ("{{=4 / 2}}", "2"),  # a float without fraction renders like Go's json.Marshal
        ("{{=1e21 * 1.0}}", "1e+21"),
        ("{{=true}}", "true"),
        ("{{='a<b>&c'}}", "a<b>&c"),  # strings verbatim
        ("{{=[1, 'a', nil]}}", '[1,"a",null]'),
        ("{{={b: 1, a: [2]} }}", '{"a":[2],"b":1}'),  # keys sorted, compact (the tag ends at the first }})
        ("{{=['<x>']}}", '["\\u003cx\\u003e"]'),  # Go escapes HTML characters inside JSON results
        ("{{=inputs.parameters.message}} {{workflow.name}}", "hello wf-abc"),
        ("{{=asInt(inputs.parameters.num) * 10}}", "30"),
        ("{{=jsonpath(inputs.parameters['week-temps'], '$.avg')}}", "35.8"),
        ("{{=item}}", "apple"),
        ("{{=\n  'multi' +\n  'line'\n}}", "multiline"),
    ],
)
def test_expression_tags(text, expected):
    assert substitute(text, SCOPE) == expected


def test_expression_nil_result():
    with pytest.raises(ExpressionError, match="evaluated to nil"):
        substitute("{{=nil}}", {})
    assert substitute("{{=nil}}", {}, strict=False) == "{{=nil}}"


def test_expression_checker_errors_are_left_for_later_when_not_strict():
    assert substitute("{{=len(1, 2)}}", {}, strict=False) == "{{=len(1, 2)}}"
    with pytest.raises(ExpressionError, match="invalid number of arguments for len"):
        substitute("{{=len(1, 2)}}", {})


def test_expression_syntax_errors_raise_in_every_mode():
    for strict in (True, False):
        with pytest.raises(ExpressionError, match=r"failed to evaluate expression \{\{=1 \+\}\}"):
            substitute({"a": "{{=1 +}}"}, {}, strict=strict)


def test_expression_missing_names():
    with pytest.raises(UnresolvedReference, match="inputs.parameters.nope is missing") as caught:
        substitute("{{=inputs.parameters.nope + 'x'}}", SCOPE)
    assert caught.value.name == "inputs.parameters.nope"
    # non-strict: left verbatim for a later pass (Argo's allowUnresolved)
    assert substitute("{{=inputs.parameters.nope + 'x'}}", SCOPE, strict=False) == "{{=inputs.parameters.nope + 'x'}}"
    assert substitute("{{=unknownFunction(1)}}", {}, strict=False) == "{{=unknownFunction(1)}}"


def test_late_bound_names_stay_verbatim_even_when_their_parent_exists():
    # workflow.* exists, workflow.status does not yet: Argo must not resolve the comparison to false.
    text = "{{=workflow.status == 'Succeeded'}}"
    assert substitute(text, SCOPE, strict=False) == text
    assert substitute(text, {**SCOPE, "workflow.status": "Succeeded"}, strict=False) == "true"
    assert substitute("{{=sprig.int(retries) + 1}}", {}, strict=False) == "{{=sprig.int(retries) + 1}}"
    assert substitute("{{=get(item, 'type') ?? 'always'}}", {}, strict=False) == "{{=get(item, 'type') ?? 'always'}}"


def test_expression_runtime_errors_by_mode():
    scope = {"workflow.parameters.data": ""}
    text = "{{= jsonpath(workflow.parameters.data, '$.id') }}"
    assert substitute(text, scope, strict=False) == text  # template-level pass: left for later
    with pytest.raises(ExpressionError, match="jsonpath: invalid JSON"):
        substitute(text, scope)
    with pytest.raises(ExpressionError, match="jsonpath: invalid JSON"):  # all names present: errors raise
        substitute(text, scope, strict=False, strict_prefixes=("steps", "tasks"))


def test_expression_strict_prefixes():
    resolve = lambda text, scope: substitute(text, scope, strict=False, strict_prefixes=("steps", "tasks"))
    with pytest.raises(UnresolvedReference, match="steps.a.outputs.result is missing"):
        resolve("{{=steps.a.outputs.result}}", {})
    assert resolve("{{=item + 1}}", {}) == "{{=item + 1}}"
    assert resolve("{{=tasks.p.outputs.parameters.m ?? 'fallback'}}", {"tasks.p.outputs.parameters.m": None}) == "fallback"


def test_prebuilt_env_is_used():
    env = expression_env({"x": "1"})
    assert substitute("{{=x}}", {}, env=env) == "1"


def test_expression_env():
    env = expression_env(
        {
            "workflow.name": "wf",
            "workflow.parameters.a": "1",
            "item": '{"k":"v"}',
            "item.k": "v",
            "inputs.parameters.p": None,
            "status": "Succeeded",
            "workflow.creationTimestamp": "2024-01-01T00:00:00Z",
            "workflow.creationTimestamp.Y": "2024",
        }
    )
    assert env["workflow"] == {"name": "wf", "parameters": {"a": "1"}, "creationTimestamp": {"Y": "2024"}}
    assert env["item"] == {"k": "v"}  # a parent of other names is dropped, like Argo's expand
    assert env["inputs"] == {"parameters": {"p": None}}
    assert env["status"] == "Succeeded"
    assert callable(env["asInt"]) and callable(env["jsonpath"]) and callable(env["toJson"]) and "date" in env["sprig"]


def test_value_from_expression_like_argo_output_parameters():
    scope = {"steps.flip-coin.outputs.result": "tails", "steps.tails.outputs.result": "it was tails"}
    expression = "steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.result : steps.tails.outputs.result"
    assert value_from_expression(expression, scope) == "it was tails"  # steps.heads is absent: not evaluated
    assert value_from_expression("[1, 'a']", {}) == "[1 a]"  # Go's %v, not JSON
    assert value_from_expression("2.0 * 3", {}) == "6"
    with pytest.raises(ExpressionError, match="evaluated to nil"):
        value_from_expression("steps.heads?.outputs", scope)


def test_format_expression_result():
    assert format_expression_result("s") == "s"
    assert format_expression_result(3) == "3"
    assert format_expression_result(2.0) == "2"
    assert format_expression_result(False) == "false"
    assert format_expression_result({"b": 1, "a": None}) == '{"a":null,"b":1}'
    assert format_expression_result(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)) == "2024-01-02T03:04:05Z"
    with pytest.raises(ValueError):
        format_expression_result(None)
    with pytest.raises(ValueError):
        format_expression_result(float("nan"))


# ============================================================================================ the examples

WEATHER = '{"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="}'
CONFIG = '{"employees": [{"name": "Baris", "age":43},{"name": "Mo", "age": 42}, {"name": "Jai", "age" :44}]}'
WEEK_TEMPS = '{"avg":35.8,"max":57,"min":15}'
LIST = '[\n  "always",\n  "test"\n]'
YEAR = "<current year>"

# Every string of Argo's examples/e2e tests holding a {{=...}} tag: (scope, expected substitution).
EXAMPLE_EXPRESSION_TAGS = {
    "{{=\n  map([\n      jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')), '$.temps')\n    ], {\n      toJson({\n        avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5,\n        min: sprig.min(#[0], #[1], #[2], #[3], #[4]),\n        max: sprig.max(#[0], #[1], #[2], #[3], #[4])\n      })\n  })[0]\n}}": (
        {"workflow.parameters.weather": WEATHER},
        WEEK_TEMPS,
    ),
    "{{=jsonpath(inputs.parameters['week-temps'], '$.avg')}}": ({"inputs.parameters.week-temps": WEEK_TEMPS}, "35.8"),
    "{{=jsonpath(inputs.parameters['week-temps'], '$.min')}}": ({"inputs.parameters.week-temps": WEEK_TEMPS}, "15"),
    "{{=jsonpath(inputs.parameters['week-temps'], '$.max')}}": ({"inputs.parameters.week-temps": WEEK_TEMPS}, "57"),
    "{{=jsonpath(workflow.parameters.config, '$.a')}}": ({"workflow.parameters.config": '{"a": "1", "b": "2", "c": "3"}'}, "1"),
    "{{=jsonpath(workflow.parameters.config, '$.b')}}": ({"workflow.parameters.config": '{"a": "1", "b": "2", "c": "3"}'}, "2"),
    "{{=jsonpath(workflow.parameters.config, '$.c')}}": ({"workflow.parameters.config": '{"a": "1", "b": "2", "c": "3"}'}, "3"),
    '{{=jsonpath(workflow.parameters.config, \'$.employees[?(@.name=="Baris")].age\')}}': ({"workflow.parameters.config": CONFIG}, "[43]"),
    "{{=jsonpath(workflow.parameters.config, '$.employees[?(@.age>42 && @.age<44)].age')}}": ({"workflow.parameters.config": CONFIG}, "[43]"),
    "{{=jsonpath(workflow.parameters.config, '$.employees[0:1]')}}": ({"workflow.parameters.config": CONFIG}, '[{"age":43,"name":"Baris"}]'),
    "{{=jsonpath(workflow.parameters.config, '$.employees[*].name')}}": ({"workflow.parameters.config": CONFIG}, '["Baris","Mo","Jai"]'),
    "{{=toJson(filter([1, 3], {# > 1}))}}": ({}, "[3]"),
    "{{=item}}": ({"item": "3"}, "3"),
    "hello {{=asInt(inputs.parameters.foo) * 10}} @ {{=sprig.date('2006', workflow.creationTimestamp)}}\n": (
        {"inputs.parameters.foo": "3", "workflow.creationTimestamp": "2024-05-06T07:08:09Z"},
        f"hello 30 @ {YEAR}\n",  # sprig.date of a string is the current time, as in Argo
    ),
    "{{= concat(['always'], inputs.parameters.test == 'true' ? ['test'] : []) | toJSON() }}": ({"inputs.parameters.test": "true"}, LIST),
    '"{{= get(item, \'type\') ?? \'always\' }}"\nin\n("{{= inputs.parameters.list | fromJSON() | join(\'","\') }}","")\n': (
        {"inputs.parameters.list": LIST, "item": '{"name":"first","type":""}', "item.name": "first", "item.type": ""},
        '""\nin\n("always","test","")\n',
    ),
    "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}": (
        {"cronworkflow.lastScheduledTime": None},
        "true",
    ),
    "{{= inputs.parameters[\"should-print\"] == 'true'}}": ({"inputs.parameters.should-print": "true"}, "true"),
    "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}": ({"workflow.parameters.json": '[{"value": "false"}]'}, "false"),
    "{{= workflow.parameters.data != '' }}": ({"workflow.parameters.data": '{"id": "x"}'}, "true"),
    "{{= jsonpath(workflow.parameters.data, '$.id') }}": ({"workflow.parameters.data": '{"id": "x"}'}, "x"),
}


@pytest.mark.parametrize("text", sorted(EXAMPLE_EXPRESSION_TAGS))
def test_every_example_expression_tag(text):
    scope, expected = EXAMPLE_EXPRESSION_TAGS[text]
    years = {str(dt.datetime.now().year)}
    result = substitute(text, scope)
    years.add(str(dt.datetime.now().year))
    assert result in {expected.replace(YEAR, year) for year in years}


def test_example_expression_tags_cover_the_reference_data(argo_documents):
    found = {value for document in argo_documents for _, value in nodes(document.data)
             if isinstance(value, str) and "{{=" in value}
    missing = sorted(found - set(EXAMPLE_EXPRESSION_TAGS))
    assert not missing, f"{{{{=...}}}} strings of the examples without a test: {missing}"


def test_expression_tag_template_example_flow():
    """examples/expression-tag-template-workflow.yaml: the task's withParam resolves, {{=item}} waits for the item."""
    from workflows.engine.loops import expand_loop, item_scope

    task = {"name": "task-0", "arguments": {"parameters": [{"name": "foo", "value": "{{=item}}"}]}, "withParam": "{{=toJson(filter([1, 3], {# > 1}))}}"}
    resolved = substitute(task, {}, strict=False, strict_prefixes=("steps", "tasks"))
    assert resolved["withParam"] == "[3]"
    assert resolved["arguments"]["parameters"][0]["value"] == "{{=item}}"
    items = expand_loop(resolved)
    assert [substitute(resolved["arguments"], item_scope(item)) for item in items] == [{"parameters": [{"name": "foo", "value": "3"}]}]


# ============================================================================================ large templates


def test_repeated_substitution_of_a_large_template_is_stable():
    # (its speed is measured by bench/engine.py, not here)
    template = {
        "name": "main",
        "inputs": {"parameters": [{"name": f"p{i}", "value": f"{{{{inputs.parameters.p{i}}}}}"} for i in range(5)]},
        "container": {
            "image": "alpine:3",
            "command": ["sh", "-c"],
            "args": ["echo {{inputs.parameters.p0}} {{workflow.name}} plain text " * 3],
            "env": [{"name": f"E{i}", "value": f"value {i}"} for i in range(10)],
            "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
        },
        "metadata": {"labels": {"a": "b"}},
    }
    scope = {f"inputs.parameters.p{i}": f"v{i}" for i in range(5)}
    scope.update({f"workflow.parameters.g{i}": "x" for i in range(50)}, **{"workflow.name": "wf"})
    original = copy.deepcopy(template)
    results = [substitute(template, scope) for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert template == original  # never modified in place
    assert results[0]["container"]["args"] == ["echo v0 wf plain text " * 3]
    assert [parameter["value"] for parameter in results[0]["inputs"]["parameters"]] == [f"v{i}" for i in range(5)]
    assert results[0]["container"]["env"] == template["container"]["env"]
