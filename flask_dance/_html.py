"""The look shared by the demo's pages and the local test provider's pages:
one stylesheet and one page shell, so that both read as parts of the same
finished tool, at a desktop width and on a 390 px phone screen alike."""

from __future__ import annotations

from markupsafe import escape

#: The stylesheet of every page, inlined (the pages load nothing else).
STYLE = """
:root { color-scheme: light; --accent: #1f5fbf; --accent-dark: #184c99;
        --border: #d8dde3; --muted: #5d6670; --bg-soft: #f5f7f9; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0; color: #1d2329; background: #fff; }
main { max-width: 46rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
.banner { background: #24303d; color: #fff; padding: .55rem 1rem; font-size: .9rem; }
.banner strong { font-weight: 600; }
.banner span { color: #c5d0db; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .6rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
p { margin: .6rem 0; }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       font-size: .9em; background: var(--bg-soft); padding: 0 .25em;
       border-radius: 3px; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
caption { text-align: left; color: var(--muted); font-size: .9rem;
          padding-bottom: .25rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--border);
         vertical-align: top; overflow-wrap: break-word; }
th { width: 13rem; font-weight: 600; color: #3a444e; }
.card { border: 1px solid var(--border); border-radius: 8px; padding: 1rem 1.25rem;
        background: #fff; box-shadow: 0 1px 2px rgba(0, 0, 0, .04); }
.flash { padding: .6rem 1rem; border-radius: 6px; background: #e7f4ea;
         border: 1px solid #b9dfc2; }
.flash.error { background: #fcebea; border-color: #f0c2bf; }
.actions { display: flex; flex-wrap: wrap; gap: .6rem; margin-top: 1.25rem;
           align-items: center; }
.actions form { margin: 0; }
button, .button { font: inherit; font-weight: 500; display: inline-block;
         padding: .5rem 1.1rem; border-radius: 6px; border: 1px solid var(--border);
         background: #fff; color: #1d2329; cursor: pointer; text-decoration: none;
         line-height: 1.4; text-align: center; }
button:hover, .button:hover { background: var(--bg-soft); }
button.primary, .button.primary { background: var(--accent);
         border-color: var(--accent); color: #fff; }
button.primary:hover, .button.primary:hover { background: var(--accent-dark); }
button:focus-visible, .button:focus-visible, select:focus-visible {
         outline: 3px solid #9cc1f5; outline-offset: 1px; }
label { font-weight: 600; display: block; margin: 1rem 0 .3rem; }
select { font: inherit; padding: .4rem .5rem; border: 1px solid var(--border);
         border-radius: 6px; max-width: 100%; background: #fff; }
ul.scopes { padding-left: 1.2rem; margin: .4rem 0; }
.muted { color: var(--muted); }
.status { font-size: .85rem; font-weight: 600; color: var(--muted);
          letter-spacing: .03em; text-transform: uppercase; margin: 0; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .9rem; }
@media (max-width: 600px) {
  main { padding: 1rem .8rem 2rem; }
  h1 { font-size: 1.35rem; }
  th, td { display: block; width: auto; border: 0; padding: .1rem 0; }
  th { padding-top: .6rem; font-size: .85rem; color: var(--muted); }
  tr { display: block; border-bottom: 1px solid var(--border); padding-bottom: .4rem; }
  .actions button, .actions .button { width: 100%; }
  .actions form { flex: 1 1 100%; }
}
"""

_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<div class="banner" role="note">{banner}</div>
<main>
{body}
</main>
</body>
</html>
"""


def page(title: str, body: str, *, banner: str) -> str:
    """A whole HTML page in the shared style.

    :param title: The document title, as text (escaped here).
    :param body: The contents of ``<main>``, as HTML.
    :param banner: The banner's HTML, saying which tool serves the page.
    """
    return _SHELL.format(title=escape(title), style=STYLE, body=body, banner=banner)


def error_body(code: int, name: str, description: str | None) -> str:
    """The ``<main>`` contents of an error page.

    :param code: The HTTP status, or 0 for none.
    :param name: The error's name, such as ``Not Found``.
    :param description: What happened, as text.
    """
    status = f'<p class="status">Error {code}</p>' if code else ""
    return (
        f'{status}<h1 id="error">{escape(name)}</h1>'
        f'<p id="error_description">{escape(description or "")}</p>'
    )
