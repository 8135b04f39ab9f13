"""A validator for Telegram's HTML parse mode.

Telegram parses ``parse_mode=HTML`` text with its own small parser (in TDLib), not with a
browser's. This module follows that parser closely enough to refuse what Telegram refuses, with
the same wording (``Unsupported start tag "div" at byte offset 12``), and to compute the text the
user sees after the markup is removed. It is used by the fake Bot API server of the test suite and
by ``integridad-bot content check``.

It is deliberately a little stricter than Telegram in one respect, following Telegram's own
documentation ("all ``<``, ``>`` and ``&`` symbols that are not a part of a tag or an HTML entity
must be replaced with the corresponding HTML entities"): a bare ``>`` or a ``&`` that does not
start one of ``&lt; &gt; &amp; &quot;`` or a numeric reference (``&#38;``, ``&#x26;``) is an error
in text. Inside quoted attribute values (typically URLs) a bare ``&`` is kept, as Telegram does.

Offsets in error messages are UTF-8 byte offsets into the source, as Telegram reports them;
offsets and lengths of the returned entities are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Tags Telegram accepts in HTML parse mode, mapped to the Bot API entity type they produce.
ALLOWED_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "tg-emoji": "custom_emoji",
}

#: Maximum length of a message text after entity parsing, in UTF-16 code units.
MAX_MESSAGE_LENGTH = 4096
#: Maximum length of a media caption after entity parsing, in UTF-16 code units.
MAX_CAPTION_LENGTH = 1024

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\f\v"
_NAME_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")


@dataclass(frozen=True, slots=True)
class ParsedHtml:
    """The result of parsing a text in Telegram's HTML parse mode.

    ``plain_text`` is the text after entity parsing (tags removed, ``&lt;`` and friends decoded);
    it is only meaningful when ``error`` is ``None``. ``error`` is the description Telegram would
    answer with (``Bad Request: can't parse entities: ...``), or ``None`` when the text is valid.
    ``entities`` are the formatting entities as Bot API ``MessageEntity`` dictionaries, sorted by
    offset (empty entities are dropped, as Telegram drops them).
    """

    plain_text: str
    error: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the text is valid Telegram HTML."""
        return self.error is None


def utf16_length(s: str) -> int:
    """Return the length of ``s`` in UTF-16 code units, the unit of Telegram's length limits."""
    return len(s.encode("utf-16-le")) // 2


@dataclass(slots=True)
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    argument: str
    utf16_offset: int


class _ParseError(Exception):
    """Raised inside the parser with the part of the description after ``can't parse entities:``."""


class _Parser:
    """One pass over the source, in the manner of TDLib's ``parse_html``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out: list[str] = []
        self.utf16_offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    # -- helpers ---------------------------------------------------------------------------

    def byte_offset(self, index: int) -> int:
        """The UTF-8 byte offset of the character at ``index`` of the source."""
        return len(self.text[:index].encode("utf-8"))

    def peek(self, index: int | None = None) -> str:
        """The character at ``index`` (default: the current position), or ``""`` past the end."""
        i = self.pos if index is None else index
        return self.text[i] if i < len(self.text) else ""

    def emit(self, chunk: str) -> None:
        """Append visible text."""
        self.out.append(chunk)
        self.utf16_offset += utf16_length(chunk)

    def skip_spaces(self) -> None:
        """Advance over whitespace."""
        while self.peek() and self.peek() in _SPACES:
            self.pos += 1

    def decode_entity(self, index: int) -> tuple[str, int] | None:
        """Decode a character reference starting with ``&`` at ``index``.

        Returns the decoded character and the index after the reference, or ``None`` when
        ``&`` does not start one of the references Telegram understands (terminated by ``;``).
        """
        text = self.text
        end = text.find(";", index + 1)
        if end == -1 or end - index > 12:
            return None
        body = text[index + 1 : end]
        if body in _NAMED_ENTITIES:
            return _NAMED_ENTITIES[body], end + 1
        if body.startswith("#"):
            digits = body[1:]
            try:
                if digits[:1] in ("x", "X"):
                    if not digits[1:] or not all(c in "0123456789abcdefABCDEF" for c in digits[1:]):
                        return None
                    code = int(digits[1:], 16)
                else:
                    if not digits.isascii() or not digits.isdigit():
                        return None
                    code = int(digits)
            except ValueError:
                return None
            if code == 0 or code >= 0x110000 or 0xD800 <= code <= 0xDFFF:
                return None
            return chr(code), end + 1
        return None

    # -- the parser ------------------------------------------------------------------------

    def run(self) -> None:
        """Parse the whole source, raising :class:`_ParseError` on the first problem."""
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c == "&":
                decoded = self.decode_entity(self.pos)
                if decoded is None:
                    raise _ParseError(
                        f'Unescaped "&" at byte offset {self.byte_offset(self.pos)}; '
                        'write it as "&amp;"'
                    )
                char, self.pos = decoded
                self.emit(char)
            elif c == ">":
                raise _ParseError(
                    f'Unescaped ">" at byte offset {self.byte_offset(self.pos)}; write it as "&gt;"'
                )
            elif c == "<":
                if self.peek(self.pos + 1) == "/":
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                start = self.pos
                while self.pos < len(text) and text[self.pos] not in "&<>":
                    self.pos += 1
                self.emit(text[start : self.pos])
        if self.stack:
            raise _ParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )

    def start_tag(self) -> None:
        """Parse ``<name attr="value" ...>`` at the current position."""
        begin = self.pos
        self.pos += 1
        while self.peek() and self.peek() not in _SPACES and self.peek() != ">":
            self.pos += 1
        if not self.peek():
            raise _ParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = self.text[begin + 1 : self.pos].lower()
        if name not in ALLOWED_TAGS:
            raise _ParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )

        attributes: dict[str, str] = {}
        while True:
            self.skip_spaces()
            if not self.peek():
                raise _ParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if self.peek() == ">":
                self.pos += 1
                break
            attr_begin = self.pos
            while self.peek() and self.peek() not in _SPACES and self.peek() not in "=>":
                self.pos += 1
            attr_name = self.text[attr_begin : self.pos].lower()
            self.skip_spaces()
            if self.peek() != "=":
                if name == "blockquote" and attr_name == "expandable":
                    attributes[attr_name] = ""
                    continue
                raise _ParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {self.byte_offset(begin)}'
                )
            self.pos += 1
            self.skip_spaces()
            if not self.peek():
                raise _ParseError(
                    f'Unclosed start tag "{name}" at byte offset {self.byte_offset(begin)}'
                )
            attributes[attr_name] = self.attribute_value(begin)

        self.stack.append(
            _OpenTag(name, self.tag_argument(name, attributes, begin), self.utf16_offset)
        )

    def attribute_value(self, tag_begin: int) -> str:
        """Parse a quoted string or a bare name token as an attribute value."""
        quote = self.peek()
        if quote not in ("'", '"'):
            token_begin = self.pos
            while self.peek() and self.peek() in _NAME_TOKEN_CHARS:
                self.pos += 1
            if self.peek() and self.peek() not in _SPACES and self.peek() != ">":
                raise _ParseError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}"
                )
            return self.text[token_begin : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.peek() and self.peek() != quote:
            if self.peek() == "&":
                decoded = self.decode_entity(self.pos)
                if decoded is not None:
                    value.append(decoded[0])
                    self.pos = decoded[1]
                    continue
            value.append(self.peek())
            self.pos += 1
        if not self.peek():
            raise _ParseError(f"Unclosed start tag at byte offset {self.byte_offset(tag_begin)}")
        self.pos += 1
        return "".join(value)

    def tag_argument(self, name: str, attributes: dict[str, str], begin: int) -> str:
        """Check the attributes a tag requires and return the tag's argument (URL, language...)."""
        where = f"at byte offset {self.byte_offset(begin)}"
        if name == "a":
            if not attributes.get("href"):
                raise _ParseError(f'Tag "a" must have attribute "href" {where}')
            return attributes["href"]
        if name == "span":
            if attributes.get("class") != "tg-spoiler":
                raise _ParseError(f'Tag "span" must have class "tg-spoiler" {where}')
            return ""
        if name == "tg-emoji":
            emoji_id = attributes.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise _ParseError(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
            return emoji_id
        if name == "code":
            css_class = attributes.get("class", "")
            return css_class[len("language-") :] if css_class.startswith("language-") else ""
        if name == "blockquote":
            return "expandable" if "expandable" in attributes else ""
        return ""

    def end_tag(self) -> None:
        """Parse ``</name>`` (or ``</>``) at the current position and close the open tag."""
        begin = self.pos
        if not self.stack:
            raise _ParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 2
        while self.peek() and self.peek() not in _SPACES and self.peek() != ">":
            self.pos += 1
        end_name = self.text[begin + 2 : self.pos].lower()
        self.skip_spaces()
        if self.peek() != ">":
            raise _ParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        open_tag = self.stack.pop()
        if end_name and end_name != open_tag.name:
            raise _ParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        self.add_entity(open_tag)

    def add_entity(self, tag: _OpenTag) -> None:
        """Record the entity a closed tag produced (nothing when it encloses no text)."""
        length = self.utf16_offset - tag.utf16_offset
        if length <= 0:
            return
        entity: dict[str, Any] = {
            "type": ALLOWED_TAGS[tag.name],
            "offset": tag.utf16_offset,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.argument
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.argument
        elif tag.name == "blockquote" and tag.argument:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "code" and tag.argument:
            # <pre><code class="language-x">...</code></pre> is one pre entity with a language.
            outer = self.stack[-1] if self.stack else None
            if outer is not None and outer.name == "pre" and outer.utf16_offset == tag.utf16_offset:
                outer.argument = tag.argument
                return
        elif tag.name == "pre" and tag.argument:
            entity["language"] = tag.argument
        self.entities.append(entity)


def parse_telegram_html(text: str) -> ParsedHtml:
    """Parse ``text`` as Telegram's HTML parse mode would.

    Returns a :class:`ParsedHtml` whose ``error`` is ``None`` when Telegram would accept the
    text, or Telegram's description of the first problem otherwise, e.g.
    ``Bad Request: can't parse entities: Unsupported start tag "div" at byte offset 12``.
    The text is not trimmed; Telegram trims leading and trailing whitespace of a message after
    parsing, and checks emptiness and length limits on the result (see :func:`utf16_length`).
    """
    parser = _Parser(text)
    try:
        parser.run()
    except _ParseError as exc:
        return ParsedHtml(
            plain_text="".join(parser.out),
            error=f"Bad Request: can't parse entities: {exc}",
        )
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return ParsedHtml(plain_text="".join(parser.out), error=None, entities=entities)
