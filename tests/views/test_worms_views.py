"""The worm room's side panel, driven as the browser drives it (widget events, no browser)."""
import pytest

from lab.worms import WormRoom
from views.worms.controls import neuron_controls


@pytest.fixture(scope="module")
def room():
    room = WormRoom(sim_worms=1, sim_duration_s=60.0, sim_dt=0.6, sim_seed=3)
    room.start()
    assert room.wait_for_simulation(180)
    return room


def test_matches_show_while_the_user_types(room):
    controls = neuron_controls(room)
    search, matches = controls[0], controls[2]
    search.value_input = "av"          # a keystroke, before Enter or a blur commits the value
    names = sorted(room.recording.labelled_columns())
    expected = [name for name in names if name.startswith("AV")]
    assert expected and set(expected) <= set(room.matches)
    assert matches.object.startswith("matches: ") and expected[0] in matches.object
    search.value_input = "xyz1"
    assert matches.object == "no identified neuron matches"
    search.value_input = ""
    assert matches.object == "" and room.matches == []
