"""withItems / withParam / withSequence expansion, item scopes and child node names (Argo semantics)."""

from __future__ import annotations

import copy

import pytest
import yaml
from argo_reference import nodes

from workflows.engine.lang.errors import LoopError, TemplateError
from workflows.engine.lang.gofmt import RawNumber
from workflows.engine.lang.expr import evaluate_expression
from workflows.engine.loops import (
    expand_loop,
    expand_sequence,
    item_scope,
    item_string,
    loop_node_name,
    parse_with_param,
)
from workflows.engine.lang.templating import expression_env, substitute


# ============================================================================================ expand_loop


@pytest.mark.parametrize(
    "step",
    [
        {"name": "a", "template": "t"},
        {"name": "a", "withItems": []},  # Argo's ShouldExpand: an empty withItems is no loop
        {"name": "a", "withParam": ""},
        {"name": "a", "withItems": None, "withParam": None, "withSequence": None},
    ],
)
def test_no_loop(step):
    assert expand_loop(step) is None


def test_with_items_scalars_and_maps():
    step = {"withItems": ["a", 1, 2.5, 2.0, True, None, {"tag": "9.1", "image": "debian"}, [1, "x"]]}
    original = copy.deepcopy(step)
    items = expand_loop(step)
    assert items == ["a", 1, 2.5, 2.0, True, None, {"image": "debian", "tag": "9.1"}, [1, "x"]]
    assert list(items[6]) == ["image", "tag"]  # keys sorted, as Argo stores the YAML as JSON of Go maps
    assert step == original


def test_with_items_nested_maps_are_sorted_at_every_level():
    items = expand_loop({"withItems": [{"b": {"z": 1, "a": [{"y": 1, "x": 2}]}, "a": 1}]})
    assert items[0] == {"a": 1, "b": {"a": [{"x": 2, "y": 1}], "z": 1}}
    assert list(items[0]["b"]) == ["a", "z"] and list(items[0]["b"]["a"][0]) == ["x", "y"]


def test_with_items_are_resolved_first():
    step = {"withItems": ["{{workflow.parameters.x}}", {"k": "{{workflow.parameters.x}}"}, 3]}
    resolve = lambda value: substitute(value, {"workflow.parameters.x": "v"}, strict=False)
    assert expand_loop(step, resolve) == ["v", {"k": "v"}, 3]


def test_with_items_must_be_a_list():
    with pytest.raises(LoopError, match="withItems must be a list"):
        expand_loop({"withItems": "a"})


def test_with_param_json_list():
    step = {"withParam": "{{steps.gen.outputs.result}}"}
    result = '[{"name": "b", "a": 1}, "x", 1, 1.50, 1e3, true, null, [1, 2]]'
    items = expand_loop(step, lambda value: substitute(value, {"steps.gen.outputs.result": result}))
    assert items == [{"name": "b", "a": 1}, "x", 1, 1.5, 1000.0, True, None, [1, 2]]
    assert list(items[0]) == ["name", "a"]  # withParam keeps its key order
    assert isinstance(items[3], RawNumber) and items[3].raw == "1.50"  # Argo keeps the raw JSON text
    assert item_scope(items[3]) == {"item": "1.50"}
    assert item_scope(items[4]) == {"item": "1e3"}


@pytest.mark.parametrize("value, expected", [("null", []), ("[]", []), (" [1] ", [1]), ([1, "a"], [1, "a"])])
def test_with_param_edge_cases(value, expected):
    assert parse_with_param(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "withParam value could not be parsed as a JSON list: : "),
        ("  ", "withParam value could not be parsed as a JSON list: : "),
        ("not json", "withParam value could not be parsed as a JSON list: not json: "),
        ('{"a": 1}', 'cannot unmarshal object into Go value of type []v1alpha1.Item'),
        ('"text"', "cannot unmarshal string"),
        ("3", "cannot unmarshal number"),
        ("[1, NaN]", "could not be parsed as a JSON list"),
        ("{{steps.a.outputs.result}}", "{{steps.a.outputs.result}}"),
        (42, "could not be parsed as a JSON list: 42"),
    ],
)
def test_with_param_errors_name_the_value(value, message):
    with pytest.raises(LoopError) as caught:
        expand_loop({"withParam": "{{x}}"}, lambda _: value)  # what the field resolves to
    assert message in str(caught.value)
    assert isinstance(caught.value, TemplateError)


