#!/usr/bin/env bash
# Builds the console form fuzz target (called by kiosk/fuzz.sh): Hummingbird's URL-encoded form coder, compiled
# from the package checkout as a small module of its own, plus the shapes of the console's forms and FormFuzz.swift, with
# -sanitize=fuzzer,address (with the string helpers it uses). The whole of Hummingbird (SwiftNIO, …) is not needed for decoding a form, and building
# it sanitized would take most of the CI budget.
# Usage: build.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/../../.."
out="$1"
mkdir -p "$out"
checkout=""
for d in .build-fuzz/checkouts .build/checkouts; do
  [ -d "$d/hummingbird/Sources/Hummingbird/Codable/URLEncodedForm" ] && { checkout="$d/hummingbird"; break; }
done
[ -n "$checkout" ] || { echo "build.sh: no hummingbird checkout; run swift package resolve" >&2; exit 1; }
forms="$checkout/Sources/Hummingbird/Codable/URLEncodedForm"
flags=(-O -sanitize=fuzzer,address -parse-as-library -enable-experimental-feature
  "AvailabilityMacro=hummingbird 2.0:macOS 14.0, iOS 17.0, tvOS 17.0, visionOS 1.0")
# The form coder as module "Hummingbird", so the console's files compile unchanged (`import Hummingbird`).
swiftc "${flags[@]}" -module-name Hummingbird -package-name hummingbird -emit-module -emit-module-path "$out/Hummingbird.swiftmodule" \
  -emit-library -static -o "$out/libHummingbirdForms.a" \
  "$forms/URLEncodedForm.swift" "$forms/URLEncodedFormDecoder.swift" "$forms/URLEncodedFormEncoder.swift" \
  "$forms/URLEncodedFormNode.swift" \
  "$checkout/Sources/HummingbirdCore/Utils/String+percentEncode.swift" "$checkout/Sources/Hummingbird/Utils/SplitStringSequences.swift"
# The shapes of the console's forms (every Decodable struct in Sources/JiayuanWeb/Console; none if no console).
consoleFiles=(Sources/JiayuanWeb/Console/*.swift)
[ -f "${consoleFiles[0]}" ] || consoleFiles=(/dev/null)
awk -f Tests/Fuzz/Form/console-forms.awk "${consoleFiles[@]}" >"$out/ConsoleForms.swift"
echo "build.sh: console forms: $(grep -c '^struct ' "$out/ConsoleForms.swift")"
swiftc "${flags[@]}" -module-name FormFuzz -I "$out" -L "$out" -lHummingbirdForms \
  Tests/Fuzz/Form/FormFuzz.swift "$out/ConsoleForms.swift" -o "$out/jiayuan-fuzz-form"
