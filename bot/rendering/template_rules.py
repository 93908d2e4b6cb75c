"""What a message template may contain: the checks the template admin runs before saving.

Pure (no I/O): the admin service passes the source, where it would be used and the
policies' :class:`~bot.policies.models.TemplateRules`; this module answers with the
problems found and a preview rendered from sample debtor data.

Checks, in order (see docs/template-admin.md):

1. size and nesting (a source over ``MAX_SOURCE_CHARS`` or nested deeper than
   ``MAX_NESTING`` is refused before Jinja parses it);
2. it compiles in the sandbox (``ImmutableSandboxedEnvironment``);
3. no template-injection constructs: ``include``/``import``/``extends``/``macro``/``call``/
   ``set`` blocks, Jinja's internals by name (``self``, ``namespace``, ``cycler``,
   ``joiner``, ``range``, ``lipsum``, ``dict``, ``loop`` other than its counters, any name
   starting with ``_``), attributes or keys starting with ``_``, function calls other than
   ``dict.get``, ``**``, ``*`` and ``%``, filters outside ``ALLOWED_FILTERS`` (``attr``
   among the refused);
4. only the documented variables of the template (``documented_variables``);
5. it renders with sample data under ``StrictUndefined``, and the result stays within
   ``MAX_OUTPUT_CHARS`` (``replace`` that would grow a text past it is stopped before it
   runs, and the render is read piece by piece and stopped at the cap);
6. SMS / WhatsApp length of the preview, for templates of those channels;
7. creditor identification and an opt-out line, where the policy requires them;
8. none of the policy's hostile/threatening words (accents and case ignored), nor any
   pattern of the reviewed list ``hostile_terms.yaml`` (threats, insults, shaming,
   ultimatums in pt-BR and en), in the source or in the preview.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jinja2 import Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.policies.models import CHANNEL_NAMES, TemplateRules
from bot.rendering.hostile_terms import hostile_terms_in
from bot.rendering.renderer import _render_locale, build_environment, closest_locale
from bot.rendering.text_folding import fold
from bot.rendering.text_quality import punctuation_warnings

MAX_SOURCE_CHARS = 5000
MAX_NESTING = 12
MAX_AST_DEPTH = 40
MAX_LOOP_DEPTH = 2  # {% for %} inside {% for %}: no deeper (iterations multiply)
MAX_OUTPUT_CHARS = 5000  # a rendered preview longer than this is refused (no channel takes more)

COMMON = frozenset({"creditor_name", "debtor_name", "contact_name"})
# Variables the service layer passes to each template (bot/services/negotiation/ and
# bot/services/agent_desk/). A template not listed gets DEFAULT_VARIABLES.
CATALOG: dict[str, frozenset[str]] = {
    **{name: COMMON for name in (
        "goodbye", "nothing_to_accept", "complaint_acknowledged", "dispute_recorded",
        "opt_out_confirmed", "no_open_debt", "proposal_not_understood",
        "promise_needs_date", "out_of_scope", "clarify", "confirm_opt_out")},
    **{name: frozenset() for name in (
        "wrong_person", "wrong_person_closed", "unknown_sender", "empty_message",
        "dialogue_unavailable", "button_accept", "button_refuse", "button_debt_details",
        "button_pay_in_full", "button_installments", "button_stop_messages")},
    "greet": COMMON | {"has_debt"},
    "debt_details": COMMON | {"debts", "total", "today"},
    "offer_full_payment": COMMON | {"offer", "reason"},
    "offer_installments": COMMON | {"offer", "reason"},
    "counter_offer": COMMON | {"offer", "reasons", "limits"},
    "agreement_created": COMMON | {"offer", "pix_key"},
    "already_agreed": COMMON | {"offer", "pix_key"},
    "handoff": COMMON | {"reason", "hours"},
    "acknowledge": COMMON | {"intent"},
    "promise_date_past": COMMON | {"date"},
    "promise_recorded": COMMON | {"date", "balance", "pix_key"},
    "payment_method": COMMON | {"pix_key", "agreed", "offer"},
    "callback_later": COMMON | {"date"},
    "identity": COMMON | {"creditor_tax_id"},
    "offer_reminder": COMMON | {"offer"},
    "confirm_accept": COMMON | {"offer"},
    "offer_replaced": COMMON | {"offer"},
    "promise_date_too_far": COMMON | {"date", "latest"},
    "raw_text": frozenset({"text"}),
    "hardship_acknowledged": COMMON | {"category"},
    "installment_not_found": COMMON | {"number", "count"},
    "installment_already_paid": COMMON | {"number", "count"},
    "handback": COMMON | {"agreed", "offer_pending"},
    "conversation_closed": COMMON,
    "payment_claim_received": COMMON | {"claim", "asks_details"},
    "payment_claim_details_recorded": COMMON | {"claim", "asks_details"},
    "payment_claim_status": COMMON | {"claim"},
    "payment_claim_confirmed": COMMON | {"claim", "amount", "balance"},
    "payment_claim_rejected": COMMON | {"claim", "reason"},
    "agreement_status": COMMON | {"agreement"},
    # Asked for in the chat ("me manda o link"): bot/services/conversation.py.
    "portal_link_sent": frozenset({"contact_name", "portal_link"}),
    "portal_link_unavailable": frozenset({"contact_name"}),
}
# portal_link: a new link to the debtor's portal page in régua reminders ("" without
# ACORDO_LINK_SECRET, and always "" by SMS); a template shows it under {% if portal_link %}.
DEFAULT_VARIABLES = COMMON | {"balance", "total", "debts", "today", "pix_key", "creditor_tax_id",
                              "portal_link"}
# A portal link as issued (about 210 characters), for previews and length checks.
SAMPLE_PORTAL_LINK = (
    "https://cobranca.example/p/v1.eyJjIjoiZGVtbyIsImQiOiJwYWRhcmlhLXNvbCIsImEiOiJmaW5hbmNlaXJv"
    "QHBhZGFyaWFzb2wuY29tLmJyIiwiZSI6MTc5NzIwNjQwMCwibiI6Im01ejFmWGhtdy02aTM5UzgifQ"
    ".xgnwkAHoNS8-Rb4RuJcB5qDN9DnHQSarD7WZmt6LpKs")

ALLOWED_FILTERS = frozenset({
    "money", "date", "percent", "weekday", "upper", "lower", "title", "capitalize", "trim",
    "join", "length", "count", "first", "last", "round", "int", "replace", "truncate",
    "abs", "default", "d", "string", "list", "sort", "min", "max", "sum", "wordcount",
})
ALLOWED_METHODS = frozenset({"get"})
REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Include: "{% include %}", nodes.Import: "{% import %}", nodes.FromImport: "{% from %}",
    nodes.Extends: "{% extends %}", nodes.Macro: "{% macro %}", nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %}", nodes.Block: "{% block %}", nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}", nodes.With: "{% with %}",
}
CHANNELS = CHANNEL_NAMES
# Parts of an e-mail (its subject, its footer): they are never sent on another channel.
EMAIL_ONLY = frozenset({"email_subject", "email_footer"})


def channels_of(name: str) -> tuple[str, ...]:
    """The channels template ``name`` can be sent on."""
    return ("email",) if name in EMAIL_ONLY else CHANNELS
# Names a template may not use: Jinja's own objects and globals (reaching the template
# object, building state across loops, ranges that run for ever).
REFUSED_NAMES = frozenset({
    "self", "namespace", "cycler", "joiner", "range", "lipsum", "dict", "loop", "caller",
    "varargs", "kwargs", "super",
})
# What a template may read of ``loop`` inside a ``{% for %}``; the rest (cycle, changed,
# the loop object itself) is refused.
LOOP_ATTRIBUTES = frozenset({
    "index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem",
    "nextitem", "depth", "depth0",
})


class OutputTooLarge(ValueError):
    """A render would produce more than ``MAX_OUTPUT_CHARS`` characters."""


@dataclass(frozen=True)
class TemplateProblem:
    code: str
    message: str
    line: int | None = None  # where in the source, when known (syntax errors)
    detail: str = ""  # Jinja's own words for a syntax error, for the admin's translation


@dataclass
class TemplateCheck:
    """The outcome of :func:`check_template`: ``ok`` when there is no problem.

    ``warnings`` do not stop a save: the preview reads badly (punctuation, length)."""

    problems: list[TemplateProblem] = field(default_factory=list)
    preview: str | None = None
    warnings: list[TemplateProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, message: str, line: int | None = None, detail: str = "") -> None:
        self.problems.append(TemplateProblem(code, message, line, detail))

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(TemplateProblem(code, message))


def documented_variables(name: str) -> frozenset[str]:
    return CATALOG.get(name, DEFAULT_VARIABLES)


def sample_data(today: date, creditor_name: str = "Distribuidora Exemplo Ltda",
                creditor_tax_id: str = "11.222.333/0001-81") -> dict[str, Any]:
    """Plain sample values for every documented variable (a debtor with two invoices)."""
    first = today + timedelta(days=3)
    installments = [
        {"number": n, "due_date": first + timedelta(days=30 * (n - 1)), "amount": Decimal("2040.00")}
        for n in (1, 2, 3)
    ]
    offer = {
        "kind": "installments", "balance": Decimal("6000.00"), "total": Decimal("6120.00"),
        "discount_percent": Decimal("0"), "discount_amount": Decimal("0.00"),
        "monthly_interest_percent": Decimal("1.0"), "count": 3, "installments": installments,
    }
    debts = [
        {"external_id": "NF-1001", "description": "Nota fiscal 1001", "amount": Decimal("4000.00"),
         "due_date": today - timedelta(days=20), "days_past_due": 20, "balance": Decimal("4106.67")},
        {"external_id": "NF-1002", "description": "", "amount": Decimal("1800.00"),
         "due_date": today - timedelta(days=5), "days_past_due": 5, "balance": Decimal("1839.00")},
    ]
    return {
        "creditor_name": creditor_name, "debtor_name": "Padaria Sol Ltda", "contact_name": "Ana",
        "creditor_tax_id": creditor_tax_id, "has_debt": True, "debts": debts,
        "total": Decimal("5945.67"), "balance": Decimal("5945.67"), "today": today,
        "offer": offer, "reason": "first_offer", "reasons": ["installments_above_max"],
        "limits": {"installments_max": 6, "installment_min_amount": Decimal("500.00"),
                   "discount_max_percent": Decimal("5"), "down_payment_min_percent": Decimal("10"),
                   "first_due_within_days": 10},
        "hours": [{"days": "mon-fri", "window": "08:00-20:00"}, {"days": "sat", "window": "08:00-14:00"}],
        "intent": "affirm", "date": today + timedelta(days=2),
        "latest": today + timedelta(days=30), "pix_key": "11222333000181",
        "agreed": False, "offer_pending": True, "text": "Texto livre",
        "claim": {"status": "pending", "amount": Decimal("3100.00"), "paid_on": today - timedelta(days=5),
                  "reference": "TED 88213", "bank": "Itaú", "attachments": 1,
                  "opened_on": today - timedelta(days=1)},
        "asks_details": False, "amount": Decimal("3100.00"),
        "agreement": {"kind": "installments", "total": Decimal("6120.00"), "count": 3,
                      "remaining": [dict(i, late=False) for i in installments[1:]],
                      "left": Decimal("4080.00"), "next": dict(installments[1], late=False)},
        "category": "cash_flow", "number": 2, "count": 3, "portal_link": SAMPLE_PORTAL_LINK,
        # E-mail only: the subject is told the message's template; the footer the opt-out link.
        "template": "overdue_first", "unsubscribe_url": "https://acordo.example/u/1.abcdefghijklmnop",
    }


def hostile_words_in(text: str, words: Iterable[str]) -> list[str]:
    """The words of ``words`` that occur in ``text`` as whole words (accents, case ignored)."""
    folded = fold(text)
    found: dict[str, str] = {}
    for word in words:
        key = fold(word).strip(" .…")
        if key and key not in found and re.search(r"(?<!\w)" + re.escape(key) + r"(?!\w)", folded):
            found[key] = word
    return list(found.values())


def _capped_replace(value: object, old: object, new: object, count: int | None = None) -> str:
    """Jinja's ``replace``, refusing before it runs when the result would pass the cap."""
    text, old_text, new_text = str(value), str(old), str(new)
    occurrences = len(text) + 1 if old_text == "" else text.count(old_text)
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    if len(text) + occurrences * (len(new_text) - len(old_text)) > MAX_OUTPUT_CHARS:
        raise OutputTooLarge(f"'replace' would make the text longer than {MAX_OUTPUT_CHARS} "
                             f"characters")
    return text.replace(old_text, new_text, -1 if count is None else count)


