"""What ``panel serve lab`` runs once per browser session: it only builds the app."""
from lab.uploads import raise_websocket_cap
from views.shell import build_app

raise_websocket_cap()  # before this page's websocket connects: uploads up to the lab's limit
build_app().servable(title="Neural Lab")
