"""Each field family is declared once, and every reader takes its settings from that declaration."""
import dataclasses

import pytest

from engines.errors import InvalidInputError
from engines.fields import ImageTarget, registry
from engines.fields.family import KNOBS, TASKS, Recipe
from engines.fields.registry import FAMILIES, FIELD_NAMES, RBF_FIELDS, build_field, knob_table
from engines.fields.trainer import Trainer


@pytest.mark.parametrize("name", FIELD_NAMES)
def test_declarations_are_complete_and_within_their_bounds(name):
    family = FAMILIES[name]
    for task in TASKS:
        values = registry.defaults(name, task)
        assert family.size in values and not KNOBS[family.size].live
        assert {"learning_rate", "batch_size"} <= set(values)
        for knob, value in values.items():
            assert KNOBS[knob].check(value) == value
        assert isinstance(family.recipe(task), Recipe)


@pytest.mark.parametrize("name", FIELD_NAMES)
@pytest.mark.parametrize("in_dim, out_dim, budget", [(2, 3, 50_000), (2, 1, 200_000), (3, 1, 200_000),
                                                     (2, 3, 23_456)])
def test_no_field_exceeds_its_budget(name, in_dim, out_dim, budget):
    field = build_field(name, in_dim, out_dim, param_budget=budget)
    assert field.param_count <= budget
    assert build_field(name, in_dim, out_dim, knob=field.knob + 1).param_count > budget  # the largest that fits
    assert field.size_knob == FAMILIES[name].size


def test_knob_table_says_who_takes_what_and_what_applies_live():
    table = {use.knob.name: use for use in knob_table()}
    assert table["adaptive"].families == ("neurbf",) and table["adaptive"].knob.live
    assert table["top_k"].families == ("neurbf",) and not table["top_k"].knob.live
    assert set(table["learning_rate"].families) == set(FIELD_NAMES) and table["learning_rate"].knob.log
    assert table["width"].families == ("siren", "fourier_mlp", "nerf_mlp", "mlp")
    assert table["top_k"].default("neurbf", "image") == 4 and table["top_k"].default("neurbf", "shape") == 8
    assert table["learning_rate"].default("siren", "image") == FAMILIES["siren"].recipe("image").lr
    assert set(RBF_FIELDS) == {"gnf", "neurbf"} and FIELD_NAMES[:2] == ("gnf", "neurbf")


def test_knob_values_are_checked():
    with pytest.raises(InvalidInputError, match="Kernels per point"):
        build_field("neurbf", 2, 3, top_k=100)
    with pytest.raises(InvalidInputError, match="Kernel must be one of"):
        build_field("neurbf", 2, 3, kernel="cubic")
    with pytest.raises(InvalidInputError, match="unknown field"):
        registry.recipe("mlp9000", "image")


@pytest.fixture
def tuned_siren(monkeypatch):
    """SIREN's declaration with a distinctive tuned recipe, as a new sweep would leave it."""
    family = FAMILIES["siren"]
    recipes = {**family.recipes, "image": Recipe(lr=3.21e-4, batch_size=1234, final_lr_ratio=0.05)}
    monkeypatch.setitem(FAMILIES, "siren", dataclasses.replace(family, recipes=recipes))
    return recipes["image"]


def test_the_trainer_reads_the_tuned_recipe(tuned_siren):
    target = ImageTarget("astronaut", size=48)
    trainer = Trainer(build_field("siren", 2, 3, param_budget=5_000), target)
    assert trainer.base_lr == tuned_siren.lr and trainer.batch_size == 1234
    assert trainer.lr_at(trainer.total_steps) == pytest.approx(tuned_siren.lr * 0.05)
    assert Trainer(build_field("siren", 2, 3, param_budget=5_000), target, lr=1e-3).base_lr == 1e-3


def test_the_room_runs_read_the_tuned_recipe(tuned_siren):
    from lab.fields.run import FieldConfig, FieldRun
    run = FieldRun(ImageTarget("astronaut", size=48), FieldConfig("siren", width=16))
    assert run.trainer.base_lr == tuned_siren.lr and run.batch_size == 1234
    assert registry.defaults("siren", "image")["learning_rate"] == tuned_siren.lr  # what a room shows


def test_the_benchmark_reads_the_tuned_recipe(tuned_siren):
    from benchmarks.fields import make_trainer
    trainer = make_trainer("siren", ImageTarget("astronaut", size=48), budget=5_000, steps=100)
    assert trainer.base_lr == tuned_siren.lr and trainer.batch_size == 1234
    assert trainer.field.param_count <= 5_000


def test_declarations_hold_what_the_tuning_record_chose():
    """The sweep's winners (benchmarks/fields_tuning.json) are what the families declare."""
    import json
    import pathlib
    record = json.loads((pathlib.Path(__file__).parents[3] / "benchmarks" / "fields_tuning.json").read_text())
    assert set(record["recipes"]) == set(FIELD_NAMES)
    for name, tasks in record["recipes"].items():
        assert set(tasks) == set(TASKS)
        for task, chosen in tasks.items():
            declared = FAMILIES[name].recipe(task)
            assert (declared.lr, declared.batch_size, declared.schedule, declared.final_lr_ratio) == \
                (chosen["lr"], chosen["batch_size"], chosen["schedule"], chosen["final_lr_ratio"]), (name, task)