def checking_environment() -> ImmutableSandboxedEnvironment:
    """The renderer's sandbox with the filters that can multiply text capped."""
    environment = build_environment()
    environment.filters["replace"] = _capped_replace
    return environment


def render_capped(template: Template, variables: Mapping[str, Any]) -> str:
    """Render piece by piece, stopping as soon as the text passes ``MAX_OUTPUT_CHARS``."""
    pieces: list[str] = []
    size = 0
    for piece in template.generate(variables):
        size += len(piece)
        if size > MAX_OUTPUT_CHARS:
            raise OutputTooLarge(f"the text would be longer than {MAX_OUTPUT_CHARS} characters "
                                 f"with sample data")
        pieces.append(piece)
    return "".join(pieces)


def _nesting(source: str) -> int:
    depth = deepest = 0
    for char in source:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    blocks = deepest_blocks = 0
    for match in re.finditer(r"{%-?\s*(end)?(for|if)\b", source):
        blocks += -1 if match.group(1) else 1
        deepest_blocks = max(deepest_blocks, blocks)
    return max(deepest - 2, deepest_blocks)  # "{{" and "{%" count as two brackets


def _ast_depth(node: nodes.Node, depth: int = 0) -> int:
    if depth > MAX_AST_DEPTH:
        return depth
    children = list(node.iter_child_nodes())
    return max((_ast_depth(child, depth + 1) for child in children), default=depth)


