"""The progress line every room shows for its background task."""
from lab.tasks import BackgroundTask
from views.progress import TaskProgress, progress_text


def test_the_status_line_says_state_steps_and_time_or_leaves_the_steps_to_the_room():
    task = BackgroundTask(name="test-progress")
    assert progress_text(task) == "**idle** · steps 0 · 0.0 s"
    assert progress_text(task, show_steps=False) == "**idle** · 0.0 s"
    assert "steps" not in TaskProgress(task, show_steps=False)._text.object


def test_the_bar_fills_with_the_steps_moves_while_open_ended_and_turns_red_on_failure():
    from views.progress import bar_html
    assert 'value="250"' in bar_html(0.25, True, False)
    assert "value" not in bar_html(None, True, False).replace("max=", "")   # the browser animates it
    assert 'value="0"' in bar_html(None, False, False)
    assert "#c62828" in bar_html(0.5, False, True) and "#2e7d32" in bar_html(0.5, True, False)
    task = BackgroundTask(name="test-bar", total_steps=None)
    view = TaskProgress(task)
    assert view._bar.object == bar_html(None, False, False)
