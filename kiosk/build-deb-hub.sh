#!/usr/bin/env bash
# The hub's half of build-deb.sh (run as `bash kiosk/build-deb.sh --hub …`, not on its own):
#   build-deb-hub.sh STAGE BINARY OUT VERSION ARCH
set -euo pipefail
cd "$(dirname "$0")/.."
stage="$1" binary="$2" out="$3" version="$4" arch="$5"
trap 'rm -rf "$stage"' EXIT
if [ -z "$binary" ]; then
  # The release build with the Swift runtime linked in, like the kiosk's (without the kiosk's order file).
  flags=(-c release --static-swift-stdlib --scratch-path .build-static)
  swift build "${flags[@]}" --product jiayuan-hub >&2
  binary="$(swift build "${flags[@]}" --show-bin-path)/jiayuan-hub"
fi
[ -x "$binary" ] || { echo "build-deb.sh: $binary is not an executable" >&2; exit 1; }
pkg="$stage/hub"
install -D -m 0755 "$binary" "$pkg/usr/bin/jiayuan-hub"
install -D -m 0644 systemd/jiayuan-hub.service "$pkg/usr/lib/systemd/system/jiayuan-hub.service"
install -D -m 0644 systemd/jiayuan-hub.sysusers "$pkg/usr/lib/sysusers.d/jiayuan-hub.conf"
install -D -m 0644 systemd/jiayuan-hub.tmpfiles "$pkg/usr/lib/tmpfiles.d/jiayuan-hub.conf"
install -D -m 0644 hub/nginx.conf "$pkg/usr/share/jiayuan-hub/nginx.conf"
install -D -m 0644 hub/hub.env.example "$pkg/usr/share/jiayuan-hub/hub.env.example"
install -D -m 0644 docs/hub.md "$pkg/usr/share/doc/jiayuan-hub/hub.md"
mkdir -p "$pkg/DEBIAN"
size="$(du -sk "$pkg" | cut -f1)"
# libcups2 and libqrencode4: `jiayuan-hub bench upload` drives a kiosk's uploader, which links the kiosk's parts.
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: jiayuan-hub
Version: $version
Architecture: $arch
Maintainer: Jiayuan Kiosk developers <kiosk@jiayuan.invalid>
Installed-Size: $size
Depends: libc6, libstdc++6, libsqlite3-0, libpq5, zlib1g, libcurl4, libcups2, libqrencode4, tzdata, systemd
Recommends: nginx, postgresql-client
Suggests: postgresql
Section: misc
Priority: optional
Description: 家园 Jiayuan district hub
 Receives the home-centre kiosks' hash-chained attendance logs exactly once (SQLite, or PostgreSQL for
 several instances behind a TLS front) and serves the district's figures, dashboard and health check.
CONTROL
cat > "$pkg/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
  systemd-sysusers /usr/lib/sysusers.d/jiayuan-hub.conf
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/jiayuan-hub.conf
  if [ ! -f /etc/jiayuan-hub/hub.env ]; then
    install -m 0640 -o root -g jiayuan-hub /usr/share/jiayuan-hub/hub.env.example /etc/jiayuan-hub/hub.env
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    # Enabled, not started: the district sets its database in /etc/jiayuan-hub/hub.env first.
    systemctl enable jiayuan-hub.service >/dev/null
    systemctl try-restart jiayuan-hub.service || true
  fi
fi
SCRIPT
cat > "$pkg/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = "remove" ]; then
  systemctl disable --now jiayuan-hub.service >/dev/null 2>&1 || true
fi
SCRIPT
cat > "$pkg/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
[ -d /run/systemd/system ] && systemctl daemon-reload || true
# /var/lib/jiayuan-hub and /etc/jiayuan-hub/hub.env are kept, also on purge.
SCRIPT
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/jiayuan-hub_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$pkg" "$deb" >/dev/null
echo "$deb"
