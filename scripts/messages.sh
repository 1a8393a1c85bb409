#!/usr/bin/env bash
# Update one area's Vietnamese catalog from the source files that belong to it.
#   scripts/messages.sh AREA 'glob' ['glob' ...]
#   e.g. scripts/messages.sh training 'courses/*' 'templates/courses/*'
# Keeps existing translations, adds new msgids (empty msgstr to fill), drops vanished ones,
# and compiles the .mo. Only locale/AREA is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
area=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" locale/vi' EXIT
for domain in django djangojs; do
  rm -rf locale/vi
  if [ "$domain" = djangojs ]; then
    .venv/bin/python manage.py makemessages -d djangojs -l vi --no-location --ignore=.venv \
      --ignore=node_modules --ignore=staticfiles --ignore=media >/dev/null 2>&1 || true
  fi
  .venv/bin/python manage.py makemessages -d "$domain" -l vi --add-location=file \
    --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=media \
    --ignore=scripts --ignore=bench >/dev/null
  src=locale/vi/LC_MESSAGES/$domain.po
  [ -f "$src" ] || continue
  args=()
  for glob in "$@"; do args+=(-N "$glob"); done
  msggrep "${args[@]}" "$src" -o "$tmp/$domain.po" || true
  [ -s "$tmp/$domain.po" ] || continue
  out=locale/$area/vi/LC_MESSAGES/$domain.po
  mkdir -p "$(dirname "$out")"
  if [ -f "$out" ]; then
    msgmerge --quiet --no-fuzzy-matching --backup=none -U "$out" "$tmp/$domain.po"
    msgattrib --no-obsolete -o "$out" "$out"
  else
    cp "$tmp/$domain.po" "$out"
    sed -i 's/charset=CHARSET/charset=UTF-8/' "$out"
  fi
  msgfmt --check-format -o "${out%.po}.mo" "$out"
  echo "$out: $(msgattrib --untranslated "$out" | grep -c '^msgid ' || true) untranslated entries (count includes header)"
done
