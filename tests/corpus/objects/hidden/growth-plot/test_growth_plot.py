from submission import plot_growth


def test_returns_one_figure():
    """plot_growth returns a matplotlib Figure with one set of axes."""
    fig = plot_growth([2000, 2001, 2002], [1, 2, 4])
    assert type(fig).__name__ == "Figure"
    assert len(fig.axes) == 1


def test_title_and_labels():
    """The title is "Growth", the axes are labelled "year" and "value"."""
    ax = plot_growth([2000, 2001], [1, 3]).axes[0]
    assert ax.get_title() == "Growth"
    assert ax.get_xlabel() == "year"
    assert ax.get_ylabel() == "value"


def test_line_data():
    """One line, through the given points."""
    ax = plot_growth([2000, 2001, 2002], [5, 6, 8]).axes[0]
    assert len(ax.lines) == 1
    assert list(ax.lines[0].get_xdata()) == [2000, 2001, 2002]
    assert list(ax.lines[0].get_ydata()) == [5, 6, 8]
