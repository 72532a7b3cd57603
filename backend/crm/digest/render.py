"""The digest's words: a subject, a plain-text body and its HTML alternative, from the same parts.

The HTML is for Gmail and its kin: inline styles only (a <style> block is dropped by some
clients), no images, no scripts, every value escaped. Times are the fund's local time.
"""
from html import escape

from ..clock import parse_iso

FONT = "font-family:Helvetica,Arial,sans-serif;color:#1f2328;"
MUTED = "color:#59636e;"
INVESTOR_LINES = 5  # per team member


def subject(activity, zone) -> str:
    day = activity.until.astimezone(zone).strftime("%a %-d %b %Y")
    if not activity.email_count:
        return f"Venture CRM digest for {day}: no investor email"
    return (f"Venture CRM digest for {day}: {_n(activity.email_count, 'email')} with "
            f"{_n(len(activity.investors), 'investor')}")


def text(activity, words: dict, zone) -> str:
    """The plain-text body. `words`: {user_id: (paragraph, written_by_model)}."""
    out = [f"Venture CRM daily digest, {_span(activity, zone)}", "", _summary(activity), ""]
    if activity.email_count:
        out += ["BY TEAM MEMBER", ""]
        for person in activity.people:
            out += _person_text(person, words.get(person.user_id), zone)
        out += ["BY INVESTOR", ""]
        for _, dealings in activity.investors:
            out += [f"{dealings.name}: {_counts(dealings)} · {', '.join(sorted(dealings.people))}",
                    f"  latest: {_latest(dealings, zone)}", ""]
    out += _cold_text(activity)
    if any(not by_model for _, by_model in words.values()):
        out += ["* counted, not written: the local model did not give this paragraph.", ""]
    out.append("Sent by Venture CRM to its admins. Settings → Admin → Daily digest changes the hour or turns it off.")
    return "\n".join(out) + "\n"


def html(activity, words: dict, zone) -> str:
    parts = [f'<div style="{FONT}font-size:14px;line-height:1.5;max-width:680px">',
             f'<h2 style="font-size:18px;margin:0 0 4px">Venture CRM daily digest</h2>',
             f'<p style="{MUTED}margin:0 0 12px">{escape(_span(activity, zone))}</p>',
             f'<p style="margin:0 0 16px"><b>{escape(_summary(activity))}</b></p>']
    if activity.email_count:
        parts.append(_heading("By team member"))
        for person in activity.people:
            parts.append(_person_html(person, words.get(person.user_id), zone))
        parts.append(_heading("By investor"))
        parts.append('<ul style="padding-left:18px;margin:0 0 16px">')
        for _, dealings in activity.investors:
            parts.append(f'<li style="margin:0 0 6px"><b>{escape(dealings.name)}</b>: {escape(_counts(dealings))}'
                         f' · {escape(", ".join(sorted(dealings.people)))}<br>'
                         f'<span style="{MUTED}">latest: {escape(_latest(dealings, zone))}</span></li>')
        parts.append("</ul>")
    if activity.cold:
        parts.append(_heading(_cold_heading(activity)))
        parts.append('<ul style="padding-left:18px;margin:0 0 16px">')
        parts += [f'<li style="margin:0 0 6px"><b>{escape(c.name)}</b>: {escape(_cold_line(c))}</li>' for c in activity.cold]
        parts.append("</ul>")
        if activity.cold_more:
            parts.append(f'<p style="{MUTED}">…and {activity.cold_more} more.</p>')
    if any(not by_model for _, by_model in words.values()):
        parts.append(f'<p style="{MUTED}font-size:12px">* counted, not written: the local model did not give this paragraph.</p>')
    parts.append(f'<p style="{MUTED}font-size:12px;margin-top:24px">Sent by Venture CRM to its admins. '
                 "Settings → Admin → Daily digest changes the hour or turns it off.</p></div>")
    return "\n".join(parts) + "\n"


