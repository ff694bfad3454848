"""Source rules of rule-bound exercises, checked on the student's source code.

Some exercises come with a rule about *how* to solve them: no Python loops
(``pairwise_sq_dists``), or build it yourself (``rotate90`` without
``np.rot90``). A rule is checked on the syntax tree of the answer cell, so it
only means something if everything the answer runs is in that cell or is
trusted. Three ways around a plain name check are therefore closed:

* computed access: ``getattr(np, "rot" + "90")``, ``exec("for ...")``,
  ``eval``, ``globals()[...]``, ``np.__dict__``: refused outright;
* code elsewhere: a helper defined in an extra cell or in another answer and
  called from the answer. The answer may use only names it defines itself,
  numpy, plain built-ins and names the release defines (a closed world), and
  none that the student's other code rebinds; a release function it calls is
  held to the same rule;
* imports: only numpy and math may be imported inside a rule-bound answer.

Nothing here runs student code: it only parses it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .cells import nbgrader_meta, text

LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp)
# Functions that run Python code once per element: loops by another name.
LOOP_FUNCTIONS = frozenset({"map", "filter", "vectorize", "frompyfunc", "apply_along_axis",
                            "apply_over_axes", "fromiter", "fromfunction"})
# Ways to reach a name the source does not spell out.
COMPUTED_ACCESS = frozenset({
    "exec", "eval", "compile", "getattr", "setattr", "delattr", "hasattr", "__import__", "importlib",
    "globals", "locals", "vars", "dir", "__dict__", "__builtins__", "builtins", "__getattribute__",
    "__getattr__", "__class__", "__subclasses__", "__globals__", "__code__", "__closure__",
    "__func__", "__self__", "__module__", "__loader__", "__spec__", "sys", "modules", "operator",
    "attrgetter", "methodcaller", "itemgetter", "get_ipython", "breakpoint"})
IMPORTABLE = frozenset({"numpy", "math"})
NUMPY = frozenset({"np", "numpy"})
SAFE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "complex", "dict", "divmod", "enumerate", "float", "frozenset",
    "int", "isinstance", "len", "list", "max", "min", "pow", "print", "range", "repr", "reversed",
    "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip", "Ellipsis", "NotImplemented",
    "ArithmeticError", "AssertionError", "Exception", "IndexError", "KeyError", "NotImplementedError",
    "OverflowError", "RuntimeError", "TypeError", "ValueError", "ZeroDivisionError"})


@dataclass(frozen=True)
class Answers:
    """The student's code and the release's, as the source rules read them.

    sources: answer-cell grade_id -> the student's source.
    extras: sources of the code cells the student added.
    release_names: names the release's own (non-answer) code cells bind.
    release_functions: name -> source of each function those cells define.
    """

    sources: dict[str, str]
    extras: tuple[str, ...] = ()
    release_names: frozenset[str] = frozenset()
    release_functions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, nb, release) -> "Answers":
        """From the rebuilt submission ``nb`` and the ``release`` notebook (nbformat nodes)."""
        def code(notebook):
            return [c for c in notebook.cells if c.get("cell_type") == "code"]

        release_code = [c.source for c in code(release) if not nbgrader_meta(c).get("solution")]
        names, functions = set(), {}
        for source in release_code:
            tree = _parse(source)
            names |= _bound(tree)
            functions.update({node.name: ast.get_source_segment(source, node) or "" for node in tree.body
                              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))})
        sources = {nbgrader_meta(c)["grade_id"]: text(c.source) for c in code(nb)
                   if nbgrader_meta(c).get("solution") and isinstance(nbgrader_meta(c).get("grade_id"), str)}
        extras = tuple(text(c.source) for c in code(nb)
                       if not nbgrader_meta(c).get("grade_id") and text(c.source) not in release_code)
        return cls(sources, extras, frozenset(names), functions)


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])  # a broken cell fails where it defines the function


def _used(node: ast.AST) -> list[str]:
    """The names a node uses: a name, an attribute, an import (not the name a def gives itself)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.alias):
        return [*node.name.split("."), *([node.asname] if node.asname else [])]
    return []