def _unsafe_constructs(tree: nodes.Template) -> list[str]:
    found: list[str] = []
    for check in _CHECKS:
        found.extend(check(tree))
    return list(dict.fromkeys(found))


def _refused_nodes(tree: nodes.Template) -> Iterator[str]:
    for kind, label in REFUSED_NODES.items():
        if any(True for _ in tree.find_all(kind)):
            yield label


def _loop_reads(tree: nodes.Template) -> set[int]:
    """The ``loop`` names read as ``loop.<attr>`` (checked by :func:`_attributes`)."""
    return {id(node.node) for node in tree.find_all(nodes.Getattr)
            if not node.attr.startswith("_") and isinstance(node.node, nodes.Name)
            and node.node.name == "loop"}


def _attributes(tree: nodes.Template) -> Iterator[str]:
    for getattr_node in tree.find_all(nodes.Getattr):
        if getattr_node.attr.startswith("_"):
            yield f"attribute {getattr_node.attr!r}"
        elif (isinstance(getattr_node.node, nodes.Name) and getattr_node.node.name == "loop"
              and getattr_node.attr not in LOOP_ATTRIBUTES):
            yield f"'loop.{getattr_node.attr}'"


def _names(tree: nodes.Template) -> Iterator[str]:
    loop_reads = _loop_reads(tree)
    for name in tree.find_all(nodes.Name):
        if name.name == "loop" and id(name) in loop_reads:
            continue
        if name.name in REFUSED_NAMES or name.name.startswith("_"):
            yield f"name {name.name!r}"


