# Sourced by the bench scripts: `write_section TITLE REPORT OUT` replaces the section headed TITLE
# (a "## ..." line, up to the next "## " heading) of the Markdown file OUT with the file REPORT, or
# appends it when OUT has no such section; the other sections stay as they are.
write_section() {
  local title=$1 report=$2 out=$3 rest
  rest=$(mktemp)
  if [[ -f $out ]]; then
    awk -v t="$title" '$0 == t { skip = 1; next } skip && /^## / { skip = 0 } !skip' "$out" >"$rest"
  fi
  sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$rest"  # drop trailing blank lines
  { [[ -s $rest ]] && { cat "$rest"; echo; }; cat "$report"; } >"$out"
  rm -f "$rest"
}