def _bound(tree: ast.AST, numpy_imports: bool = True) -> set[str]:
    """Every name the code binds, anywhere (assignments, defs, arguments, imports, handlers).

    numpy_imports: count the names bound by ``import numpy [as np]``.
    """
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names
                      if numpy_imports or not (isinstance(node, ast.Import) and a.name == "numpy")}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _changed(tree: ast.AST) -> set[str]:
    """Names whose meaning the code changes: rebinds (``np = ...``) or mutates (``np.sum = ...``).

    Importing numpy again (``import numpy as np``) changes nothing.
    """
    names = _bound(tree, numpy_imports=False)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name):
                names.add(root.id)
    if names & NUMPY:
        names |= NUMPY  # np and numpy are one module
    return names


def find_loop(source: str) -> str | None:
    """Describe the first Python loop, comprehension, per-element call or recursion in ``source``."""
    tree = _parse(source)
    for node in ast.walk(tree):
        if isinstance(node, LOOP_NODES):
            return f"a {type(node).__name__} at line {node.lineno}"
        used = set(_used(node)) & LOOP_FUNCTIONS if isinstance(node, (ast.Name, ast.Attribute)) else set()
        if used:
            return f"{used.pop()} (it runs Python code for every element) at line {node.lineno}"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            calls_itself = any(isinstance(n, ast.Name) and n.id == node.name for n in ast.walk(node))
            if calls_itself:
                return f"recursion in {node.name} (a loop by another name)"
    return None


def find_name(source: str, names: tuple[str, ...] | frozenset[str]) -> str | None:
    """The first of ``names`` that ``source`` uses as a name, attribute or import, or None."""
    for node in ast.walk(_parse(source)):
        for used in _used(node):
            if used in names:
                return used
    return None


def check_rules(grade_id: str, answers: Answers, no_loops: bool, banned: tuple[str, ...]) -> str | None:
    """Why the answer in cell ``grade_id`` breaks its exercise's rule (one sentence), or None.

    no_loops: the exercise forbids Python loops; banned: names the answer must not use.
    """
    source = answers.sources.get(grade_id, "")
    tree = _parse(source)
    computed = find_name(source, COMPUTED_ACCESS)
    if computed:
        return (f"your answer uses {computed}: this exercise's answer may not reach code indirectly "
                f"(getattr, exec, eval, globals, ...), so that its rule can be checked")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [(node.module or ".") if node.level == 0 else "."]
        else:
            continue
        outside = [m for m in modules if m.split(".")[0] not in IMPORTABLE]
        if outside:
            return f"your answer imports {outside[0]}: only numpy and math may be imported in this exercise"
    problem = _rule_problem(source, no_loops, banned, "your answer")
    if problem:
        return problem
    elsewhere = set()
    for other in (*answers.extras, *(s for g, s in answers.sources.items() if g != grade_id)):
        elsewhere |= _changed(_parse(other))
    own = _bound(tree)
    trusted = (SAFE_BUILTINS | NUMPY | answers.release_names) - elsewhere
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in own:
            if node.id not in trusted:
                return (f"your answer uses {node.id}, which is defined or changed outside its cell: for this "
                        f"exercise the answer may use only numpy, Python's built-ins and what its own cell "
                        f"defines (put helpers inside the answer cell)")
            if node.id in answers.release_functions:
                problem = _rule_problem(answers.release_functions[node.id], no_loops, banned,
                                        f"{node.id}, which your answer calls")
                if problem:
                    return problem
    return None


def _rule_problem(source: str, no_loops: bool, banned: tuple[str, ...], where: str) -> str | None:
    loop = find_loop(source) if no_loops else None
    if loop:
        return f"this exercise must be solved without Python loops; found {loop} in {where}"
    used = find_name(source, banned) if banned else None
    if used:
        return f"this exercise asks you to build it yourself; {where} uses {used}"
    return None
