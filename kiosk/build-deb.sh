#!/usr/bin/env bash
# Builds jiayuan_<version>_<arch>.deb with dpkg-deb: the release binary (or --binary PATH), assets, units,
# sysusers/tmpfiles entries and the udev rules' generator, staged by install.sh --root. The package's scripts
# create the users and directories, make the data directory from the example config on first install, write
# the udev rules for the scanners found there (/usr/lib/jiayuan/scanner-rules), and start the services;
# removing the package keeps /var/lib/jiayuan.
#
# With --hub it builds jiayuan-hub_<version>_<arch>.deb instead: the district hub's program (the release
# build of `jiayuan-hub`, or --binary PATH), its unit, sysusers/tmpfiles entries, the TLS front's nginx
# template and docs/hub.md; postinst makes the jiayuan-hub user, /var/lib/jiayuan-hub and
# /etc/jiayuan-hub/hub.env, and enables (does not start) the unit. No kiosk file is in it, and no hub file
# is in the kiosk's package.
#
#   bash kiosk/build-deb.sh [--hub] [--binary PATH] [--out DIR] [--version V]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=""
out="."
version="0.1.0"
hub=0
while [ $# -gt 0 ]; do
  case "$1" in
    --hub) hub=1; shift ;;
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    *) echo "build-deb.sh: unknown option $1" >&2; exit 64 ;;
  esac
done
arch="$(dpkg --print-architecture)"
stage="$(mktemp -d /tmp/jiayuan-deb.XXXXXX)"
trap 'rm -rf "$stage"' EXIT

if [ "$hub" = 1 ]; then
  exec bash kiosk/build-deb-hub.sh "$stage" "$binary" "$out" "$version" "$arch"
fi

args=(--root "$stage/root" --no-init)
[ -n "$binary" ] && args+=(--binary "$binary")
bash kiosk/install.sh "${args[@]}" > "$stage/install.log" 2>&1 || { cat "$stage/install.log" >&2; exit 1; }
pkg="$stage/root"
# Users, groups and /var/lib are made on the target by the maintainer scripts, not shipped.
rm -rf "$pkg/etc/passwd" "$pkg/etc/group" "$pkg/etc/shadow" "$pkg/etc/gshadow" "$pkg/etc/.pwd.lock" "$pkg/var" "$pkg"/etc/*-
# The udev rules name this machine's scanners by USB id: written on the target by postinst, not shipped.
rm -f "$pkg/etc/udev/rules.d/70-jiayuan-scanners.rules"
rmdir -p "$pkg/etc/udev/rules.d" 2>/dev/null || true
mkdir -p "$pkg/DEBIAN"
size="$(du -sk "$pkg" | cut -f1)"
cat > "$pkg/DEBIAN/control" <<EOF
Package: jiayuan
Version: $version
Architecture: $arch
Maintainer: Jiayuan Kiosk developers <kiosk@jiayuan.invalid>
Installed-Size: $size
Depends: libc6, libstdc++6, libsqlite3-0, libqrencode4, libcups2, libcurl4, zlib1g, tzdata, espeak-ng, systemd, curl
Recommends: cups, cups-client, cage, chromium, fonts-noto-cjk
Section: misc
Priority: optional
Description: 家园 Jiayuan home-centre check-in kiosk
 Check-in appliance for a neighbourhood home centre: signed QR membership cards, a resident touch
 screen with voice prompts, receipts through CUPS, a hash-chained attendance log in SQLite and exactly-once
 upload to the sub-district hub.
EOF
cat > "$pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
  systemd-sysusers /usr/lib/sysusers.d/jiayuan.conf
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/jiayuan.conf
  if [ ! -f /var/lib/jiayuan/jiayuan.toml ]; then
    id="$(hostname -s 2>/dev/null | tr -c 'A-Za-z0-9_\n-' '-' | cut -c1-64)"
    /usr/bin/jiayuan init --data /var/lib/jiayuan --kiosk-id "${id:-kiosk-1}" --config /usr/share/jiayuan/jiayuan.toml.example >/dev/null
    chown -R jiayuan:jiayuan /var/lib/jiayuan
  fi
  /usr/lib/jiayuan/scanner-rules >/dev/null || true
  udevadm control --reload 2>/dev/null || true
  udevadm trigger --subsystem-match=input --subsystem-match=tty 2>/dev/null || true
  # As install.sh: a raw retry-job queue for a USB receipt printer plugged in now (docs/install.md).
  if command -v lpinfo >/dev/null 2>&1 && ! lpstat -p jiayuan-receipt >/dev/null 2>&1; then
    uri="$(lpinfo -v 2>/dev/null | awk '$1 == "direct" && $2 ~ /^usb:\/\// { print $2; exit }' || true)"
    if [ -n "$uri" ] && lpadmin -p jiayuan-receipt -E -v "$uri" -o printer-error-policy=retry-job \
        -o printer-is-shared=false -D "Jiayuan receipt printer"; then
      sed -i 's|^target = "file:prints"|target = "cups:jiayuan-receipt"|' /var/lib/jiayuan/jiayuan.toml
    fi
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable jiayuan.service jiayuan-backup.timer jiayuan-display.service >/dev/null
    systemctl restart jiayuan.service || true
    systemctl start jiayuan-backup.timer || true
    systemctl restart jiayuan-display.service || true
  fi
fi
EOF
cat > "$pkg/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = "remove" ]; then
  systemctl disable --now jiayuan-display.service jiayuan.service jiayuan-backup.timer >/dev/null 2>&1 || true
fi
EOF
cat > "$pkg/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
[ -d /run/systemd/system ] && systemctl daemon-reload || true
if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
  rm -f /etc/udev/rules.d/70-jiayuan-scanners.rules
  udevadm control --reload 2>/dev/null || true
fi
# /var/lib/jiayuan (the attendance log, members, keys, backups) is kept, also on purge.
EOF
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/jiayuan_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$pkg" "$deb" >/dev/null
echo "$deb"
