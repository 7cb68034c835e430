"""Functions for PythonTask tests, defined in a real module so ``inspect`` finds their source."""

import functools
import json
import os.path as osp


def trace(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def plain():
    # a comment inside the body
    print("plain ran")


@trace
def decorated():
    print("decorated ran")


def uses_modules():
    print(json.dumps({"joined": osp.join("a", "b")}))


def has_multiline_string():
    text = """
first
  second"""
    print(repr(text))


def make_nested():
    def nested():
# a comment at column 0 inside an indented body
        value = 41
        print("nested", value + 1)

    return nested


def make_closure():
    secret = 42

    def closure():
        print(secret)

    return closure


def make_recursive():
    def countdown(n=3):
        print(n)
        if n:
            countdown(n - 1)

    return countdown


def needs_argument(x):
    print(x)


async def coroutine():
    print("never")


def generator():
    yield 1
