"""Budget Buddy's one page, for both of its modes: a plain OAuth app (/) and a FAPI 2.0 app (/fapi/)."""

import secrets
from decimal import Decimal
from typing import Any

from flask import abort, render_template_string, request, session, url_for


class ConnectionEnded(Exception):
    """The bank no longer accepts this app's token: revoked, expired or suspended."""


def api_answer(response: Any) -> Any:
    """An API response's JSON; a 401 means the connection ended (the bank says why in WWW-Authenticate)."""
    if response.status_code == 401:
        raise ConnectionEnded(response.headers.get("WWW-Authenticate", "invalid_token"))
    response.raise_for_status()
    return response.json()


PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Budget Buddy{% if fapi %} (FAPI){% endif %}</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1d2433; }
    h1 { color: #0b6e4f; } table { width: 100%; border-collapse: collapse; }
    td, th { padding: .4rem; border-bottom: 1px solid #dde; text-align: left; } td.amount { text-align: right; }
    .notice { background: #fff4d6; border-left: 4px solid #c98a00; padding: .6rem 1rem; }
    .button { display: inline-block; background: #0b6e4f; color: #fff; padding: .5rem 1rem; border-radius: .3rem;
              text-decoration: none; border: 0; font: inherit; cursor: pointer; }
    .link { background: none; border: 0; color: #0b4f8a; text-decoration: underline; font: inherit; cursor: pointer; }
    .mode { color: #555; font-size: .9rem; }
  </style>
</head>
<body>
  <h1>Budget Buddy{% if fapi %} (FAPI){% endif %}</h1>
  <p class="mode">{% if fapi %}FAPI 2.0 mode: pushed requests, private_key_jwt and DPoP-bound tokens.
     <a href="{{ url_for('home') }}">Plain OAuth mode</a>{% else %}Plain OAuth mode.
     <a href="{{ url_for('fapi.home') }}">FAPI 2.0 mode</a>{% endif %}</p>
  {% if notice %}<p class="notice" role="status">{{ notice }}</p>{% endif %}
  {% if me %}
    <p>Connected to Demo Bank as <strong>{{ me.display_name }}</strong>.
       The bank lets us: {{ me.scopes|join(", ") }}.{% if token_type %} Token type: {{ token_type }}.{% endif %}</p>
    <h2>Your accounts</h2>
    <table>
      <thead><tr><th>Account</th><th>IBAN</th><th class="amount">Balance</th></tr></thead>
      <tbody>
      {% for account in accounts %}
        <tr><td>{{ account.description }}</td><td>{{ account.iban }}</td>
            <td class="amount">€{{ account.balance.value }}</td></tr>
      {% endfor %}
      </tbody>
      <tfoot><tr><th colspan="2">Total</th><th class="amount">€{{ total }}</th></tr></tfoot>
    </table>
    {% if arrived is not none %}
    <h2>New payments, as the bank tells us</h2>
    {% if arrived %}
    <ul id="arrived">{% for payment in arrived %}
      <li>€{{ payment.amount.value }}: {{ payment.description or "(no description)" }}</li>
    {% endfor %}</ul>
    {% else %}<p>None yet: the bank calls us when a payment is booked.</p>{% endif %}
    {% endif %}
    <form method="post" action="{{ disconnect_url }}">
      <input type="hidden" name="csrf" value="{{ csrf }}">
      <p><button class="link" type="submit">Disconnect Demo Bank</button></p>
    </form>
  {% else %}
    <p>See all your balances in one place. Budget Buddy reads your accounts and payments;
       it can never move money.</p>
    <p><a class="button" href="{{ connect_url }}">Connect your bank</a></p>
  {% endif %}
</body>
</html>"""


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def check_csrf() -> None:
    """A form post carries the session's token (csrf_token), or it is refused with 403."""
    if not secrets.compare_digest(request.form.get("csrf", ""), session.get("csrf", "")):
        abort(403)


def render_page(
    *, mode: str, notice: str | None, me: Any = None, accounts: Any = (), arrived: Any = None, **extra: Any
) -> str:
    fapi = mode == "fapi"
    prefix = "fapi." if fapi else ""
    total = sum((Decimal(a["balance"]["value"]) for a in accounts), Decimal("0.00"))
    return render_template_string(
        PAGE,
        fapi=fapi,
        notice=notice,
        me=me,
        accounts=accounts,
        arrived=arrived,
        total=total,
        csrf=csrf_token() if me else "",
        connect_url=url_for(f"{prefix}connect"),
        disconnect_url=url_for(f"{prefix}disconnect"),
        **extra,
    )