def _keys(tree: nodes.Template) -> Iterator[str]:
    for getitem in tree.find_all(nodes.Getitem):
        if isinstance(getitem.arg, nodes.Const) and str(getitem.arg.value).startswith("_"):
            yield f"key {getitem.arg.value!r}"


def _filters_and_calls(tree: nodes.Template) -> Iterator[str]:
    for filter_node in tree.find_all(nodes.Filter):
        if filter_node.name not in ALLOWED_FILTERS:
            yield f"filter {filter_node.name!r}"
    for call in tree.find_all(nodes.Call):
        target = call.node
        if not (isinstance(target, nodes.Getattr) and target.attr in ALLOWED_METHODS):
            yield "function call"


def _operators(tree: nodes.Template) -> Iterator[str]:
    if any(True for _ in tree.find_all((nodes.Pow, nodes.Mul))):
        yield "'**' or '*' operator"
    if any(True for _ in tree.find_all(nodes.Mod)):
        yield "'%' operator"


def _loops(tree: nodes.Template) -> Iterator[str]:
    for loop in tree.find_all(nodes.For):
        if not _is_variable_path(loop.iter):
            yield ("a {% for %} over anything but a variable (e.g. 'debts', "
                   "'offer.installments')")
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        yield f"{{% for %}} nested more than {MAX_LOOP_DEPTH} deep"


