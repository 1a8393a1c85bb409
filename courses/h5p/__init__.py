"""H5P packages: validation (validation.py), storage (storage.py: who may install library
code, content filtered by semantics.py), who sees and manages which package (access.py),
player (player.py), staff screens (admin.py). The chooser block lessons use lives with the
lesson blocks in courses/models/blocks.py. CLI: import_h5p. Trust model: docs/SECURITY.md.

Serving. The player (npm h5p-standalone, MIT) comes from our static files under
STATIC_URL/h5p-player/ (STATICFILES_DIRS maps node_modules/h5p-standalone/dist there), so
lessons play on a LAN without internet. Package files live in the default storage under
h5p/ and are fetched by the browser from MEDIA_URL:

- development and tests: Django serves MEDIA_URL when settings.SERVE_MEDIA is true (the
  default with DEBUG, and in the test settings);
- production: let the web server serve MEDIA_ROOT at MEDIA_URL, e.g. for nginx
  ``location /media/ { alias /srv/kb/media/; }`` (same origin as the site: the player fetches
  h5p.json, content.json and library.json with fetch(), so another origin needs CORS);
  SERVE_MEDIA=1 is acceptable for a single small server on a school LAN.
"""
