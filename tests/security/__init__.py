"""Security tests (issue 6, OWASP ASVS 5.0): shared helpers.

Every test here goes through real endpoints with the Django test client.
"""

from __future__ import annotations

from html.parser import HTMLParser

PAYLOAD = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def csp_directives(header: str) -> dict[str, list[str]]:
    """Return a Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


class InlineCode(HTMLParser):
    """Collect what a strict Content-Security-Policy would block in a page: inline scripts,
    event-handler attributes, `javascript:` URLs, `<style>` elements and `style` attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        line = self.getpos()[0]
        if tag == "script" and "src" not in attributes:
            kind = (attributes.get("type") or "text/javascript").lower()
            # Data blocks (JSON) are not executed, so CSP does not apply to them.
            if "json" not in kind:
                self.found.append(f"line {line}: inline <script>")
        if tag == "style":
            self.found.append(f"line {line}: <style> element")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"line {line}: style= on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"line {line}: {name}= on <{tag}>")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"line {line}: javascript: URL on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found
