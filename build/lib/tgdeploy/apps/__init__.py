"""PasteDeploy application factories (``paste.app_factory`` entry points of tgdeploy)."""
