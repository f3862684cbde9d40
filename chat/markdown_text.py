"""Text from a catalogue or a person made inert inside Markdown that the browser reads as HTML."""

from __future__ import annotations

_MARKS = frozenset("\\`*_{}[]()#+-.!|~<>")


def markdown_text(text: str) -> str:
    """Markup escaped, Markdown's marks backslashed, so the text shows exactly as written.

    Example: "M*A*S*H <3 & [x]" -> "M\\*A\\*S\\*H &lt;3 &amp; \\[x\\]"
    """
    escaped = []
    for character in text:
        if character == "&":
            escaped.append("&amp;")
        elif character in "<>":
            escaped.append("&lt;" if character == "<" else "&gt;")
        elif character in _MARKS:
            escaped.append("\\" + character)
        elif character == "\n":
            escaped.append(" ")
        else:
            escaped.append(character)
    return "".join(escaped)
