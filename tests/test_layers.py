"""README's code layout holds: vitviz/ imports by layer, never in a circle, and nothing imports another module's
private names (imports under ``if TYPE_CHECKING:`` name types for the checker only and are not counted)."""
import ast
from pathlib import Path

from conftest import REPO

#: README's table, top to bottom: a layer may import the layers before it. The shared modules are below everything.
LAYERS = ["text", "loading", "inputs", "analysis", "run", "figures", "talk", "cli"]
SHARED = {"errors", "cache", "export", "model_parts", "__init__"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in (REPO / "vitviz").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``from vitviz… import`` and ``import vitviz…`` outside ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
            and getattr(block.test, "id", None) == "TYPE_CHECKING" for node in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "vitviz":
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "vitviz"]
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in SHARED or parts[1] == "__main__":
        return "shared"
    return parts[1]


def _edges() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, names in _imports(path):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules] or [module]
            edges[name] |= {t for t in targets if t in modules and t != name}
    return edges


def test_each_layer_imports_only_the_layers_above_it():
    wrong = []
    for source, targets in _edges().items():
        if source.endswith("__main__"):
            continue  # python -m vitviz: the entry point calls the CLI
        here = _layer(source)
        for target in targets:
            there = _layer(target)
            if there == "shared" or there == here:
                continue
            if here == "shared" or there == "text":
                if here == "shared":
                    wrong.append(f"{source} -> {target}")
                continue
            if LAYERS.index(there) > LAYERS.index(here):
                wrong.append(f"{source} -> {target}")
    assert not wrong, wrong


def test_no_module_imports_in_a_circle():
    edges, state, circles = _edges(), {}, []

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert not circles, circles


def test_no_private_name_is_imported_from_another_module():
    private = [(str(path.relative_to(REPO)), module, name) for path in [*(REPO / "vitviz").rglob("*.py"),
                                                                        *(REPO / "app").rglob("*.py")]
               for module, names in _imports(path) for name in names
               if name.startswith("_") and not name.startswith("__")]
    assert not private, private


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(REPO)): n for p in [*(REPO / "vitviz").rglob("*.py"), *(REPO / "app").rglob("*.py")]
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long, long


def test_pages_run_models_only_through_the_service_layer():
    """A page (app/views) wires widgets to compute, which runs and caches the models; it imports no code that loads
    or runs a model itself (vitviz.run, vitviz.loading.models/download), only pure analyses, figures and text."""
    running = ("vitviz.run", "vitviz.loading.models", "vitviz.loading.download")
    found = [(path.name, module) for path in (REPO / "app" / "views").glob("*.py")
             for module, _ in _imports(path) if module.startswith(running)]
    assert not found, found