# In the order their findings are reported.
_CHECKS: tuple[Callable[[nodes.Template], Iterator[str]], ...] = (
    _refused_nodes, _attributes, _names, _keys, _filters_and_calls, _operators, _loops,
)


def _is_variable_path(node: nodes.Node) -> bool:
    """``debts``, ``offer.installments``, ``offer['installments']``: data, whose size the
    service layer bounds, rather than an expression that can be made as long as wanted."""
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return False
        node = node.node
    return isinstance(node, nodes.Name)


def _loop_depth(node: nodes.Node) -> int:
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + (1 if isinstance(node, nodes.For) else 0)


def _first_use(tree: nodes.Template, names: Iterable[str]) -> int:
    wanted = set(names)
    return min(node.lineno for node in tree.find_all(nodes.Name) if node.name in wanted)


def _requires(scope: str, name: str, cadence_templates: set[str]) -> bool:
    return scope == "all" or (scope == "cadence" and name in cadence_templates)


def check_template(
    source: str,
    *,
    name: str,
    locale: str,
    channel: str = "",
    rules: Sequence[TemplateRules],
    cadence_templates: Iterable[str] = (),
    creditor_names: Sequence[str] = ("Distribuidora Exemplo Ltda",),
    today: date,
) -> TemplateCheck:
    """Every problem of ``source`` as template ``name`` for ``locale`` (and ``channel``)."""
    check = TemplateCheck()
    if len(source) > MAX_SOURCE_CHARS:
        check.add("too_long", f"the source has {len(source)} characters; at most {MAX_SOURCE_CHARS}")
        return check
    if _nesting(source) > MAX_NESTING:
        check.add("too_deep", f"nested deeper than {MAX_NESTING} levels")
        return check
    environment = checking_environment()
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as error:
        check.add("syntax", f"does not compile: {error.message} (line {error.lineno})",
                  line=error.lineno, detail=error.message or "")
        return check
    except (TemplateError, RecursionError) as error:
        check.add("syntax", f"does not compile: {error}")
        return check
    if _ast_depth(tree) > MAX_AST_DEPTH:
        check.add("too_deep", f"expressions nested deeper than {MAX_AST_DEPTH} levels")
        return check
    unsafe = _unsafe_constructs(tree)
    if unsafe:
        check.add("unsafe", "not allowed in a message template: " + ", ".join(unsafe))
    allowed = documented_variables(name)
    unknown = sorted(meta.find_undeclared_variables(tree) - allowed - REFUSED_NAMES
                     - {n for n in meta.find_undeclared_variables(tree) if n.startswith("_")})
    if unknown:
        check.add("unknown_variable",
                  f"undocumented variable(s) {', '.join(unknown)}; {name!r} may use: "
                  f"{', '.join(sorted(allowed)) or '(none)'}", line=_first_use(tree, unknown))
    resolved = closest_locale(locale)
    if not check.problems:
        variables = _sample_for(today, creditor_names, allowed, channel)
        token = _render_locale.set(resolved)
        try:
            check.preview = render_capped(environment.from_string(source), variables).strip()
        except OutputTooLarge as error:
            check.add("too_large", str(error))
        except (TemplateError, TypeError, ValueError, ArithmeticError) as error:
            check.add("render", f"fails with sample data: {type(error).__name__}: {error}")
        finally:
            _render_locale.reset(token)
    preview = check.preview or ""
    for warning in punctuation_warnings(preview):
        check.warn(warning.code, warning.message)
    _check_rendered(check, preview, source, name=name, locale=resolved, channel=channel,
                    rules=rules, cadence=set(cadence_templates), creditor_names=creditor_names)
    return check


