"""A sphinx-gallery image scraper for the matplotlib ``Figure`` objects fersk's plots return.

fersk's plotting functions build figures without pyplot (no global state), so the
standard matplotlib scraper, which asks pyplot for its open figures, does not see them.
This one finds them among the example's variables.
"""

from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst


def fersk_figures(block, block_vars, gallery_conf):
    seen = block_vars.setdefault("fersk_figures_seen", set())
    paths = []
    for value in list(block_vars["example_globals"].values()):
        if isinstance(value, Figure) and id(value) not in seen and value.canvas.manager is None:
            seen.add(id(value))
            path = next(block_vars["image_path_iterator"])
            value.savefig(path, dpi=80, bbox_inches="tight")
            paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    """How sphinx-gallery finds the scraper named by this module's name in the configuration."""
    return fersk_figures