# ============================================================================================ withSequence


@pytest.mark.parametrize(
    "sequence, expected",
    [
        ({"count": "5"}, ["0", "1", "2", "3", "4"]),
        ({"count": 3}, ["0", "1", "2"]),
        ({"count": "0"}, []),
        ({"start": "100", "end": "103"}, ["100", "101", "102", "103"]),
        ({"start": "0", "end": "0"}, ["0"]),
        ({"start": "5", "end": "0"}, ["5", "4", "3", "2", "1", "0"]),  # counts down
        ({"start": "200", "count": "3"}, ["200", "201", "202"]),
        ({"end": "2"}, ["0", "1", "2"]),
        ({"start": "-1", "end": "1"}, ["-1", "0", "1"]),
        ({"count": "3", "end": "1"}, ["0", "1"]),  # end wins, like Argo's expandSequence
        ({"count": "-2"}, ["0", "-1", "-2", "-3"]),  # Argo: end = start + count - 1, then counts down
        ({"start": "19", "end": "21", "format": "2020-05-%02X"}, ["2020-05-13", "2020-05-14", "2020-05-15"]),
        ({"start": "19", "end": "21", "format": "2020-05-%02d"}, ["2020-05-19", "2020-05-20", "2020-05-21"]),
        ({"count": "5", "format": "testuser%02X"}, ["testuser00", "testuser01", "testuser02", "testuser03", "testuser04"]),
        ({"count": "2", "format": "%s"}, ["%!s(int=0)", "%!s(int=1)"]),
        ({"count": "1", "format": "x"}, ["x%!(EXTRA int=0)"]),
        ({"count": "1", "format": "a\\u0041%d"}, ["aA0"]),  # the output is parsed as a JSON string
    ],
)
def test_with_sequence(sequence, expected):
    assert expand_loop({"withSequence": sequence}) == expected
    assert expand_sequence(sequence) == expected


def test_with_sequence_fields_are_resolved():
    step = {"withSequence": {"start": "1", "end": "{{steps.hello-a.outputs.result}}"}}
    resolve = lambda value: substitute(value, {"steps.hello-a.outputs.result": "3"})
    assert expand_loop(step, resolve) == ["1", "2", "3"]


@pytest.mark.parametrize(
    "sequence, message",
    [
        ({"count": "abc"}, 'withSequence.count: strconv.Atoi: parsing "abc": invalid syntax'),
        ({"start": "1.5", "end": "3"}, 'withSequence.start: strconv.Atoi: parsing "1.5"'),
        ({"end": " 3"}, 'parsing " 3"'),
        ({"end": "{{steps.a.outputs.result}}"}, "{{steps.a.outputs.result}}"),
        ({"start": "1"}, "neither end nor count was specified in withSequence"),
        ({"count": "1", "format": 'say "%d"'}, "not a JSON string"),
        ("5", "withSequence must be a map"),
    ],
)
def test_with_sequence_errors(sequence, message):
    with pytest.raises(LoopError) as caught:
        expand_loop({"withSequence": sequence})
    assert message in str(caught.value)


# ============================================================================================ item scope and names


@pytest.mark.parametrize(
    "item, scope",
    [
        ("hello world", {"item": "hello world"}),
        ('say "hi"\n', {"item": 'say "hi"\n'}),
        (3, {"item": "3"}),
        (2.5, {"item": "2.5"}),
        (2.0, {"item": "2"}),  # a YAML float is a Go float64 in Argo's JSON
        (True, {"item": "true"}),
        (None, {"item": "[]"}),  # Argo reads a JSON null item as an empty list
        ([1, "a", {"b": 1}], {"item": '[1,"a",{"b":1}]'}),
        (
            {"tag": "9.1", "image": "debian"},
            {"item": '{"image":"debian","tag":"9.1"}', "item.image": "debian", "item.tag": "9.1"},
        ),
        (
            {"n": 1, "f": 1.5, "b": False, "z": None, "l": [1, "x"], "m": {"y": 2, "x": "<1>"}, "s": 'q"\n'},
            {
                "item": '{"b":false,"f":1.5,"l":[1,"x"],"m":{"y":2,"x":"\\u003c1\\u003e"},"n":1,"s":"q\\"\\n","z":null}',
                "item.n": "1",
                "item.f": "1.5",
                "item.b": "false",
                "item.z": "null",
                "item.l": '[1,"x"]',
                "item.m": '{"y":2,"x":"<1>"}',
                "item.s": 'q\\"\\n',  # Argo's Item.String(): JSON-escaped, quotes stripped
            },
        ),
    ],
)
def test_item_scope(item, scope):
    assert item_scope(item) == scope


