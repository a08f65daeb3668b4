"""The browser client, oatk.js: the same file the fake server serves at /static/oatk.js.

Serve it from your own app, as in the original's Google example::

    import oatk.js

    @app.route("/oatk.js")
    def oatk_script():
        return Response(oatk.js.as_src(), mimetype="application/javascript")
"""

from . import _oatk

__all__ = ["as_src", "src"]

#: The script's source text.
src: str = _oatk.OATK_JS


def as_src() -> str:
    """The source of oatk.js."""
    return src