def _sample_for(today: date, creditor_names: Sequence[str], allowed: frozenset[str],
                channel: str) -> dict[str, Any]:
    """The sample values a template may use on ``channel``."""
    sample = sample_data(today, creditor_names[0] if creditor_names else "Credor")
    variables = {key: value for key, value in sample.items() if key in allowed}
    if channel == "sms" and "portal_link" in variables:
        variables["portal_link"] = ""  # the régua sends no link by SMS (bot/cadence/queue.py)
    return variables


def _check_rendered(check: TemplateCheck, preview: str, source: str, *, name: str, locale: str,
                    channel: str, rules: Sequence[TemplateRules], cadence: set[str],
                    creditor_names: Sequence[str]) -> None:
    for rule in rules:
        limits = {"sms": rule.sms_max_chars, "whatsapp": rule.whatsapp_max_chars}
        if channel in limits and len(preview) > limits[channel]:
            check.add("length", f"{len(preview)} characters with sample data; {channel.upper()} "
                                f"allows {limits[channel]}")
        if check.preview is not None and _requires(rule.identification_required, name, cadence) \
                and not any(fold(c) in fold(preview) for c in creditor_names):
            check.add("identification", "must name the creditor ({{ creditor_name }})")
        channels = channels_of(name) if not channel else (channel,)
        needs_opt_out = _requires(rule.opt_out_required, name, cadence) and any(
            c in rule.opt_out_channels for c in channels)
        markers = rule.opt_out_markers.get(locale, ())
        if check.preview is not None and needs_opt_out and markers and not any(
                fold(m) in fold(preview) for m in markers):
            check.add("opt_out", "needs an opt-out line (e.g. 'Responda " + markers[0]
                      + " para não receber mais mensagens')")
        words = [w for words in rule.hostile_words.values() for w in words]
        hostile = [f"“{word}”" for word in hostile_words_in(source + "\n" + preview, words)]
        hostile += [term.describe() for term in hostile_terms_in(source + "\n" + preview)]
        if hostile:
            check.add("hostile", "hostile or threatening wording (CDC art. 42): "
                      + "; ".join(hostile))
    check.problems[:] = list(dict.fromkeys(check.problems))


def policy_rules(policies: Mapping[str, Any]) -> tuple[list[TemplateRules], set[str], list[str]]:
    """(rules, cadence template names, creditor names) over every loaded policy."""
    rules = [policy.templates for policy in policies.values()]
    cadence = {step.template for policy in policies.values()
               for steps in policy.cadence.values() for step in steps}
    names = [policy.creditor.name for policy in policies.values()]
    return rules or [TemplateRules()], cadence, names
