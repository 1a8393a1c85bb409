#!/usr/bin/env bash
# The core area's sources (accounts, site layout, the library network), for scripts/messages.sh.
exec "$(dirname "$0")/messages.sh" core 'training_site/*' 'training_site/*/*' \
  'templates/base.html' 'templates/403.html' 'templates/404.html' 'templates/includes/*' \
  'templates/account/*' 'templates/allauth/*' 'templates/allauth/*/*' 'templates/training_site/*' \
  'templates/libraries/*' 'templates/libraries/admin/*' 'templates/libraries/email/*' \
  'libraries/models/network.py' 'libraries/access.py' 'libraries/network/*' 'libraries/apps.py' \
  'libraries/management/commands/load_demo.py'
