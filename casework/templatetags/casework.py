import threading
from collections import OrderedDict

from django import template
from django.urls import get_script_prefix
from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from viewflow.templatetags.viewflow import has_perm

from casework.audit import access_action_label

register = template.Library()

# The statuses in which a passed triage deadline is shown as overdue.
_TRIAGE_OPEN = ("submitted", "in_triage")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def badges(referral, now):
    """The urgency badge of a referral, and "Overdue" past its triage deadline. A tag rather
    than an included template: the queue shows fifty of them, and an include per row was a
    third of the page's rendering time (docs/performance.md)."""
    html = format_html(
        '<span class="cw-badge cw-badge--{}">{}</span>',
        referral.urgency,
        referral.get_urgency_display(),
    )
    due = referral.triage_due_at
    if due and referral.status in _TRIAGE_OPEN and now and due < now:
        html += format_html('<span class="cw-badge cw-badge--overdue">{}</span>', _("Overdue"))
    return mark_safe(html)  # noqa: S308 - built with format_html above


# One row of the triage queue, exactly as the loop of casework/queue.html wrote it (the test
# tests/casework/test_queue_rows_html.py renders both and compares).
_QUEUE_ROW = (
    "\n  <tr>\n"
    '    <td data-label="{l_child}"><a href="{url}">{child}</a><br>'
    '<span class="cw-muted">{l_referral} {pk}</span></td>\n'
    '    <td data-label="{l_age}">{age}</td>\n'
    '    <td data-label="{l_school}">{school}</td>\n'
    '    <td data-label="{l_concerns}">{concerns}</td>\n'
    '    <td data-label="{l_urgency}"><span class="cw-badge cw-badge--{urgency}">'
    "{urgency_label}</span></td>\n"
    '    <td data-label="{l_due}">{due}{time_left}</td>\n'
    '    <td data-label="{l_status}">{status}</td>\n'
    '    <td data-label="{l_claimed}">{claimed_by}</td>\n'
    "  </tr>\n  "
)


@register.simple_tag
def queue_rows(rows):
    """The rows of the triage queue (selectors.QueueRow), written here rather than by a
    template loop: at fifty rows the loop's variable lookups and a localised date filter per
    row were most of the page's rendering (docs/performance.md). Every value is escaped; the
    labels are translated once for all the rows; the deadline is in the current time zone and
    the language's SHORT_DATETIME_FORMAT, as the `date` filter gives it."""
    esc = conditional_escape
    labels = {
        f"l_{key}": esc(_(text))
        for key, text in (
            ("child", "Child"),
            ("age", "Age"),
            ("school", "School"),
            ("concerns", "Concerns"),
            ("urgency", "Urgency"),
            ("due", "Triage due"),
            ("status", "Status"),
            ("claimed", "Claimed by"),
            ("referral", "Referral"),
        )
    }
    date_format = get_format("SHORT_DATETIME_FORMAT")
    dash = "\u2014"
    comma = esc(", ")
    out = []
    for r in rows:
        if r.time_left:
            css = "cw-badge cw-badge--overdue" if r.overdue else "cw-muted"
            left = f'<br><span class="{css}">{esc(r.time_left)}</span>'
        else:
            left = ""
        due = dateformat.format(timezone.localtime(r.due), date_format) if r.due else ""
        out.append(
            _QUEUE_ROW.format(
                url=esc(r.url),
                child=esc(r.child),
                pk=r.pk,
                age=r.age,
                school=esc(r.school),
                concerns=comma.join(esc(c) for c in r.concerns) or dash,
                urgency=esc(r.urgency),
                urgency_label=esc(r.urgency_label),
                due=esc(due) if due else dash,
                time_left=left,
                status=esc(r.status),
                claimed_by=esc(r.claimed_by) if r.claimed_by else dash,
                **labels,
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every value escaped above


@register.filter
def access_label(code):
    """What a read in the access log was, in words (casework.audit.ACCESS_ACTIONS)."""
    return access_action_label(code)


# --- fragments rendered once ----------------------------------------------------------------
# The side menu and the language list are the same HTML for everyone who has the same menu
# entries, the same unread count and the same language: each is rendered once per process and
# key (`{% rendered_once "name" key... %}...{% endrendered_once %}`), and a page that needs it
# again copies the string. The key names everything the fragment shows, so nothing is ever
# stale and nothing is invalidated; nothing personal is kept (no name, no token, no id).
_RENDERED: OrderedDict = OrderedDict()
_RENDERED_MAX = 512
_RENDERED_LOCK = threading.Lock()


class RenderedOnceNode(template.Node):
    def __init__(self, nodelist, name, keys):
        self.nodelist = nodelist
        self.name = name
        self.keys = keys

    def render(self, context):
        key = (
            self.name,
            translation.get_language(),
            get_script_prefix(),
            *(k.resolve(context) for k in self.keys),
        )
        with _RENDERED_LOCK:
            html = _RENDERED.get(key)
            if html is not None:
                _RENDERED.move_to_end(key)
                return html
        html = self.nodelist.render(context)
        with _RENDERED_LOCK:
            _RENDERED[key] = html
            while len(_RENDERED) > _RENDERED_MAX:
                _RENDERED.popitem(last=False)
        return html


@register.tag
def rendered_once(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("rendered_once needs a fragment name")
    nodelist = parser.parse(("endrendered_once",))
    parser.delete_first_token()
    return RenderedOnceNode(nodelist, bits[1], [parser.compile_filter(b) for b in bits[2:]])


@register.simple_tag
def menu_key(nav, site, app, viewset, user):
    """Everything the side menu shows that varies: the project's entries (casework.
    context_processors.navigation, the unread count among them), the Viewflow applications
    the user may open (as Viewflow's own menu asks) and the current viewset's Turbo setting."""
    entries = nav.entries() if hasattr(nav, "entries") else None
    apps = tuple(has_perm(app, user) for app in site.menu_items()) if site else ()
    turbo_disabled = bool(getattr(viewset, "turbo_disabled", False))
    return (entries, apps, id(app), id(site), turbo_disabled)


@register.filter
def reason_label(code):
    """A history row's reason code, in words (casework.audit.REASONS)."""
    from casework.audit import reason_label as label

    return label(code)
