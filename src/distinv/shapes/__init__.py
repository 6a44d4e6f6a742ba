"""A visual world with known factors: rendering, rules, generators and what they are judged by."""

from distinv.shapes.rules import distribution, edit, parse, sample
from distinv.shapes.world import render

__all__ = ["distribution", "edit", "parse", "render", "sample"]
