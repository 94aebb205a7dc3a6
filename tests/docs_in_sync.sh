#!/bin/sh
# TAP: docs/config-keys.md is what docgen makes from the key table (regenerate with
# `build/docgen keys-markdown > docs/config-keys.md`).
docgen=$1 doc=$2
echo "1..1"
if "$docgen" keys-markdown | cmp -s - "$doc"; then
	echo "ok 1 - $doc matches the key table"
else
	echo "not ok 1 - $doc differs from the key table: run '$docgen keys-markdown > $doc'"
	"$docgen" keys-markdown | diff "$doc" - | head -20 | sed 's/^/# /'
fi
