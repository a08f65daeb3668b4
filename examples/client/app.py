"""The seed's demo web app (port 5001): one static page that logs the user in
at the fake OAuth server (port 5000) with oatk.js, then calls the protected
API (examples/web.py, port 5002).

    gunicorn -b localhost:5001 examples.client.app:server

OATK_PROVIDER and OATK_API override the two URLs written in index.html, for
running on other ports (the tests do).
"""

import os

from flask import Flask, Response

HERE = os.path.dirname(os.path.abspath(__file__))

server = Flask(__name__, static_folder=os.path.join(HERE, "static"))
app = server


@server.route("/", methods=["GET"])
def home():
  with open(os.path.join(HERE, "static", "index.html"), encoding="utf-8") as fp:
    html = fp.read()
  provider = os.environ.get("OATK_PROVIDER")
  api = os.environ.get("OATK_API")
  if provider:
    html = html.replace("http://localhost:5000", provider.rstrip("/"))
  if api:
    html = html.replace("http://localhost:5002", api.rstrip("/"))
  return Response(html, mimetype="text/html")
