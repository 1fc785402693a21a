"""LaTeX an instructor can put in front of a class: fragments, articles, Beamer slides."""