def test_item_scope_in_expressions():
    env = expression_env(item_scope({"name": "fourth"}))
    assert evaluate_expression("get(item, 'type') ?? 'always'", env) == "always"
    assert evaluate_expression("item.name", env) == "fourth"
    assert evaluate_expression("item", expression_env(item_scope(3))) == "3"  # scalars are strings, as in Argo
    assert evaluate_expression("asInt(item) + 1", expression_env(item_scope(3))) == 4


@pytest.mark.parametrize(
    "item, name",
    [
        ("hello world", "step(0:hello world)"),
        ("f(x)", "step(0:fx)"),  # parentheses are removed
        (1, "step(0:1)"),
        (RawNumber("1.50"), "step(0:1.50)"),
        (True, "step(0:true)"),
        (None, "step(0:[])"),
        ({"tag": "9.1", "image": "debian"}, "step(0:image:debian,tag:9.1)"),
        ({"name": "fourth"}, "step(0:name:fourth)"),
        ({"name": "first", "type": ""}, "step(0:name:first,type:)"),
        ({"a-b": 1, "a": {"c": [1]}}, 'step(0:a-b:1,a:{"c":[1]})'),  # sorted as "key:value" strings
        (["a", 1, {"b": 2}], 'step(0:[a 1 {"b":2}])'),
        ('say "hi"', 'step(0:say \\"hi\\")'),
    ],
)
def test_loop_node_name(item, name):
    assert loop_node_name("step", 0, item) == name


def test_loop_node_name_index():
    assert loop_node_name("main[0].print-message", 12, "x") == "main[0].print-message(12:x)"


def test_item_string():
    assert item_string("a\tb") == "a\\tb"
    assert item_string(None) == "null"
    assert item_string(RawNumber("1e3")) == "1e3"
    assert item_string({"b": 1, "a": 2}) == '{"b":1,"a":2}'  # raw JSON keeps its order


def test_loops_maps_example_end_to_end():
    """examples/loops-maps.yaml."""
    step = yaml.safe_load(
        """
        name: test-linux
        template: cat-os-release
        arguments:
          parameters:
          - name: image
            value: "{{item.image}}"
          - name: tag
            value: "{{item.tag}}"
        withItems:
        - { image: 'debian', tag: '9.1' }
        - { image: 'debian', tag: '8.9' }
        - { image: 'alpine', tag: '3.6' }
        - { image: 'ubuntu', tag: '17.10' }
        """
    )
    items = expand_loop(step)
    body = {key: value for key, value in step.items() if not key.startswith("with")}
    children = [
        (loop_node_name("loops[0].test-linux", index, item), substitute(body["arguments"], item_scope(item)))
        for index, item in enumerate(items)
    ]
    assert children[0] == (
        "loops[0].test-linux(0:image:debian,tag:9.1)",
        {"parameters": [{"name": "image", "value": "debian"}, {"name": "tag", "value": "9.1"}]},
    )
    assert [name for name, _ in children][-1] == "loops[0].test-linux(3:image:ubuntu,tag:17.10)"


def test_every_literal_loop_of_the_examples_expands(argo_documents):
    loops = [value for document in argo_documents for _, value in nodes(document.data)
             if isinstance(value, dict) and any(key in value for key in ("withItems", "withParam", "withSequence"))]
    literal = [step for step in loops if "{{" not in repr({k: step.get(k) for k in ("withItems", "withParam", "withSequence")})]
    assert len(literal) > 20
    for step in literal:
        items = expand_loop(step)
        assert isinstance(items, list)
        for index, item in enumerate(items):
            assert item_scope(item)["item"] is not None
            assert loop_node_name(step.get("name", "x"), index, item).startswith(f"{step.get('name', 'x')}({index}:")
