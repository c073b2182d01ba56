# Sourced by the integration scripts: finds the shared reference directory (Stripe's OpenAPI
# validator) and exports TENDER_SHARED. It sits next to the checkout (../shared); a clone made from
# a local checkout (git clone /work/main /tmp/x) finds it next to the checkout it came from.
find_shared() {
  local c origin
  for c in "${TENDER_SHARED:-}" "$(cd .. && pwd)/shared"; do
    [ -n "$c" ] && [ -f "$c/tools/stripe-openapi-validate.js" ] && { echo "$c"; return; }
  done
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ -n "$origin" ] && [ -d "$origin" ]; then
    c="$(cd "$origin/.." && pwd)/shared"
    [ -f "$c/tools/stripe-openapi-validate.js" ] && { echo "$c"; return; }
  fi
  echo "${TENDER_SHARED:-$(cd .. && pwd)/shared}"
}
TENDER_SHARED=$(find_shared)
export TENDER_SHARED
