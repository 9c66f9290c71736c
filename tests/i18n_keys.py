"""Which catalogue keys the code asks for: every ``t(...)``/``tn(...)`` call in ``vitviz/`` and ``app/``, read by AST.

A call's key argument resolves to keys this way:

- a string literal: that key;
- ``a if cond else b``: both sides;
- an f-string or a ``"prefix_" + name`` concatenation: a pattern (literal parts as they are, each other part
  one ``[a-z0-9_]+`` word, or the literals of an ``x if c else y`` part); some key must match it, and every
  key that matches counts as used (keys looked up by pattern, ``t(f"attention.fusion_{f}")``);
- anything else (a name, ``MODE_KEYS[m]``, a parameter, a function's result): the key-like string literals
  (``namespace.rest`` with a namespace the catalogues use) reachable from it — the values bound to its names
  in the same module (assignments, ``for`` loops and comprehensions over them), the arguments that calls of
  the enclosing function pass for a parameter, the ``return`` values of a function it calls. None found:
  the call is unresolved, and reported.
"""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

FUNCS = ("t", "tn")
KEYLIKE = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")
WORD = "[a-z0-9_]+"


@dataclass
class Use:
    """One ``t``/``tn`` call: where, which function, the keys or patterns its key resolves to, the names of the
    values it passes (None where it passes ``**values``)."""
    where: str
    func: str
    source: str
    keys: set[str] = field(default_factory=set)
    patterns: list[str] = field(default_factory=list)
    values: Optional[set[str]] = None

    @property
    def resolved(self) -> bool:
        return bool(self.keys or self.patterns)


def _func_name(node: ast.expr) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _target_names(target: ast.expr) -> Iterable[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id


class Code:
    """The modules, with what the resolution needs: per module the values bound to each name; across modules
    each function's parameters and ``return`` values, and each call of a function by its name."""

    def __init__(self, paths: Iterable[Path], root: Path):
        self.trees = {p.relative_to(root).as_posix(): ast.parse(p.read_text(encoding="utf-8")) for p in paths}
        self.bindings: dict[tuple[str, str], list[ast.expr]] = defaultdict(list)
        self.params: dict[str, list[tuple[str, int, str]]] = defaultdict(list)  # param -> (module, index, func)
        self.returns: dict[str, list[ast.expr]] = defaultdict(list)
        self.calls: dict[str, list[ast.Call]] = defaultdict(list)
        self.owner: dict[int, str] = {}
        for module, tree in self.trees.items():
            for node in ast.walk(tree):
                self.owner[id(node)] = module
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        for name in _target_names(target):
                            self.bindings[module, name].append(node.value)
                elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
                    for name in _target_names(node.target):
                        self.bindings[module, name].append(node.value)
                elif isinstance(node, (ast.For, ast.comprehension)):
                    for name in _target_names(node.target):
                        self.bindings[module, name].append(node.iter)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for index, arg in enumerate([*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]):
                        self.params[arg.arg].append((module, index, node.name))
                    for sub in ast.walk(node):
                        if isinstance(sub, ast.Return) and sub.value is not None:
                            self.returns[node.name].append(sub.value)
                elif isinstance(node, ast.Call) and _func_name(node.func):
                    self.calls[_func_name(node.func)].append(node)

    # ------------------------------------------------------------------------------------------ resolution
    def gather(self, expr: ast.expr, module: str, namespaces: set[str], seen: set) -> set[str]:
        """Key-like literals ``expr`` can evaluate to (see the module docstring): containers' items, both sides
        of ``x if c else y``, a subscript's container, a comprehension's element, a name's bound values."""
        again = lambda *nodes: set().union(*(self.gather(n, module, namespaces, seen) for n in nodes if n))
        if isinstance(expr, ast.Constant):
            ok = isinstance(expr.value, str) and KEYLIKE.match(expr.value) and expr.value.split(".")[0] in namespaces
            return {expr.value} if ok else set()
        if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
            return again(*expr.elts)
        if isinstance(expr, ast.Dict):
            return again(*expr.keys, *expr.values)
        if isinstance(expr, ast.IfExp):
            return again(expr.body, expr.orelse)
        if isinstance(expr, ast.BoolOp):
            return again(*expr.values)
        if isinstance(expr, ast.Subscript):
            return again(expr.value)
        if isinstance(expr, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            return again(expr.elt)
        if isinstance(expr, ast.Call):
            name = _func_name(expr.func)
            if name in FUNCS:
                return set()  # a text, not a key
            if name in self.returns:  # a function of the code: what it returns
                if name in seen:
                    return set()
                seen.add(name)
                return set().union(*(self.gather(v, self.module_of(v), namespaces, seen) for v in self.returns[name]))
            return again(*expr.args)  # next(...), dict(zip(...)), sorted(...): their arguments
        if isinstance(expr, ast.Name) and (module, expr.id) not in seen:
            seen.add((module, expr.id))
            found = again(*self.bindings.get((module, expr.id), ()))
            for _, index, func in (p for p in self.params.get(expr.id, ()) if p[0] == module):
                for call in self.calls.get(func, ()):
                    passed = [k.value for k in call.keywords if k.arg == expr.id]
                    passed += [call.args[index]] if index < len(call.args) else []
                    for arg in passed:
                        found |= self.gather(arg, self.module_of(call), namespaces, seen)
            return found
        return set()

    def module_of(self, node: ast.AST) -> str:
        return self.owner[id(node)]

    def resolve(self, expr: ast.expr, module: str, namespaces: set[str]) -> tuple[set[str], list[str]]:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}, []
        if isinstance(expr, ast.IfExp):
            (k1, p1), (k2, p2) = (self.resolve(e, module, namespaces) for e in (expr.body, expr.orelse))
            return k1 | k2, p1 + p2
        parts = _concatenation(expr)
        if parts is not None and any(isinstance(p, str) and "." in p for p in parts):
            return set(), ["".join(p if isinstance(p, str) else _fragment(p) for p in parts)]
        return self.gather(expr, module, namespaces, set()), []

    def uses(self, namespaces: set[str]) -> list[Use]:
        found = []
        for module, tree in self.trees.items():
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and _func_name(node.func) in FUNCS and node.args):
                    continue
                if isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) not in ("i18n", "vitviz.text.i18n"):
                    continue  # some other object's .t()
                keys, patterns = self.resolve(node.args[0], module, namespaces)
                names = None if any(k.arg is None for k in node.keywords) else {k.arg for k in node.keywords}
                found.append(Use(f"{module}:{node.lineno}", _func_name(node.func), ast.unparse(node.args[0]),
                                 keys, patterns, names))
        return found


def _concatenation(expr: ast.expr) -> Optional[list]:
    """An f-string or ``a + b + …`` as a list of literal strings (escaped for a regex) and other expressions."""
    if isinstance(expr, ast.JoinedStr):
        return [re.escape(v.value) if isinstance(v, ast.Constant) else v.value for v in expr.values]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = _concatenation(expr.left), _concatenation(expr.right)
        return (left if left is not None else [expr.left]) + (right if right is not None else [expr.right])
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [re.escape(expr.value)]
    return None


def _fragment(expr: ast.expr) -> str:
    """A regex for one non-literal part of a key: the literals of ``x if c else y``, else one word."""
    if isinstance(expr, ast.IfExp) and all(isinstance(e, ast.Constant) for e in (expr.body, expr.orelse)):
        return "(?:" + "|".join(re.escape(str(e.value)) for e in (expr.body, expr.orelse)) + ")"
    return WORD
