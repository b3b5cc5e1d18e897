# The template trees of tgdeploy. setup.cfg maps this top-level folder to the
# subpackage tgdeploy.paste_templates, so it ships inside the wheel (and an editable
# install resolves it) without a top-level package of this name in site-packages.
