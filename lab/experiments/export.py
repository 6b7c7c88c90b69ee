"""An experiment as a plain Python script: its measure and judge functions with what they use.

The script carries the code that runs the experiment (copied from the room's declaration module,
with the module-level helpers, constants and imports those functions need), the conditions and
the size, and prints the rows' summary and the verdict exactly as ``python -m lab.experiments run``
does. It imports the engines and the libraries they use, never the lab's rooms: a student runs it
at home with the lab installed, and reads in it how the experiment is done.
"""
from __future__ import annotations

import ast
import inspect
import sys

from lab.experiments import report
from lab.experiments.spec import Experiment


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _bound_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _trimmed_import(statement, needed: set[str]) -> str:
    """The import statement keeping only the names that are needed."""
    aliases = [a for a in statement.names if (a.asname or a.name).split(".")[0] in needed]
    clone = type(statement)(**{**{f: getattr(statement, f) for f in statement._fields}, "names": aliases})
    return ast.unparse(clone)


def module_code_for(functions: list) -> str:
    """Source of ``functions`` and of the module-level statements they use (transitively)."""
    module = sys.modules[functions[0].__module__]
    tree = ast.parse(inspect.getsource(module))
    statements = [s for s in tree.body if _bound_names(s)]
    wanted = {f.__name__ for f in functions}
    needed, chosen = set(wanted), []
    changed = True
    while changed:  # grow the set until every used module-level name is in it
        changed = False
        for statement in statements:
            if statement in chosen or not (_bound_names(statement) & needed):
                continue
            chosen.append(statement)
            if not isinstance(statement, (ast.Import, ast.ImportFrom)):
                new = _used_names(statement) - needed
                needed |= new
                changed = changed or bool(new)
    parts = []
    for statement in statements:  # in the module's own order
        if statement not in chosen:
            continue
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            if (getattr(statement, "module", "") or "").split(".")[0] == "lab":
                raise ValueError(f"{statement.lineno}: exported code may not import the lab's rooms")
            parts.append(_trimmed_import(statement, needed))
        else:
            parts.append(ast.get_source_segment(inspect.getsource(module), statement))
    return "\n\n\n".join(parts)


MAIN = '''

CONDITIONS = {conditions!r}
SIZE = {size!r}  # the "{size_name}" size; the lab also has {other_sizes}


def main():
    import pandas as pd
    rows = []
    for condition in CONDITIONS:
        for seed in range(SIZE["seeds"]):
            for row in {measure}(dict(condition), seed, dict(SIZE)):
                rows.append({{**condition, "seed": seed, **row}})
    table = pd.DataFrame(rows)
    print(figure_summary(table, {kind!r}, {x!r}, {y!r}, {group!r}))
    print(verdict_line({judge}(table)))


if __name__ == "__main__":
    main()
'''


def script_for(experiment: Experiment, size: str = "quick") -> str:
    """The whole script for ``experiment`` at ``size``."""
    claim, figure = experiment.claim, experiment.figure
    header = (f'"""{experiment.title}: {experiment.question}\n\n'
              f"Claim ({claim.source}): {claim.statement}\n"
              f"Reproduced when: {claim.tolerance}\n\n"
              f"Exported from Neural Lab (python -m lab.experiments export {experiment.id}).\n"
              f"Run it with the lab installed: python {experiment.id}.py\n"
              '"""\n')
    code = module_code_for([experiment.measure, experiment.judge])
    helpers = "\n\n".join(inspect.getsource(f) for f in (report.verdict_word, report.verdict_line,
                                                          report.figure_summary))
    others = ", ".join(name for name in experiment.sizes if name != size)
    main = MAIN.format(conditions=list(experiment.conditions), size=dict(experiment.sizes[size]),
                       size_name=size, other_sizes=others, measure=experiment.measure.__name__,
                       judge=experiment.judge.__name__, kind=figure.kind, x=figure.x, y=figure.y,
                       group=figure.group)
    return header + "\n" + code + "\n\n\n" + helpers + main
