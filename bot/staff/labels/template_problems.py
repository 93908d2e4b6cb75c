"""A template's problems in the reader's language (the checker, bot/rendering/template_rules.py,
words them in English): Jinja's common syntax errors explained, with the line they are on, and
the checker's own problems (identification, opt-out, length, hostile words, Content SID …).

A message this module does not recognise is shown with a translated heading and the raw words,
never hidden."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.rendering.template_rules import TemplateProblem
from bot.staff.i18n_markers import N_

Gettext = Callable[[str], str]

# Jinja's TemplateSyntaxError messages (jinja2/parser.py, lexer.py): pattern -> explanation.
SYNTAX: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), text) for pattern, text in (
    (r"^unexpected end of template, expected 'end of print statement'",
     N_("the template ends before the expression is closed: add “}}”")),
    (r"^Unexpected end of template\. Jinja was looking for the following tags: .*"
     r"The innermost block that needs to be closed is '(?P<tag>\w+)'",
     N_("the template ends with the block “{%% %(tag)s %%}” still open: close it with “{%% end%(tag)s %%}”")),
    (r"^unexpected end of template", N_("the template ends in the middle of a command or expression")),
    (r"^expected token 'end of print statement', got '(?P<got>.*)'",
     N_("expected the end of an expression “{{ … }}”, found “%(got)s”")),
    (r"^expected token 'end of statement block', got '(?P<got>.*)'",
     N_("expected the end of a command “{%% … %%}”, found “%(got)s”")),
    (r"^expected token '(?P<want>.*)', got '(?P<got>.*)'", N_("expected “%(want)s”, found “%(got)s”")),
    (r"^Encountered unknown tag '(?P<tag>\w+)'\. Jinja was looking for the following tags: .*"
     r"The innermost block that needs to be closed is '(?P<open>\w+)'",
     N_("“{%% %(tag)s %%}” does not fit here: the block “{%% %(open)s %%}” must be closed first "
        "with “{%% end%(open)s %%}”")),
    (r"^Encountered unknown tag '(?P<tag>\w+)'", N_("unknown command “{%% %(tag)s %%}”")),
    (r"^Expected an expression, got 'end of print statement'", N_("an empty expression “{{ }}”")),
    (r"^Expected an expression, got '(?P<got>.*)'", N_("an expression is missing before “%(got)s”")),
    (r"^tag name expected", N_("a command name is missing after “{%%”")),
    (r"^Missing end of comment tag", N_("a comment “{#” is not closed with “#}”")),
    (r"^unexpected '(?P<got>.)', expected '(?P<want>.)'",
     N_("found “%(got)s” where “%(want)s” was expected")),
    (r"^unexpected '(?P<got>.)'", N_("unexpected “%(got)s”")),
    (r"^unexpected char '(?P<got>.)'", N_("unexpected character “%(got)s” (an unclosed quote?)")),
    (r"^expected name or number", N_("a name or a number is missing after “.”")),
    (r"^No filter named '(?P<name>\w+)'", N_("unknown filter “%(name)s”")),
))
# The checker's own problems: code -> (pattern of its message, translation), else a heading.
CHECKER: dict[str, tuple[str, str]] = {
    "identification": (r"^must name the creditor", N_("must name the creditor ({{ creditor_name }})")),
    "opt_out": (r"\(e\.g\. '(?P<example>.*)'\)$",
                N_("needs an opt-out line (e.g. “%(example)s”)")),
    "length": (r"^(?P<count>\d+) characters with sample data; (?P<channel>\w+) allows (?P<limit>\d+)",
               N_("%(count)s characters with the sample data; %(channel)s allows %(limit)s")),
    "hostile": (r"^hostile or threatening wording \(CDC art\. 42\): (?P<terms>.*)$",
                N_("hostile or threatening wording (CDC art. 42): %(terms)s")),
    "content_sid": (r"^a Twilio Content SID looks like",
                    N_("a Twilio Content SID looks like HX followed by 32 hex digits")),
    "unsafe": (r"^not allowed in a message template: (?P<what>.*)$",
               N_("not allowed in a message template: %(what)s")),
    "unknown_variable": (r"^undocumented variable\(s\) (?P<names>.*); '\w+' may use: (?P<allowed>.*)$",
                         N_("unknown variable(s) %(names)s; this template may use: %(allowed)s")),
    "too_long": (r"^the source has (?P<count>\d+) characters; at most (?P<limit>\d+)",
                 N_("the text has %(count)s characters; at most %(limit)s")),
    # Warnings (the text is saved, but reads badly): bot/rendering/text_quality.py, the admin.
    "no_space_after_punctuation": (
        r"^a space or a line break is missing after punctuation: (?P<where>.*)$",
        N_("a space or a line break is missing after punctuation: %(where)s")),
    "double_space": (r"^two spaces in a row: (?P<where>.*)$", N_("two spaces in a row: %(where)s")),
    "list_item_inline": (r"^a list item does not start its own line: (?P<where>.*)$",
                         N_("a list item does not start its own line: %(where)s")),
    "sms_segments": (r"^(?P<count>\d+) SMS segments \((?P<encoding>[^)]+)\) with sample data; "
                     r"SMS sends (?P<most>\d+) and cuts the rest",
                     N_("%(count)s SMS segments (%(encoding)s) with the sample data; SMS sends "
                        "%(most)s and cuts the rest")),
}
CONTENT_SID_NEEDED = (r"^a WhatsApp template the bot sends first",
                      N_("a WhatsApp template the bot sends first needs the Content SID of its "
                         "approved WhatsApp template"))
PROBLEM = N_("Problem")  # the heading of a problem without one of its own
HEADINGS = {
    "syntax": N_("The template does not compile"), "too_deep": N_("Nested too deep"),
    "too_large": N_("The text would be too long"), "render": N_("Fails with the sample data"),
    "sms_segments": N_("Too many SMS segments"),
}


@dataclass(frozen=True)
class ShownProblem:
    code: str
    text: str  # in the reader's language
    line: int | None = None
    line_text: str = ""


def _match(patterns: tuple[tuple[re.Pattern[str], str], ...] | list[tuple[str, str]], raw: str,
           gettext: Gettext) -> str | None:
    for pattern, text in patterns:
        found = re.search(pattern, raw)
        if found:
            values = found.groupdict()
            return gettext(text) % values if values else gettext(text).replace("%%", "%")
    return None


def explain(problem: TemplateProblem, gettext: Gettext) -> str:
    """``problem`` in the reader's words; the raw message after a translated heading if unknown."""
    if problem.code == "syntax" and problem.detail:
        text = _match(SYNTAX, problem.detail, gettext)
        return text or gettext("does not compile: %(raw)s") % {"raw": problem.detail}
    patterns = [CHECKER[problem.code]] if problem.code in CHECKER else []
    if problem.code == "content_sid":
        patterns.append(CONTENT_SID_NEEDED)
    text = _match(patterns, problem.message, gettext)
    if text:
        return text
    heading = gettext(HEADINGS.get(problem.code, PROBLEM))
    return f"{heading}: {problem.message.removeprefix('fails with sample data: ')}"


def shown(problem: TemplateProblem, source: str, gettext: Gettext) -> ShownProblem:
    """The problem explained, with its line's number and text when it has one."""
    lines = source.splitlines()
    line_text = lines[problem.line - 1] if problem.line and 0 < problem.line <= len(lines) else ""
    return ShownProblem(problem.code, explain(problem, gettext), problem.line, line_text)
