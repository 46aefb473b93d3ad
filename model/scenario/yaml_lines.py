"""Where a key path sits in a YAML file, so an error can name its line."""

from __future__ import annotations

import yaml


def line_of(tree: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the deepest YAML node on the key path (None without a tree)."""
    if tree is None:
        return None
    node, line = tree, tree.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
