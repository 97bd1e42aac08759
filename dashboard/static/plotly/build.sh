#!/bin/sh
# Rebuild plotly-takedowns.min.js: plotly.js with only the trace types the
# dashboard draws (scatter, bar, choropleth). It is a third of the size of the
# full bundle Streamlit's st.plotly_chart loads, and a page draws its first
# chart over a second sooner (make bench: first_chart_s). Needs node and npm.
#
#   sh dashboard/static/plotly/build.sh
#
# Keep VERSION equal to the plotly.js that Python's plotly ships
# (python -c "import plotly.offline as o; print(o.get_plotlyjs_version())");
# tests/test_dashboard.py checks that they agree.
set -eu
VERSION=4.1.1
ESBUILD=0.25.12
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm install --no-audit --no-fund --ignore-scripts "plotly.js@$VERSION" "esbuild@$ESBUILD" >/dev/null
cat > entry.js <<'JS'
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/choropleth')]);
module.exports = Plotly;
JS
# maplibre's stylesheet is only for map subplots, which this bundle leaves out.
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
  --define:global=window --define:define.amd=false --loader:.css=empty \
  --banner:js="/* plotly.js v$VERSION (MIT, https://github.com/plotly/plotly.js): scatter, bar and choropleth only; built by build.sh */" \
  --outfile="$HERE/plotly-takedowns.min.js"
cp node_modules/plotly.js/LICENSE "$HERE/LICENSE-plotly.js.txt"
