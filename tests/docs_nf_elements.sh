#!/bin/sh
# TAP: the element table of docs/nfacctd.md (between its nf-elements markers) is what docgen
# makes from the decoder's table (regenerate with `build/docgen nf-elements`).
docgen=$1 doc=$2
t=$(mktemp) || exit 1
trap 'rm -f "$t"' EXIT
echo "1..1"
"$docgen" nf-elements > "$t"
if sed -n '/<!-- nf-elements begin -->/,/<!-- nf-elements end -->/p' "$doc" | sed '1d;$d' |
    cmp -s - "$t"; then
	echo "ok 1 - the element table of $doc matches the decoder's table"
else
	echo "not ok 1 - the element table of $doc differs: replace it with '$docgen nf-elements'"
	sed -n '/<!-- nf-elements begin -->/,/<!-- nf-elements end -->/p' "$doc" | sed '1d;$d' |
	    diff - "$t" | head -20 | sed 's/^/# /'
fi
