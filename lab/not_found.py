"""A friendly page for URLs the lab does not know (``panel serve lab --plugins lab.not_found``).

Panel puts plugin routes ahead of some of its own (its static extension files among them), so
the pattern leaves out every prefix the server serves itself.
"""
from tornado.web import RequestHandler

from lab.trame_routes import ROUTES as TRAME_ROUTES  # the 3D views' trame apps (views/anatomy3d.py)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Neural Lab: page not found</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;color:#24292f}
a{color:#3b6ea8}</style></head>
<body><h1>Neural Lab</h1><p>There is no page at <code>{path}</code>.</p>
<p><a href="/lab">Go to the lab's home page</a></p></body></html>"""


class NotFoundHandler(RequestHandler):
    def get(self, *args, **kwargs):
        self.set_status(404)
        self.finish(PAGE.replace("{path}", _escape(self.request.path)))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# "login" and "logout": Panel's access control (--basic-auth, --oauth-provider) serves its pages there;
# "trame": the 3-D anatomy views (lab/trame_routes.py)
SERVED_PREFIXES = ("static", "lab", "components", "panel-preview", "liveness", "favicon.ico", "login", "logout",
                   "trame")
ROUTES = TRAME_ROUTES + [(r"/(?!(?:%s)\b)[^/].*" % "|".join(p.replace(".", r"\.") for p in SERVED_PREFIXES),
           NotFoundHandler, {})]
