#!/usr/bin/env bash
# Writes this machine's golden training digests into lowbit-cli/src/test/resources/dev/lowbit/cli/golden-digests.txt
# (the entries of other machines stay): every preset on mlp and cnn for one epoch on the first 2,000/500
# images, acc12 as a fine-tune, a few steps of resnet and vit, on --backend java and auto.
# GoldenDigestsTest (slow suite) then holds every later build to them on a machine of the same kind.
# Run it only on code whose results are right (e.g. before a redesign that must not change them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/scripts/jdk.sh"
file="$here/lowbit-cli/src/test/resources/dev/lowbit/cli/golden-digests.txt"
cd "$here"
mvn -B -ntp -q test -pl lowbit-cli -am -Dtest=GoldenDigestsTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dlowbit.groups=slow -Dlowbit.golden.write="$file"
echo "wrote $(grep -vc '^#' "$file") digests to $file"
