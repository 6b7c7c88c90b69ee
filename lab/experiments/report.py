"""How a run is printed; plain functions (pandas only), so that exported scripts carry them as they are."""


def verdict_word(result):
    """'reproduced', 'not reproduced', or 'partly tested': what the data could test held, and the
    judge names (in ``untested``) the part of the claim they could not test."""
    if result["reproduced"]:
        return "reproduced"
    return "partly tested" if result.get("untested") else "not reproduced"


def verdict_line(result):
    """'verdict: reproduced - <summary>' from a judge's dict (or a Verdict's fields)."""
    return f"verdict: {verdict_word(result)} - {result['summary']}"


def figure_summary(table, kind, x, y, group=None):
    """The figure's numbers as text: for lines, mean and std over seeds per (group, x); for anatomy,
    each neuron's mean and position. Only rows with both x and y count."""
    if table.empty or x not in table or y not in table:
        return "(no rows)"
    table = table.dropna(subset=[x, y])   # the rows this figure draws (a run may yield several shapes)
    if kind == "anatomy":   # per neuron (x): the mean of y and its atlas position, highest first
        per = table.groupby(x).agg({y: "mean", **{c: "first" for c in ("x", "y", "z")}})
        return per.sort_values(y, ascending=False).to_string(float_format=lambda v: f"{v:.3g}", max_rows=40)
    if kind != "line":
        columns = [c for c in (group, x, y) if c]
        return table[columns].to_string(index=False, max_rows=40)
    keys = [k for k in (group, x) if k]
    summary = table.groupby(keys)[y].agg(["mean", "std", "count"]).reset_index()
    return summary.to_string(index=False, float_format=lambda v: f"{v:.4g}")