# -- the parts both bodies share --------------------------------------------------------------------

def _span(activity, zone) -> str:
    since, until = activity.since.astimezone(zone), activity.until.astimezone(zone)
    return f"{since.strftime('%a %-d %b %H:%M')} to {until.strftime('%a %-d %b %Y %H:%M')} ({_zone_name(zone, until)})"


def _summary(activity) -> str:
    if not activity.email_count:
        return "No email with investors was captured in this window."
    active = sum(1 for p in activity.people if p.email_count)
    return (f"{_n(activity.email_count, 'email')} with {_n(len(activity.investors), 'investor')}, "
            f"by {_n(active, 'team member')}.")


def _person_lines(person, zone) -> list:
    busiest = sorted(person.investors.values(), key=lambda d: (-(d.sent + d.received), d.name.casefold()))
    lines = [f"{d.name}: {d.sent} sent, {d.received} received; latest {_latest(d, zone)}" for d in busiest[:INVESTOR_LINES]]
    if len(busiest) > INVESTOR_LINES:
        lines.append(f"…and {len(busiest) - INVESTOR_LINES} more investors")
    return lines


def _person_text(person, words, zone) -> list:
    if not person.email_count:
        return [f"{person.name}: no email with investors.", ""]
    paragraph, by_model = words
    return [f"{person.name}: {person.sent} sent, {person.received} received",
            f"  {paragraph}{'' if by_model else ' *'}", *(f"  · {line}" for line in _person_lines(person, zone)), ""]


def _person_html(person, words, zone) -> str:
    if not person.email_count:
        return f'<p style="margin:0 0 12px"><b>{escape(person.name)}</b>: <span style="{MUTED}">no email with investors.</span></p>'
    paragraph, by_model = words
    items = "".join(f'<li>{escape(line)}</li>' for line in _person_lines(person, zone))
    return (f'<p style="margin:0 0 4px"><b>{escape(person.name)}</b>'
            f' <span style="{MUTED}">{person.sent} sent, {person.received} received</span></p>'
            f'<p style="margin:0 0 4px">{escape(paragraph)}{"" if by_model else " *"}</p>'
            f'<ul style="{MUTED}padding-left:18px;margin:0 0 14px">{items}</ul>')


def _cold_text(activity) -> list:
    if not activity.cold:
        return []
    out = [_cold_heading(activity).upper(), ""]
    out += [f"{c.name}: {_cold_line(c)}" for c in activity.cold]
    if activity.cold_more:
        out.append(f"…and {activity.cold_more} more.")
    return out + [""]


def _cold_heading(activity) -> str:
    return f"Going cold: something open, no email for {activity.cold_after_days}+ days"


def _cold_line(cold) -> str:
    parts = [f"no email for {_n(cold.days, 'day')}" if cold.last_at else "no email on record"]
    if cold.connection:
        parts.append(f"strongest connection {cold.connection} ({_n(cold.connection_emails, 'email')}"
                     f"{', both ways' if cold.both_ways else ''})")
    if cold.committed:
        parts.append(f"open commitment {cold.committed:,.0f}")
    return " · ".join(parts)


def _counts(dealings) -> str:
    return f"{_n(dealings.sent + dealings.received, 'email')} ({dealings.sent} out, {dealings.received} in)"


def _latest(dealings, zone) -> str:
    mail = max((m for m, _ in dealings.mails), key=lambda m: (m.sent_at, m.id))
    return f"“{mail.subject}” ({parse_iso(mail.sent_at).astimezone(zone).strftime('%-d %b %H:%M')})"


def _zone_name(zone, moment) -> str:
    return getattr(zone, "key", None) if getattr(zone, "key", None) not in (None, "localtime") else moment.tzname()


def _heading(title: str) -> str:
    return (f'<h3 style="font-size:15px;margin:20px 0 8px;padding-bottom:4px;border-bottom:1px solid #d1d9e0">'
            f'{escape(title)}</h3>')


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
