"""What ``panel serve lab`` runs once per browser session: it only builds the app."""
from views.shell import build_app

build_app().servable(title="Neural Lab")
